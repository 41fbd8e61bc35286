"""The HTTP layer: one flask-smorest blueprint per resource. Views parse, call the domain, serialise."""

from . import auth, controls, webhook_controls, webhooks

# Registration order is the order of the tags in the OpenAPI document and the playground.
BLUEPRINTS = (
    auth.blp,
    webhooks.blp,
    controls.blp,
    webhook_controls.blp,
)
