"""The HTTP layer: one flask-smorest blueprint per resource. Views parse, call the domain, serialise."""

from . import auth, controls, openeyes

# Registration order is the order of the tags in the OpenAPI document and the playground.
BLUEPRINTS = (
    auth.blp,
    openeyes.blp,
    controls.blp,
)
