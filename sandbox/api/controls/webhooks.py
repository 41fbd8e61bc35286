"""Sandbox controls for webhooks: inspect every delivery attempt, fire any event, run due retries now."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import deliveries, webhooks
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
        """Every event, newest first, with each delivery and every attempt (filters: event_id, status, type)."""
        return {"data": deliveries.report(world(), query.get("event_id"), query.get("status"), query.get("type"),
                                          query["limit"])}


@blp.route("/webhooks/trigger")
class Trigger(MethodView):
    @blp.arguments(TriggerRequestSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Missing type or data not an object")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: unknown event type")
    @admin_only
    def post(self, body):
        """Fire an event now, as production would; matching subscriptions get it in the background."""
        return webhooks.trigger_event(world(), body["type"], body["data"], body["facility_id"])


@blp.route("/webhooks/retry-pending")
class RetryPending(MethodView):
    @blp.response(200, RetryPendingSchema)
    @admin_only
    def post(self):
        """Run every due delivery now (waits for them); advance the clock first to skip the retry schedule."""
        return sandbox().extras["webhooks"].run_due(tenant())
