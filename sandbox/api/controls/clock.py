"""Sandbox controls: read, set or advance the caller's tenant clock (consent and token expiry follow it)."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import clock
from ...schemas.common import ErrorSchema
from ...schemas.controls import HUNDRED_YEARS, ClockRequestSchema, ClockSchema
from ..context import world
from .blueprint import admin_only, blp

# The body takes one of two forms, which a marshmallow schema cannot say in OpenAPI: advance, or set.
_FROZEN = {"type": "boolean", "description": "Stop (true) or restart (false) the clock; absent keeps its mode."}
_FORMS = {
    "advance_seconds": {"type": "number", "minimum": -HUNDRED_YEARS, "maximum": HUNDRED_YEARS, "example": 3600,
                        "description": "Move the clock by this many seconds (negative: back)."},
    "now": {"type": "string", "format": "date-time", "example": "2027-01-01T00:00:00Z", "maxLength": 64,
            "pattern": r"^(197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-",
            "description": "ISO-8601 instant, year 1971-9998."},
}
CLOCK_BODY = {"required": True, "content": {"application/json": {"schema": {"oneOf": [
    {"type": "object", "required": [name], "properties": {name: form, "frozen": _FROZEN},
     "not": {"required": [other]}} for (name, form), other in zip(_FORMS.items(), ("now", "advance_seconds"))]}}}}


@blp.route("/clock")
class Clock(MethodView):
    @blp.response(200, ClockSchema)
    @admin_only
    def get(self):
        """The tenant's sandbox time."""
        return clock.state(world())

    @blp.arguments(ClockRequestSchema)
    @blp.doc(requestBody=CLOCK_BODY)
    @blp.response(200, ClockSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Neither or both of advance_seconds and now, or a bad value")
    @admin_only
    def post(self, body):
        """Advance the clock (`advance_seconds`) or set it (`now`); `frozen` stops or restarts it."""
        return clock.change(world(), body.get("advance_seconds"), body.get("instant"), body.get("frozen"))
