"""Probe endpoints on Connect and OpenEyes paths, for testing the hooks before the real endpoints exist."""

from __future__ import annotations

from flask import Blueprint

CONNECT_PROBE = "/api/v1/connect/probe"
OPENEYES_PROBE = "/api/v1/patient/probe"


def add_probes(app):
    """GET /api/v1/connect/probe (needs a token), POST .../probe/audit (writes a row), GET /api/v1/patient/probe."""
    from opescare_sandbox.api.context import world
    from opescare_sandbox.api.security import bearer_claims

    probes = Blueprint("probes", __name__)

    @probes.get(CONNECT_PROBE)
    def connect_probe():
        return {"client_id": bearer_claims()["client_id"]}

    @probes.post(CONNECT_PROBE + "/audit")
    def connect_write():
        bearer_claims()
        world()["audit"].insert({"action": "probe"})
        return {"audit_rows": len(world()["audit"])}, 201

    @probes.get(OPENEYES_PROBE)
    def openeyes_probe():
        return []

    app.register_blueprint(probes)
    return app
