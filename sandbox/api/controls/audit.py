"""Sandbox control: read the audit trail of resolves, verifies and searches (GET /sandbox/audit)."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import audit, health_ids
from ...schemas.audit import AuditListSchema, AuditQuerySchema
from ...schemas.common import ErrorSchema
from ..context import world
from .blueprint import admin_only, blp


@blp.route("/audit")
class AuditTrail(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditListSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Bad filter or limit")
    @admin_only
    def get(self, query):
        """The audit trail, newest first (filter by action, health_id, client_id)."""
        if query.get("health_id"):
            query["health_id"] = health_ids.normalise(query["health_id"])
        return {"data": audit.entries(world(), **query)}
