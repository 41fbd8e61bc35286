"""Request hooks around every view: tenant hold and idle expiry, admin token, simulation, rate-limit headers, journal.

Order (`app.BEFORE_REQUEST`): believe X-Forwarded-For only from a trusted proxy; admit a new tenant (the
public profile's cap) and hold it (it cannot expire mid-request), maybe sweeping idle tenants; require
the admin token on /sandbox/*; then, after `authenticate_first`, apply `Prefer` (delay, then code) on
Connect and OpenEyes paths, for an authenticated caller only. The delay sleeps here, before the view
runs and before any world lock is taken, so a slow simulated response never holds up another client.
After the view: rate-limit headers, then the journal entry (api/journaling.py); on teardown the tenant is
released.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import time
from functools import partial

from flask import Flask, current_app, g, request

from ..domain import clock, events, tokens
from ..errors import AdminTokenRequired, RateLimitExceeded, SandboxError
from ..runtime.bounds import TenantAdmission
from ..runtime.delays import DelayedRequests
from ..runtime.egress import parse_networks
from ..runtime.exchanges import ExchangeLog
from ..runtime.expiry import IdleSweeper
from ..runtime.ratelimit import RateLimiter
from ..runtime.simulation import QUERY_PARAMETER, parse, simulated_error
from ..runtime.throttle import LoginThrottle
from ..storage.journal import Journals
from ..storage.snapshots import Snapshots
from . import auth, openeyes
from .context import CONNECT_PREFIX, CONTROLS_PREFIX, OPENEYES_PREFIX, current, end_call, sandbox, tenant, world
from .journaling import record_in_journal

OPEN_CONTROLS = ("/sandbox/health",)  # no admin token needed: readiness checks
# Public profile: controls that act beyond the caller's tenant live under this prefix and need the admin
# token; every other control works for whoever holds the tenant name (docs/hosted.md classes every route).
# None exists yet: every control of today and of this wave acts on its own tenant only.
GLOBAL_CONTROLS = ("/sandbox/admin/",)
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
    extras["journals"] = Journals(int(settings["JOURNAL_SIZE"]), int(settings.get("JOURNAL_BYTES") or 0))
    extras["snapshots"] = Snapshots(store, now=clock.now_iso, **_limit("limit", settings.get("MAX_SNAPSHOTS")))
    extras["admission"] = TenantAdmission(store, int(settings.get("MAX_TENANTS") or 0), float(settings["TENANT_TTL"] or 0))
    extras["rate_limiter"] = RateLimiter(int(settings["RATE_LIMIT"])) if settings["RATE_LIMIT_ENABLED"] else None
    extras["sweeper"] = IdleSweeper(store, float(settings["TENANT_TTL"] or 0))
    failures = int(settings.get("LOGIN_FAILURES") or 0)
    extras["login_throttle"] = LoginThrottle(failures) if failures else None
    extras["delayed"] = DelayedRequests(int(settings.get("MAX_DELAYED_PER_TENANT") or 0))
    extras["trusted_proxies"] = parse_networks(str(settings.get("TRUSTED_PROXIES") or ""))
    extras["exchanges"] = ExchangeLog()
    store.drop_listeners.append(extras["exchanges"].forget)
    return extras


def _limit(name: str, value) -> dict:
    """A keyword argument only when a bound is configured: 0 keeps the component's own default."""
    return {name: int(value)} if value else {}


# -- before ------------------------------------------------------------------------------------------
def trust_forwarded_for() -> None:
    """Behind a proxy in SANDBOX_TRUSTED_PROXIES, the client is the last address it did not add itself."""
    request, _g, services = current()
    trusted = services.extras.get("trusted_proxies")
    if not trusted or not _in_networks(request.remote_addr, trusted):
        return  # anyone else's X-Forwarded-For is just a header
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in_networks(hop, trusted):
            request.environ["REMOTE_ADDR"] = request.remote_addr = hop  # werkzeug copied it at construction
            return


def _in_networks(address: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in networks)


def begin_request() -> None:
    request, g, services = current()
    g.started = time.perf_counter()
    name = tenant()
    services.extras["admission"].admit(name)  # public profile: a new tenant needs room (429 tenant_limit)
    services.store.hold(name)
    g.held = name
    assign_request_id(request, g, services)
    services.extras["sweeper"].maybe_sweep()


def assign_request_id(request, g, services) -> None:
    """The client's X-Request-Id when well-formed, else the tenant's next `req_…`; events and audit entries carry it."""
    g.journal_id = services.extras["journals"](g.held).next_request_id()
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if CLIENT_REQUEST_ID.fullmatch(sent) else g.journal_id
    g.request_id_token = events.request_id.set(g.request_id)


