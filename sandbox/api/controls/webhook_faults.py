"""Sandbox controls for what a webhook receiver meets in production: a signing-secret rotation."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import rotation
from ...schemas.common import ErrorSchema
from ...schemas.faults import RotateSecretRequestSchema, RotateSecretSchema
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
