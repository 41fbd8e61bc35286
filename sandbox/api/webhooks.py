"""Endpoints 10-12 and 14: webhook subscriptions and event replay (deliveries run in the background)."""

from __future__ import annotations

from flask.views import MethodView

from ..domain import inbox, webhooks
from ..schemas.common import ErrorSchema
from ..schemas.webhooks import (
    EXAMPLE_URL,
    CreatedSubscriptionSchema,
    ReplaySchema,
    SubscriptionListSchema,
    SubscriptionRequestSchema,
)
from .blueprint import Blueprint, path_example
from .context import sandbox, tenant, world
from .security import bearer_claims, requires_token

blp = Blueprint("Webhooks", __name__, description="Subscribe to events; signed deliveries with retries",
                url_prefix="/api/v1/connect/webhooks")


def dispatcher():
    return sandbox().extras["webhooks"]


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    # An example without `secret`: Swagger UI otherwise invents a random one on every load and subscribes with it.
    @blp.arguments(SubscriptionRequestSchema, example={
        "callback_url": EXAMPLE_URL, "subscribed_events": ["consent.granted", "encounter.created"],
        "description": "HIS integration"})
    @blp.response(201, CreatedSubscriptionSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Missing field, bad URL or bad secret; "
                      "callback_url_invalid (credentials, port, host), callback_url_forbidden (public profile)")
    @blp.alt_response(409, schema=ErrorSchema, description="duplicate_subscription: this client already has this URL")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: unknown event types; "
                                                           "subscription_limit: too many subscriptions")
    @requires_token(blp)
    def post(self, body):
        """Subscribe a callback URL to event types (the secret is shown only here)."""
        if not inbox.check_subscribable(world(), body["callback_url"]):  # an inbox is delivered in process
            dispatcher().egress.check_callback_url(body["callback_url"])  # public profile: public addresses only
        settings = sandbox().settings
        return webhooks.create_subscription(world(), bearer_claims()["client_id"], body["callback_url"],
                                            body["subscribed_events"], body["description"], body.get("secret"),
                                            per_client=int(settings["MAX_SUBSCRIPTIONS_PER_CLIENT"]),
                                            per_tenant=int(settings["MAX_SUBSCRIPTIONS_PER_TENANT"]))

    @blp.response(200, SubscriptionListSchema)
    @requires_token(blp)
    def get(self):
        """List your webhook subscriptions (without secrets)."""
        return {"data": webhooks.list_subscriptions(world(), bearer_claims()["client_id"])}


@blp.route("/subscriptions/<subscription_id>", parameters=[path_example(
    "subscription_id", "sub_b8311b9cc4471bdd3b26a176", "The first subscription created in a fresh default world has this id")])
class SubscriptionById(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="subscription_not_found (also another client's)")
    @requires_token(blp)
    def delete(self, subscription_id):
        """Unsubscribe (pending deliveries to it are cancelled)."""
        webhooks.delete_subscription(world(), bearer_claims()["client_id"], subscription_id)


@blp.route("/events/<event_id>/replay", parameters=[path_example(
    "event_id", "evt_f3112a62390603eda780856b", "The first event of a fresh default world (resolving Marie Fouda) has this id")])
class Replay(MethodView):
    @blp.response(200, ReplaySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="event_not_found")
    @requires_token(blp)
    def post(self, event_id):
        """Deliver a stored event again to your active subscriptions for its type."""
        replayed = webhooks.replay_event(world(), bearer_claims()["client_id"], event_id)
        if replayed["deliveries"]:
            dispatcher().notify(tenant())
        return replayed
