"""Per-request access to the sandbox: the app's services, the caller's tenant and world.

Hot-path note: each use of Flask's `request`, `g` or `current_app` proxy costs about 1 µs (a context-variable
lookup and werkzeug's proxy machinery), and a Connect request used them ~120 times: a third of its CPU.
So the first before-request hook resolves the three once (`begin_call`) into a `Call` kept in a context
variable of our own, and the hooks, the bearer layer and these helpers read the real objects from it. The
objects are Flask's own: `g` and `request` mean exactly what they mean elsewhere.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import Request, current_app, g, request

from ..domain.tokens import SigningKey
from ..errors import DuplicateTenantHeader, InvalidRequest
from ..storage.worlds import DEFAULT_TENANT, WorldStore

TENANT_HEADER = "X-Sandbox-Tenant"
CONNECT_PREFIX = "/api/v1/connect/"
OPENEYES_PREFIX = "/api/v1/patient/"
CONTROLS_PREFIX = "/sandbox/"


@dataclass
class Sandbox:
    """The services one app holds: settings, the worlds, the signing key. Created by create_app only."""

    settings: dict
    store: WorldStore
    key: SigningKey
    extras: dict = field(default_factory=dict)


class Call(NamedTuple):
    """One request's real objects behind Flask's proxies."""

    request: Request
    g: Any  # flask.ctx._AppCtxGlobals
    sandbox: Sandbox


_call: contextvars.ContextVar[Call | None] = contextvars.ContextVar("opescare_sandbox_call", default=None)


def _resolve() -> Call:
    return Call(request._get_current_object(), g._get_current_object(), current_app.extensions["opescare_sandbox"])


def begin_call() -> None:
    """First before-request hook: resolve the proxies once for this request (reset by `end_call`)."""
    real = _resolve()
    real.g.call_token = _call.set(real)


def end_call() -> None:
    """Teardown: forget the request's objects (a nested request restores the outer one's)."""
    token = g.pop("call_token", None)
    if token is not None:
        try:
            _call.reset(token)
        except ValueError:  # set in another context (cannot happen under WSGI): the thread's next set wins
            _call.set(None)


def current() -> Call:
    """The request's real objects: from `begin_call`, else (outside the hooks: a CLI command, a test's own
    request context) resolved through Flask's proxies now."""
    call = _call.get()
    return _resolve() if call is None else call


def sandbox() -> Sandbox:
    call = _call.get()
    return call.sandbox if call is not None else current_app.extensions["opescare_sandbox"]


def tenant() -> str:
    request, g = current()[:2]
    if "tenant" not in g:
        name = request.headers.get(TENANT_HEADER, DEFAULT_TENANT).strip() or DEFAULT_TENANT
        if "," in name:  # the WSGI server joins a repeated header with ",": which one did the proxy pin?
            raise DuplicateTenantHeader(errors={TENANT_HEADER: ["Send this header exactly once."]})
        if not WorldStore.valid_tenant(name):
            raise InvalidRequest(
                "Bad X-Sandbox-Tenant header.",
                errors={TENANT_HEADER: ["Use 1-64 letters, digits, '-' or '_'."]},
            )
        g.tenant = name
    return g.tenant


def world():
    call = current()
    if "world" not in call.g:
        call.g.world = call.sandbox.store.world(tenant())
    return call.g.world


def check_tenant() -> None:
    """before_request hook: a bad X-Sandbox-Tenant header fails every request with 400, before any work."""
    tenant()


def required_scopes(call) -> tuple[str, ...] | None:
    """The scopes the request's view requires (None: no bearer token needed), looked up once per endpoint."""
    request = call.request
    known = call.sandbox.extras.setdefault("required_scopes", {})
    key = (request.endpoint, request.method)
    try:
        return known[key]
    except KeyError:
        view = current_app.view_functions.get(request.endpoint)
        handler = getattr(getattr(view, "view_class", None), request.method.lower(), None)
        scopes = getattr(handler, "required_scopes", None)
        if request.endpoint is not None and len(known) < 4096:  # routes x methods: bounded by the app
            known[key] = scopes
        return scopes
