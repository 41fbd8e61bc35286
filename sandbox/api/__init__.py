"""The HTTP layer: one flask-smorest blueprint per resource. Views parse, call the domain, serialise."""

from . import auth, consent, controls, inventory, openeyes, patients, reconciliation, records, webhooks

# Registration order is the order of the tags in the OpenAPI document and the playground.
# Sandbox controls live in several modules (api/controls/) that all add their routes to the one
# "Sandbox controls" blueprint, so the document has one tag for them.
BLUEPRINTS = (
    auth.blp,
    patients.blp,
    consent.blp,
    records.blp,
    inventory.blp,
    webhooks.blp,
    reconciliation.blp,
    openeyes.blp,
    controls.blp,
)
