"""Turn each finished request into the exchange the integration report grades (runtime/exchanges.py)."""

from __future__ import annotations

import hashlib
import json
import time

import jwt

from ..domain import clock
from ..runtime.exchanges import Exchange
from .context import Call, required_scopes, world

RECORDS_WITH_LABS = ("all", "lab_results")


def record_exchange(response, entry: dict, call: Call) -> None:
    """After the journal entry `entry` is written: the same request, as the report's checks read it.

    `call` holds the request's real objects (api/context.py: no proxy per use)."""
    request, g, services = call
    if not request.path.startswith("/api/") or request.method == "OPTIONS":
        return
    claims = g.get("claims") or _refused_token_claims(request)
    # Parse the answer only where a check reads it (errors, tokens, resolves): not every records body.
    needed = response.status_code >= 400 or request.path.endswith(("/auth/token", "/patients/resolve"))
    answer = _json(response) if needed else None
    issued = _issued(answer) if request.path.endswith("/auth/token") and response.status_code == 200 else None
    client_id = claims.get("client_id") or (issued or {}).get("client_id") or _client_of_token_request(request)
    body = request.get_data(cache=True) if request.content_length else b""
    exchange = Exchange(
        id=entry["id"], at_ms=g.get("started", time.perf_counter()) * 1000, at=entry["at"],
        method=request.method, path=request.path, route=request.url_rule.rule if request.url_rule else request.path,
        status=response.status_code, error=answer.get("error") if isinstance(answer, dict) else None,
        retry_after=_number(response.headers.get("Retry-After")), fault=bool(g.get("simulated") or g.get("fault")),
        jti=claims.get("jti"), scopes=tuple(claims.get("scopes") or ()),
        required_scopes=_required_scopes(call), issued=issued, token_exp=claims.get("exp"),
        now=clock.now_ts(world()),
        idempotency_key=request.headers.get("Idempotency-Key"),
        body_sha256=hashlib.sha256(body).hexdigest() if body else None,
        health_id=_health_id(request), details=_details(request, answer))
    services.extras["exchanges"].record(g.held, client_id, exchange)


def _json(response):
    if response.is_streamed or response.mimetype != "application/json":
        return None
    try:
        return json.loads(response.get_data())
    except ValueError:
        return None


def _request_json(request) -> dict:
    data = request.get_json(silent=True) if request.is_json else None
    return data if isinstance(data, dict) else {}


def _issued(answer) -> dict | None:
    """The claims of a token the sandbox just issued (its own signature: nothing to verify here)."""
    try:
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    except (KeyError, TypeError, jwt.PyJWTError):
        return None
    return {"jti": claims.get("jti"), "exp": claims.get("exp"), "scopes": claims.get("scopes"),
            "client_id": claims.get("client_id")}


def _refused_token_claims(request) -> dict:
    """Whose token a refused request carried (an expired one above all: token_refresh judges what follows)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return {}
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) and isinstance(claims.get("client_id"), str) else {}


def _client_of_token_request(request) -> str | None:
    if not request.path.endswith("/auth/token"):
        return None
    if request.authorization and request.authorization.username:
        return request.authorization.username
    return request.form.get("client_id") or _request_json(request).get("client_id")


def _required_scopes(call: Call) -> tuple[str, ...]:
    request = call.request
    scopes = tuple(required_scopes(call) or ())
    if request.path.endswith("/records") and request.args.get("type", "all") in RECORDS_WITH_LABS:
        scopes += ("lab:results:read",)  # lab results are what the call is about (all includes them)
    return scopes


def _health_id(request) -> str | None:
    found = (request.view_args or {}).get("health_id") or _request_json(request).get("health_id")
    return found if isinstance(found, str) else None


def _details(request, answer) -> dict:
    if not request.path.endswith("/patients/resolve"):
        return {}
    body = _request_json(request)
    names = [str(body.get(k) or "").strip().lower() for k in ("first_name", "last_name", "date_of_birth")]
    answer = answer if isinstance(answer, dict) else {}
    return {"purpose": body.get("purpose"), "external_reference": body.get("external_reference"),
            "name": "|".join(names) if any(names) else None, "resolved": answer.get("health_id"),
            "candidates": answer.get("candidates")}


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
