"""Sandbox controls for webhooks: inspect every delivery attempt, fire any event, run due retries now."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import deliveries, triggers
from ...schemas.common import ErrorSchema
from ...schemas.webhooks import (
    DeliveriesQuerySchema,
    DeliveriesReportSchema,
    EventSchema,
    RetryPendingSchema,
    TriggerRequestSchema,
)
from ..context import sandbox, tenant, world
from .blueprint import admin_only, blp


@blp.route("/webhooks/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveriesQuerySchema, location="query")
    @blp.response(200, DeliveriesReportSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Bad filter")
    @admin_only
    def get(self, query):
        """Every event, newest first, with each delivery and every attempt (filters: event_id, status, type, request_id)."""
        return {"data": deliveries.report(world(), query.get("event_id"), query.get("status"), query.get("type"),
                                          query["limit"], query.get("request_id"))}


@blp.route("/webhooks/trigger")
class Trigger(MethodView):
    @blp.arguments(TriggerRequestSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Missing or unknown type, or a malformed pick")
    @blp.alt_response(404, schema=ErrorSchema, description="A picked patient, facility or record does not exist")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: the picked records cannot produce "
                      "this event (e.g. no active consent to revoke, no scheduled appointment to check in)")
    @admin_only
    def post(self, body):
        """Make the event's real cause happen now (the world changes), and fire it; `data` only picks the records."""
        picks = {**body["data"], **({"facility_id": body["facility_id"]} if body["facility_id"] else {})}
        return triggers.fire(world(), body["type"], picks)


@blp.route("/webhooks/retry-pending")
class RetryPending(MethodView):
    @blp.response(200, RetryPendingSchema)
    @admin_only
    def post(self):
        """Run every due delivery now (waits for them); advance the clock first to skip the retry schedule."""
        return sandbox().extras["webhooks"].run_due(tenant())
