"""Sandbox controls: read, set or advance the caller's tenant clock (consent and token expiry follow it)."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import clock
from ...schemas.common import ErrorSchema
from ...schemas.controls import ClockRequestSchema, ClockSchema
from ..context import world
from .blueprint import admin_only, blp


@blp.route("/clock")
class Clock(MethodView):
    @blp.response(200, ClockSchema)
    @admin_only
    def get(self):
        """The tenant's sandbox time."""
        return clock.state(world())

    @blp.arguments(ClockRequestSchema)
    @blp.response(200, ClockSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Neither or both of advance_seconds and now, or a bad value")
    @admin_only
    def post(self, body):
        """Advance the clock (`advance_seconds`) or set it (`now`); `frozen` stops or restarts it."""
        return clock.change(world(), body.get("advance_seconds"), body.get("instant"), body.get("frozen"))
