"""Sandbox controls for what a webhook receiver meets in production: a secret rotation, adversarial deliveries."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import chaos, rotation
from ...schemas.common import ErrorSchema
from ...schemas.faults import ChaosResponseSchema, ChaosSchema, RotateSecretRequestSchema, RotateSecretSchema
from ..context import sandbox, world
from .blueprint import admin_only, blp


@blp.route("/webhooks/subscriptions/<string:subscription_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.arguments(RotateSecretRequestSchema, required=False)
    @blp.response(200, RotateSecretSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="subscription_not_found")
    @admin_only
    def post(self, body, subscription_id):
        """Issue a new signing secret; for the grace window deliveries carry both v1= signatures (new, old)."""
        grace = body.get("grace_seconds", int(sandbox().settings["WEBHOOK_ROTATION_GRACE_SECONDS"]))
        return rotation.rotate_secret(world(), subscription_id, grace)


@blp.route("/webhooks/subscriptions/<string:subscription_id>/chaos")
class DeliveryChaos(MethodView):
    @blp.arguments(ChaosSchema)
    @blp.response(200, ChaosResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="A bad value")
    @blp.alt_response(404, schema=ErrorSchema, description="subscription_not_found")
    @admin_only
    def put(self, body, subscription_id):
        """Bend this subscription's deliveries: duplicates, reordering, delays, wrongly signed and stale probes."""
        return chaos.set_chaos(world(), subscription_id, body)
