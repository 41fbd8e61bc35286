"""Sandbox control: grade a client's integration from what it did (GET /sandbox/report; docs/report.md)."""

from __future__ import annotations

from flask.views import MethodView

from ...runtime.grading import report
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
        return report(sandbox().extras["exchanges"], world(), tenant(), query.get("client_id"))
