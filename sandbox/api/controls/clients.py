"""Sandbox controls: create client credentials with chosen scopes and facility, and list them."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import clients
from ...schemas.common import ErrorSchema
from ...schemas.controls import (
    ClientListSchema,
    ClientRequestSchema,
    CreatedClientSchema,
)
from ..context import world
from .blueprint import admin_only, blp


@blp.route("/clients")
class Clients(MethodView):
    @blp.response(200, ClientListSchema)
    @admin_only
    def get(self):
        """The tenant's clients (fixtures and created ones), without secrets."""
        return {"data": clients.list_clients(world())}

    @blp.arguments(ClientRequestSchema)
    @blp.response(201, CreatedClientSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Malformed body or unknown scope")
    @blp.alt_response(404, schema=ErrorSchema, description="facility_not_found")
    @blp.alt_response(409, schema=ErrorSchema, description="duplicate_client: this client_id exists")
    @admin_only
    def post(self, body):
        """Create client credentials (the secret is shown only in this response)."""
        return clients.create_client(world(), body["scopes"], body.get("facility_id"), body.get("client_id"),
                                     body.get("client_secret"), body.get("name"))
