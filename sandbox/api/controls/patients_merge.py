"""Sandbox controls: merge two patients as a master patient index would; the merged Health ID becomes an alias."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import merges
from ...schemas.common import ErrorSchema
from ...schemas.merges import MergeRequestSchema, MergeResponseSchema
from ..context import world
from .blueprint import admin_only, blp


@blp.route("/patients/merge")
class PatientMerge(MethodView):
    @blp.arguments(MergeRequestSchema)
    @blp.response(200, MergeResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="A Health ID missing or blank")
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found: either ID is not registered")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: the same patient, or already merged")
    @admin_only
    def post(self, body):
        """Merge `merged_health_id` into `survivor_health_id` (records and consent combined; fires patient.updated)."""
        return merges.merge(world(), body["survivor_health_id"], body["merged_health_id"])
