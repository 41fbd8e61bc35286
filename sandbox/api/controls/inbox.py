"""Sandbox controls: a webhook inbox in the sandbox itself, for visitors with no public receiver."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from ...domain import inbox
from ...schemas.common import ErrorSchema
from ...schemas.inbox import EXAMPLE_ID, InboxContentSchema, InboxSchema
from ..blueprint import path_example
from ..context import world
from .blueprint import admin_only, blp


@blp.route("/inbox")
class Inboxes(MethodView):
    @blp.response(201, InboxSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="inbox_limit: the tenant has 20 inboxes")
    @admin_only
    def post(self):
        """Create an inbox; subscribe its `url` and deliveries land here, signed, without leaving the server."""
        return inbox.create_inbox(world(), request.host_url)


@blp.route("/inbox/<inbox_id>", parameters=[path_example("inbox_id", EXAMPLE_ID, "An id from POST /sandbox/inbox")])
class InboxById(MethodView):
    @blp.response(200, InboxContentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="inbox_not_found (also another tenant's)")
    @admin_only
    def get(self, inbox_id):
        """What arrived, newest first: headers, body and whether the signature is valid."""
        return inbox.get_inbox(world(), inbox_id)
