"""Sandbox controls (tag "Sandbox controls"): exist in no production API; one module per control, one blueprint."""

# isort: off
# Import order is route order in the OpenAPI document: health and reset first, as they always were.
from . import health, audit, clients, clock, requests, scenarios, snapshots, webhooks, report  # noqa: F401 (routes register)
from . import faults, patients_merge, webhook_faults, lab_amendments, certification  # noqa: F401 (faults a real integration meets)
from . import events  # noqa: F401 (routes register)
from . import inbox  # noqa: F401 (the playground's webhook receiver)

# isort: on
from .blueprint import blp

__all__ = ["blp"]
