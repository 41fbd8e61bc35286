"""Bearer-token authentication for the Connect endpoints, documented in the OpenAPI output as it is enforced."""

from __future__ import annotations

from functools import wraps

from ..domain import tokens
from ..errors import MissingToken, TokenInvalid
from ..schemas.common import ErrorSchema
from .context import current, required_scopes, tenant, world
from .faults import apply_armed_fault
from .hooks import limit_client


def bearer_claims() -> dict:
    """The verified claims of the request's bearer token (cached on `g`)."""
    request, g, services = current()
    if "claims" not in g:
        header = request.headers.get("Authorization", "")
        if not header.strip():
            raise MissingToken()
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenInvalid("Use the Bearer scheme: Authorization: Bearer <access_token>.")
        g.claims = tokens.verify_token(world(), services.key, token.strip(), tenant())
        limit_client(g.claims)  # after verification: only a real client is counted
    return g.claims


def requires_token(blp, *scopes: str):
    """Decorator: a valid bearer token holding `scopes`; adds security and 401/403 to the operation's docs."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            tokens.require_scopes(bearer_claims(), scopes)
            return view(*args, **kwargs)

        wrapper.required_scopes = scopes  # read by authenticate_first, survives the decorators above (wraps)

        documented = blp.doc(security=[{"oauth2": list(scopes)}, {"bearerAuth": []}])(wrapper)
        documented = blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired token")(documented)
        if scopes:
            documented = blp.alt_response(
                403, schema=ErrorSchema, description=f"Token lacks scope {' '.join(scopes)}"
            )(documented)
        return documented

    return decorator


def authenticate_first() -> None:
    """before_request: authenticate (401) and check scopes (403) before the body or query is parsed (400).

    flask-smorest parses arguments in the outer decorators, so without this a request with no token and
    a bad body would get 400 instead of 401. The view's own check stays as a second line (claims are cached).
    """
    scopes = required_scopes(current())
    if scopes is not None:
        tokens.require_scopes(bearer_claims(), scopes)
    return apply_armed_fault()  # armed faults meet only requests that got past authentication