def require_admin_token() -> None:
    request, _g, services = current()
    if request.method == "OPTIONS":  # a CORS preflight carries no credentials, in any mode
        return
    if not request.path.startswith(CONTROLS_PREFIX) or request.path in OPEN_CONTROLS:
        return
    expected = services.settings.get("ADMIN_TOKEN")
    if services.settings.get("PUBLIC"):
        if not request.path.startswith(GLOBAL_CONTROLS):
            return  # per-tenant: the (unguessable) tenant name is the credential
        if not expected:
            raise AdminTokenRequired("This control acts on every tenant; the server has no admin token.")
    if not expected:
        return
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), str(expected).encode()):
        raise AdminTokenRequired(headers={"WWW-Authenticate": 'Bearer realm="sandbox-admin"'})


def may_list_tenants() -> bool:
    """Tenant names are credentials on a shared server: only the admin sees them (or anyone, locally, without one)."""
    expected = sandbox().settings.get("ADMIN_TOKEN")
    if not expected:
        return not sandbox().settings.get("PUBLIC")
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), str(expected).encode())


def simulate():
    """`Prefer: delay=` sleeps (no lock held), `Prefer: code=` answers the documented error. State is untouched.

    Only for an authenticated caller: an unauthenticated request never sleeps (it would be a free stall).
    """
    request, g, _services = current()
    if not request.path.startswith((CONNECT_PREFIX, OPENEYES_PREFIX)):
        return None
    if "HTTP_PREFER" not in request.environ and not request.query_string:
        return None  # most requests: nothing to look for (werkzeug's getlist walks the whole environ)
    values = request.headers.getlist("Prefer")
    if request.query_string:
        values += request.args.getlist(QUERY_PARAMETER)
    if not values:
        return None
    preferences = parse(values, int(sandbox().settings["MAX_DELAY_MS"]))
    if preferences.empty or not _authenticated():
        return None
    if preferences.delay_ms:
        delayed = sandbox().extras["delayed"]
        deferred = request.environ.get("asgi.scope", {}).get("opescare_sandbox.delay")
        if deferred is not None:  # under the ASGI front: it waits in its event loop, then frees the slot
            delayed.acquire(tenant())
            deferred.append((preferences.delay_ms / 1000, partial(delayed.release, tenant())))
        else:
            with delayed.slot(tenant()):
                time.sleep(preferences.delay_ms / 1000)
    if preferences.code is None:
        return None
    g.simulated = preferences.code
    if request.path.startswith(OPENEYES_PREFIX) and preferences.code in OPENEYES_BODIES:
        return openeyes_auth_failure(preferences.code)
    raise simulated_error(preferences.code)


def _authenticated() -> bool:
    """A verified bearer token (authenticate_first ran), OpenEyes Basic credentials, or a token request's client."""
    if g.get("claims"):
        return True
    try:
        if request.path.startswith(OPENEYES_PREFIX):
            return openeyes.basic_user() is not None
        if request.path == auth.TOKEN_PATH:
            return auth.token_client() is not None
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():  # verified, not cached: the view counts it for rate limits
            tokens.verify_token(world(), sandbox().key, token.strip(), tenant())
            return True
    except SandboxError:
        return False
    return False


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
    current().g.rate = decision
    if not decision.allowed:
        raise RateLimitExceeded(headers={"Retry-After": str(decision.retry_after)}, retry_after=decision.retry_after,
                                limit=decision.limit)


# -- after -------------------------------------------------------------------------------------------
def add_rate_limit_headers(response):
    request, g, services = current()
    limiter = services.extras.get("rate_limiter")
    if limiter is None or not request.path.startswith(CONNECT_PREFIX):
        return response
    decision = g.get("rate")
    response.headers["X-RateLimit-Limit"] = str(limiter.limit)
    # A request no client was identified for (token endpoint, missing token) counts against nobody.
    response.headers["X-RateLimit-Remaining"] = str(decision.remaining if decision else limiter.limit)
    return response


def add_request_id(response):
    """Every response names its request; a 204 also loses the Content-Type Flask gives it (no body to type)."""
    _request, g, services = current()
    request_id = g.get("request_id") or services.extras["journals"].untenanted_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    if response.status_code in (204, 304):
        response.headers.pop("Content-Type", None)
    return response


def end_request(_exc=None) -> None:
    _request, g, services = current()
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            events.request_id.reset(token)
        except ValueError:  # set in another context (cannot happen under WSGI): leave it, the thread's next set wins
            pass
    held = g.pop("held", None)
    if held is not None:
        services.store.release(held)
    end_call()
