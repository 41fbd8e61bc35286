"""Sandbox control: a certification run arms what makes every report check exercisable (POST /sandbox/certification)."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import clock
from ...runtime.certification import certify
from ...schemas.common import ErrorSchema
from ...schemas.report import CertificationRequestSchema, CertificationSchema
from ..context import sandbox, tenant, world
from ..faults import fault_board
from .blueprint import admin_only, blp


@blp.route("/certification")
class Certification(MethodView):
    @blp.arguments(CertificationRequestSchema, required=False)
    @blp.response(201, CertificationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="not_found: no such client in this tenant")
    @admin_only
    def post(self, body):
        """Arm a 429, a 503, a consent refusal, a token expiry and signature probes for a client's next activity."""
        return certify(fault_board(), sandbox().extras["exchanges"], world(), tenant(), (body or {}).get("client_id"),
                       clock.now_iso(world()))
