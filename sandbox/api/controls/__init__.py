"""Sandbox controls (tag "Sandbox controls"): exist in no production API; one module per control, one blueprint."""

# isort: off
# Import order is route order in the OpenAPI document: health and reset first, as they always were.
from . import health, audit, clients, clock, requests, scenarios, snapshots, webhooks  # noqa: F401 (routes register)
from . import events  # noqa: F401 (routes register)

# isort: on
from .blueprint import blp

__all__ = ["blp"]
