"""Sandbox controls that exist in no production API: health and reset (tag "Sandbox controls").

The other controls live in `controls_*.py` modules and add their routes to this module's blueprint.
"""

from __future__ import annotations

import time

from flask.views import MethodView

from .. import __version__
from ..schemas.common import ErrorSchema
from ..schemas.controls import HealthSchema, ResetRequestSchema, ResetResponseSchema
from .blueprint import Blueprint
from .context import sandbox, tenant

blp = Blueprint("Sandbox controls", __name__, description="Set up and inspect the test world (not part of any production API)",
                url_prefix="/sandbox")

# Open unless the server has an admin token; then `Authorization: Bearer <admin token>` (the hooks enforce it).
ADMIN_SECURITY = [{"sandboxAdmin": []}, {}]


def admin_only(view):
    """Documents a control operation's admin-token security and its 401 (enforced in hooks.require_admin_token)."""
    documented = blp.doc(security=ADMIN_SECURITY)(view)
    return blp.alt_response(401, schema=ErrorSchema,
                            description="admin_token_required: the server has an admin token and it was not sent")(documented)


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self):
        """Readiness check."""
        store = sandbox().store
        return {"status": "ok", "version": __version__, "seed": store.seed, "patients": store.patients,
                "tenants": store.tenants()}


@blp.route("/reset")
class Reset(MethodView):
    @blp.arguments(ResetRequestSchema, required=False)
    @blp.response(200, ResetResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Bad seed or size")
    @admin_only
    def post(self, body):
        """Reset the caller's tenant to its seeded state (optionally with another seed or size)."""
        started = time.perf_counter()
        world = sandbox().store.reset(tenant(), body.get("seed"), body.get("patients"))
        meta = world.meta
        return {"status": "reset", "tenant": tenant(), "seed": meta["seed"], "patients": meta["patients"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 3)}


# The other controls register their routes on `blp` (imported last: they import it from here).
from . import (  # noqa: E402,F401
    audit,
    controls_clients,
    controls_clock,
    controls_requests,
    controls_scenarios,
    controls_snapshots,
    webhook_controls,
)
