"""The HTTP layer: one flask-smorest blueprint per resource. Views parse, call the domain, serialise."""

from . import audit, auth, consent, controls, patients, records

# Registration order is the order of the tags in the OpenAPI document and the playground.
BLUEPRINTS = (
    auth.blp,
    patients.blp,
    consent.blp,
    records.blp,
    controls.blp,
    audit.blp,
)
