"""Sandbox controls: amend a released lab result, as a laboratory corrects one after release."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import amendments
from ...schemas.amendments import AmendLabResultSchema
from ...schemas.common import ErrorSchema
from ...schemas.records import LabResultSchema
from ..context import world
from .blueprint import admin_only, blp


@blp.route("/patients/<string:health_id>/lab-results/<string:lab_result_id>/amend")
class AmendLabResult(MethodView):
    @blp.arguments(AmendLabResultSchema)
    @blp.response(200, LabResultSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="A bad value or flag")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: neither value nor flag to amend")
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found or lab_result_not_found")
    @admin_only
    def post(self, body, health_id, lab_result_id):
        """Amend a released lab result (value, flag, note): its version goes up; fires lab_result.amended."""
        return amendments.amend_lab_result(world(), health_id, lab_result_id, body)
