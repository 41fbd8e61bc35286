"""Request hooks around every view: tenant hold and idle expiry, admin token, simulation, rate-limit headers, journal.

Order (registered after `check_tenant`): hold the tenant (it cannot expire mid-request) and maybe sweep
idle tenants; require the admin token on /sandbox/*; apply `Prefer` (delay, then code) on Connect and
OpenEyes paths. The delay sleeps here, before the view runs and before any world lock is taken, so a
slow simulated response never holds up another client. After the view: rate-limit headers, then the
journal entry; on teardown the tenant is released.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time

from flask import Flask, current_app, g, request

from ..domain import clock, events
from ..errors import AdminTokenRequired, RateLimitExceeded
from ..runtime.expiry import IdleSweeper
from ..runtime.ratelimit import RateLimiter
from ..runtime.simulation import QUERY_PARAMETER, parse, simulated_error
from ..storage.journal import Journals, body_excerpt, query_excerpt
from ..storage.snapshots import Snapshots
from .context import sandbox, tenant, world

log = logging.getLogger(__name__)

CONNECT_PREFIX = "/api/v1/connect/"
OPENEYES_PREFIX = "/api/v1/patient/"
CONTROLS_PREFIX = "/sandbox/"
OPEN_CONTROLS = ("/sandbox/health",)  # no admin token needed: readiness checks
UNJOURNALED = ("/sandbox/requests", "/sandbox/health")  # reading the journal must not fill it; polling is noise
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REQUEST_ID_HEADER = "X-Request-Id"
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # anything else: the server's own id instead
OPENEYES_BODIES = {401: "401 Unauthorized", 403: "403 Forbidden"}


def register_hooks(app: Flask) -> None:
    """Create the per-app services the hooks and the controls share, and register the after/teardown hooks.

    The before-request hooks of this module run in the one ordered pipeline of `opescare_sandbox.app`.
    """
    services = sandbox_services(app)
    store = app.extensions["opescare_sandbox"].store
    store.drop_listeners.append(services["journals"].drop)
    limiter = services["rate_limiter"]
    if limiter is not None:
        store.drop_listeners.append(lambda name: limiter.forget(lambda key: key[0] == name))
    app.after_request(add_rate_limit_headers)
    app.after_request(record_in_journal)
    app.after_request(add_request_id)
    app.teardown_request(end_request)


def sandbox_services(app: Flask) -> dict:
    extras = app.extensions["opescare_sandbox"].extras
    settings, store = app.extensions["opescare_sandbox"].settings, app.extensions["opescare_sandbox"].store
    extras["journals"] = Journals(int(settings["JOURNAL_SIZE"]))
    extras["snapshots"] = Snapshots(store, now=clock.now_iso)
    extras["rate_limiter"] = RateLimiter(int(settings["RATE_LIMIT"])) if settings["RATE_LIMIT_ENABLED"] else None
    extras["sweeper"] = IdleSweeper(store, float(settings["TENANT_TTL"] or 0))
    return extras


# -- before ------------------------------------------------------------------------------------------
def begin_request() -> None:
    g.started = time.perf_counter()
    sandbox().store.hold(tenant())
    g.held = tenant()
    assign_request_id()
    sandbox().extras["sweeper"].maybe_sweep()


def assign_request_id() -> None:
    """The client's X-Request-Id when well-formed, else the tenant's next `req_…`; events and audit entries carry it."""
    g.journal_id = sandbox().extras["journals"](g.held).next_request_id()
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if CLIENT_REQUEST_ID.fullmatch(sent) else g.journal_id
    g.request_id_token = events.request_id.set(g.request_id)


def require_admin_token() -> None:
    expected = sandbox().settings.get("ADMIN_TOKEN")
    if not expected or not request.path.startswith(CONTROLS_PREFIX) or request.path in OPEN_CONTROLS:
        return
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), str(expected).encode()):
        raise AdminTokenRequired(headers={"WWW-Authenticate": 'Bearer realm="sandbox-admin"'})


def simulate():
    """`Prefer: delay=` sleeps (no lock held), `Prefer: code=` answers the documented error. State is untouched."""
    if not request.path.startswith((CONNECT_PREFIX, OPENEYES_PREFIX)):
        return None
    values = request.headers.getlist("Prefer") + request.args.getlist(QUERY_PARAMETER)
    if not values:
        return None
    preferences = parse(values, int(sandbox().settings["MAX_DELAY_MS"]))
    if preferences.delay_ms:
        time.sleep(preferences.delay_ms / 1000)
    if preferences.code is None:
        return None
    g.simulated = preferences.code
    if request.path.startswith(OPENEYES_PREFIX) and preferences.code in OPENEYES_BODIES:
        return openeyes_auth_failure(preferences.code)
    raise simulated_error(preferences.code)


def openeyes_auth_failure(code: int):
    """OpenEyes answers auth failures with a bare JSON string, not the Connect envelope."""
    response = current_app.response_class(json.dumps(OPENEYES_BODIES[code]), status=code, mimetype="application/json")
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="OpenEyes"'
    return response


# -- rate limit (called by the bearer layer once the token is verified) ---------------------------------
def limit_client(claims: dict) -> None:
    limiter = sandbox().extras.get("rate_limiter")
    if limiter is None:
        return
    decision = limiter.hit((tenant(), claims.get("client_id")))
    g.rate = decision
    if not decision.allowed:
        raise RateLimitExceeded(headers={"Retry-After": str(decision.retry_after)}, retry_after=decision.retry_after,
                                limit=decision.limit)


# -- after -------------------------------------------------------------------------------------------
def add_rate_limit_headers(response):
    limiter = sandbox().extras.get("rate_limiter")
    if limiter is None or not request.path.startswith(CONNECT_PREFIX):
        return response
    decision = g.get("rate")
    response.headers["X-RateLimit-Limit"] = str(limiter.limit)
    # A request no client was identified for (token endpoint, missing token) counts against nobody.
    response.headers["X-RateLimit-Remaining"] = str(decision.remaining if decision else limiter.limit)
    return response


def record_in_journal(response):
    path = request.path
    if "held" not in g or not path.startswith(("/api/", CONTROLS_PREFIX)) or path.rstrip("/") in UNJOURNALED:
        return response
    try:
        claims = g.get("claims") or {}
        sandbox().extras["journals"](g.held).record(entry_id=g.get("journal_id"), entry={
            "at": clock.isoformat(clock.now(world())),
            "method": request.method,
            "path": path,
            "query": query_excerpt(request.query_string.decode("utf-8", "replace")),
            "status": response.status_code,
            "client_id": claims.get("client_id"),
            "request_id": g.get("request_id"),
            "duration_ms": round((time.perf_counter() - g.started) * 1000, 3),
            "request_body": _request_body(),
            "response_body": None if response.is_streamed or response.direct_passthrough
            else body_excerpt(response.get_data()),
        })
    except Exception:  # the journal is a debugging aid: never fail the request over it
        log.exception("could not journal %s %s", request.method, path)
    return response


def add_request_id(response):
    """Every response names its request; a 204 also loses the Content-Type Flask gives it (no body to type)."""
    request_id = g.get("request_id") or sandbox().extras["journals"].untenanted_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    if response.status_code in (204, 304):
        response.headers.pop("Content-Type", None)
    return response


def _request_body() -> str | None:
    if not request.content_length and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        # No body (RFC 9112 §6.3). Reading anyway would wait on the server's input stream for nothing:
        # granian marks input as terminated, so werkzeug reads it to its end, a round trip per request.
        return None
    if request.mimetype in FORM_TYPES:
        return body_excerpt(b"", request.form.to_dict())
    if request.content_length and request.content_length > int(sandbox().settings["MAX_CONTENT_LENGTH"]):
        return None  # refused as 413: never read it
    return body_excerpt(request.get_data(cache=True))


def end_request(_exc=None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            events.request_id.reset(token)
        except ValueError:  # set in another context (cannot happen under WSGI): leave it, the thread's next set wins
            pass
    held = g.pop("held", None)
    if held is not None:
        sandbox().store.release(held)
