"""Sandbox control: grade a client's integration from what it did (GET /sandbox/report; docs/report.md)."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import deliveries
from ...runtime.grading import grade
from ...schemas.common import ErrorSchema
from ...schemas.report import ReportQuerySchema, ReportSchema
from ..context import sandbox, tenant, world
from .blueprint import admin_only, blp


@blp.route("/report")
class IntegrationReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Bad client_id")
    @admin_only
    def get(self, query):
        """The integration report of one client: a dozen production behaviours, each pass, fail or not exercised."""
        log = sandbox().extras["exchanges"]
        client_id = query.get("client_id") or log.busiest(tenant())
        exchanges = log.of(tenant(), client_id) if client_id else []
        sent = [deliveries.describe(doc) | {"probe": doc.get("probe")}
                for doc in world()["deliveries"].all() if client_id and doc.get("client_id") == client_id]
        checks = grade(exchanges, sent)
        summary = {status: sum(1 for c in checks if c.status == status) for status in ("pass", "fail", "not_exercised")}
        return {"client_id": client_id,
                "window": {"from_": exchanges[0].at if exchanges else None, "to": exchanges[-1].at if exchanges else None},
                "checks": [vars(check) for check in checks],
                "summary": {"pass_": summary["pass"], "fail": summary["fail"], "not_exercised": summary["not_exercised"]}}
