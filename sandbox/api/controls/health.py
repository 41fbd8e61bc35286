"""Sandbox controls: the readiness check and resetting a tenant's world."""

from __future__ import annotations

import time

from flask.views import MethodView

from ...runtime.bounds import check_patients
from ...schemas.common import ErrorSchema
from ...schemas.controls import HealthSchema, ResetRequestSchema, ResetResponseSchema
from ...version import __version__
from ..context import sandbox, tenant
from ..hooks import may_list_tenants
from .blueprint import admin_only, blp


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self):
        """Readiness check (tenant names only for the admin token, or on a local server without one)."""
        store = sandbox().store
        return {"status": "ok", "version": __version__, "seed": store.seed, "patients": store.patients,
                "tenants": store.tenants() if may_list_tenants() else [], "worker": _worker_index()}


def _worker_index() -> int | None:
    worker = sandbox().settings.get("WORKER")
    return None if worker in (None, "") else int(worker)


@blp.route("/reset")
class Reset(MethodView):
    @blp.arguments(ResetRequestSchema, required=False)
    @blp.response(200, ResetResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Bad seed or size")
    @blp.alt_response(422, schema=ErrorSchema, description="patient_limit: more patients than the server allows")
    @admin_only
    def post(self, body):
        """Reset the caller's tenant to its seeded state (optionally with another seed or size)."""
        started = time.perf_counter()
        check_patients(body.get("patients"), int(sandbox().settings.get("MAX_PATIENTS") or 0))
        world = sandbox().store.reset(tenant(), body.get("seed"), body.get("patients"))
        meta = world.meta
        return {"status": "reset", "tenant": tenant(), "seed": meta["seed"], "patients": meta["patients"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 3)}
