"""Sandbox controls: the request journal of the caller's tenant (read, filter, clear)."""

from __future__ import annotations

from flask.views import MethodView

from ...schemas.common import ErrorSchema
from ...schemas.controls import JournalQuerySchema, JournalSchema
from ..context import sandbox, tenant
from .blueprint import admin_only, blp


@blp.route("/requests")
class Requests(MethodView):
    @blp.arguments(JournalQuerySchema, location="query")
    @blp.response(200, JournalSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Malformed filter")
    @admin_only
    def get(self, filters):
        """Recent requests of this tenant, newest first (filters: method, path prefix, status, client_id, limit)."""
        journal = sandbox().extras["journals"](tenant())
        entries = journal.query(**filters)
        return {"size": journal.entries.maxlen, "count": len(entries), "data": entries}

    @blp.response(204)
    @admin_only
    def delete(self):
        """Clear this tenant's request journal."""
        sandbox().extras["journals"](tenant()).clear()
