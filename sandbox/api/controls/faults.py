"""Sandbox controls: arm faults that the caller's next matching requests meet, list them, clear them."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import clock
from ...schemas.common import ErrorSchema
from ...schemas.faults import FaultListSchema, FaultRequestSchema, FaultSchema
from ..context import tenant, world
from ..faults import fault_board
from .blueprint import admin_only, blp


@blp.route("/faults")
class Faults(MethodView):
    @blp.response(200, FaultListSchema)
    @admin_only
    def get(self):
        """What is armed for this tenant, oldest first, with the requests each fault has met."""
        return {"data": fault_board().list(tenant())}

    @blp.arguments(FaultRequestSchema)
    @blp.response(201, FaultSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Not exactly one of status, delay_ms, drop; or a bad value")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: the tenant already holds 100 faults")
    @admin_only
    def post(self, body):
        """Arm a fault: the next `times` matching requests (after authentication) get it, and change no state."""
        return fault_board().arm(tenant(), body, clock.now_iso(world())).to_dict()

    @blp.response(204)
    @admin_only
    def delete(self):
        """Clear every fault of this tenant, armed or spent."""
        fault_board().clear(tenant())
