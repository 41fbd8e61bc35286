"""Endpoint 1: OAuth 2.0 client-credentials tokens, and the JWKS that verifies them."""

from __future__ import annotations

import base64
import binascii

import marshmallow as ma
from flask import request
from flask.views import MethodView

from ..domain import tokens
from ..errors import InvalidClient, InvalidRequest, UnsupportedGrantType
from ..schemas.auth import JwksSchema, TokenRequestSchema, TokenResponseSchema
from ..schemas.common import ErrorSchema
from .blueprint import Blueprint
from .context import sandbox, tenant, world
from .errors import flatten_messages

blp = Blueprint("Authentication", __name__, description="OAuth 2.0 client credentials (RS256 JWT access tokens)")

FORM = "application/x-www-form-urlencoded"
TOKEN_PATH = "/api/v1/connect/auth/token"


def read_token_request() -> dict:
    """The token request from a JSON or form body, with client_secret_basic credentials if sent."""
    if request.mimetype in (FORM, "multipart/form-data"):
        data = request.form.to_dict()
    else:
        data = request.get_json(silent=True)
        if data is None and request.get_data():
            raise InvalidRequest("The body is neither valid JSON nor a form.", errors={"body": ["Invalid JSON body."]})
        if not isinstance(data, dict):
            data = {} if data is None else data
    if not isinstance(data, dict):
        raise InvalidRequest(errors={"body": ["Send a JSON object or a form."]})
    data.update(_basic_credentials())
    try:
        return TokenRequestSchema().load(data)
    except ma.ValidationError as err:
        raise InvalidRequest("The token request is invalid; see errors.", errors=flatten_messages(err.messages)) from None


def _basic_credentials() -> dict:
    """RFC 6749 §2.3.1: OAuth clients may send their credentials as HTTP Basic instead of in the body."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return {}
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("Malformed HTTP Basic client credentials.") from None
    return {"client_id": client_id, "client_secret": secret}


def token_client() -> dict | None:
    """The client whose credentials this token request carries, if they are right (for `Prefer`; no throttle)."""
    try:
        body = read_token_request()
        return tokens.authenticate_client(world(), body["client_id"], body["client_secret"])
    except InvalidClient:
        return None


def authenticate_throttled(client_id: str, secret: str) -> dict:
    """Public profile: failures per client_id are counted; past the limit, 429 before the secret is even checked."""
    throttle = sandbox().extras.get("login_throttle")
    if throttle is not None:
        throttle.check((tenant(), "client", client_id))
    try:
        return tokens.authenticate_client(world(), client_id, secret)
    except InvalidClient:
        if throttle is not None:
            throttle.fail((tenant(), "client", client_id))
        raise


@blp.route(TOKEN_PATH)
class Token(MethodView):
    @blp.doc(
        security=[],
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": TokenRequestSchema,
                                     "example": {"grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
                                                 "client_secret": "demo_secret_sandbox_2026"}},
                FORM: {"schema": TokenRequestSchema},
            },
        },
    )
    @blp.response(200, TokenResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Malformed request or unsupported grant_type")
    @blp.alt_response(401, schema=ErrorSchema, description="invalid_client: unknown client or wrong secret")
    @blp.alt_response(403, schema=ErrorSchema, description="invalid_scope: a requested scope the client lacks")
    @blp.alt_response(429, schema=ErrorSchema, description="login_throttled (public profile): too many failures")
    def post(self):
        """Issue an access token (client_credentials grant)."""
        body = read_token_request()
        if body["grant_type"] != "client_credentials":
            raise UnsupportedGrantType()
        client = authenticate_throttled(body["client_id"], body["client_secret"])
        scopes = tokens.grant_scopes(client, body.get("scope"))
        issued = tokens.issue_token(world(), sandbox().key, client, scopes, tenant())
        return issued, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @blp.doc(security=[])
    @blp.response(200, JwksSchema)
    def get(self):
        """Public keys that verify the access tokens (JWKS)."""
        return sandbox().key.jwks()
