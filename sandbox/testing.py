"""What the pytest plugin hands out: one app per session, a fresh world per test, cached tokens, a live server.

`sandbox/pytest_plugin.py` imports this module lazily (inside fixtures), so `pytest --help` never pays
for Flask. Everything here talks to the app's services directly (store, clock, tokens, dispatcher)
rather than over HTTP: helpers such as `token()` or `advance_clock()` then never show up in the
tenant's request journal, and cost microseconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from werkzeug.datastructures import Headers
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .domain import clock, deliveries, scenarios, tokens
from .domain.seed import load_fixtures
from .runtime.ratelimit import RateLimiter
from .storage.worlds import DEFAULT_TENANT, WorldStore

DEMO_CLIENT_ID = "demo_dev_sandbox"
DEMO_CLIENT_SECRET = "demo_secret_sandbox_2026"
OPENEYES_AUTH = ("api_user", "password")  # the published OpenEyes sandbox user (role OprnApi)
OPENEYES_PREFIX = "/api/v1/patient/"
TENANT_HEADER = "X-Sandbox-Tenant"
TOKEN_MARGIN = 60  # seconds: a cached token is handed out only while it has at least this long to live


@dataclass(frozen=True)
class Settings:
    """One test's world: seed and size (None: the session's), rate limit (None: off), scenario entry."""

    seed: int | None = None
    patients: int | None = None
    rate_limit: int | None = None
    scenario: dict | None = None


@dataclass(frozen=True)
class CachedToken:
    token: str
    not_before: float
    expires: float

    def usable_at(self, now: float) -> bool:
        return self.not_before - tokens.CLOCK_SKEW_SECONDS <= now < self.expires - TOKEN_MARGIN


class SandboxApp:
    """The session's app (in memory, rate limit off) and what resets it between tests."""

    def __init__(self, seed: int | None = None, patients: int | None = None):
        self.app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False,
                               "SEED": seed, "PATIENTS": patients})
        self.services = self.app.extensions["opescare_sandbox"]
        self.store: WorldStore = self.services.store
        self._tokens: dict[tuple, CachedToken] = {}

    def catalogue(self) -> list[dict]:
        """The scenario catalogue, as GET /sandbox/scenarios lists it."""
        return scenarios.catalogue(load_fixtures(str(self.services.settings["FIXTURES_DIR"])))

    def scenario(self, name: str) -> dict | None:
        return next((entry for entry in self.catalogue() if entry["name"] == name), None)

    def begin(self, settings: Settings) -> None:
        """Fresh state for a test: every tenant dropped (journal, snapshots, windows go with it), default re-made.

        Dropping is O(1) in memory: the next world is a new copy-on-write layer over the cached template.
        """
        for name in self.store.tenants():
            self.store.drop(name)
        seed = self.store.seed if settings.seed is None else settings.seed
        patients = self.store.patients if settings.patients is None else settings.patients
        if (seed, patients) != (self.store.seed, self.store.patients):
            self.store.reset(DEFAULT_TENANT, seed, patients)
        # The hooks read the limiter from the services on every request: a new one is a fresh request budget.
        self.services.extras["rate_limiter"] = RateLimiter(settings.rate_limit) if settings.rate_limit else None

    def close(self) -> None:
        self.services.extras["webhooks"].close()

    # -- helpers shared by both fixtures ---------------------------------------------------------
    def world(self, tenant: str = DEFAULT_TENANT):
        return self.store.world(tenant)

    def token(self, scope: str | None = None, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
              tenant: str = DEFAULT_TENANT) -> str:
        """An access token as POST /auth/token would issue it, reused while valid on the tenant's clock."""
        world = self.world(tenant)
        key = (tenant, client_id, client_secret, scope)
        cached, now = self._tokens.get(key), clock.now_ts(world)
        if cached is not None and cached.usable_at(now) and _seeded_client(world, client_id):
            return cached.token
        client = tokens.authenticate_client(world, client_id, client_secret)
        issued = tokens.issue_token(world, self.services.key, client, tokens.grant_scopes(client, scope), tenant)
        # Only clients as seeded are cached: one a test created or changed does not exist in the next test.
        if _seeded_client(world, client_id):
            self._tokens[key] = CachedToken(issued["access_token"], int(now), int(now) + issued["expires_in"])
        return issued["access_token"]

    def deliveries(self, tenant: str = DEFAULT_TENANT, flush: bool = True, **filters) -> list[dict]:
        """Webhook events newest first, each with its deliveries and attempts; first runs due deliveries and waits."""
        if flush:
            self.services.extras["webhooks"].run_due(tenant)
        return deliveries.report(self.world(tenant), filters.get("event_id"), filters.get("status"),
                                 filters.get("type"), filters.get("limit", 100), filters.get("request_id"))

    def advance_clock(self, seconds: float, tenant: str = DEFAULT_TENANT) -> dict:
        return clock.change(self.world(tenant), advance_seconds=seconds)

    def set_clock(self, when: str | datetime, frozen: bool | None = None, tenant: str = DEFAULT_TENANT) -> dict:
        instant = clock.parse_iso(when) if isinstance(when, str) else when
        return clock.change(self.world(tenant), instant=instant, frozen=frozen)


def _seeded_client(world, client_id: str) -> bool:
    """True while the tenant's client is the template's document itself (never created, changed or deleted)."""
    found = world["clients"].first("client_id", client_id)
    return found is not None and world.template is not None and found is world.template["clients"].first(
        "client_id", client_id)


class _Helpers:
    """What both fixtures expose: the world, tokens, the clock, deliveries, reset."""

    def __init__(self, core: SandboxApp, settings: Settings):
        self._core, self.settings = core, settings
        self.scenario = settings.scenario
        self.tenant = DEFAULT_TENANT
        self.client_id, self.client_secret = DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        self.openeyes_auth = OPENEYES_AUTH

    @property
    def app(self):
        return self._core.app

    @property
    def world(self):
        return self._core.world(self.tenant)

    def token(self, scope: str | None = None, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
              tenant: str | None = None) -> str:
        return self._core.token(scope, client_id, client_secret, tenant or self.tenant)

    def deliveries(self, flush: bool = True, **filters) -> list[dict]:
        return self._core.deliveries(self.tenant, flush, **filters)

    def advance_clock(self, seconds: float) -> dict:
        return self._core.advance_clock(seconds, self.tenant)

    def set_clock(self, when: str | datetime, frozen: bool | None = None) -> dict:
        return self._core.set_clock(when, frozen, self.tenant)

    def reset(self) -> None:
        """Back to the test's starting state (same seed, size and rate limit)."""
        self._core.begin(self.settings)


class SandboxClient(_Helpers):
    """The `sandbox` fixture: the Flask test client with the demo client's bearer token already attached."""

    def __init__(self, core: SandboxApp, settings: Settings):
        super().__init__(core, settings)
        self.client = core.app.test_client()

    def open(self, path: str, method: str = "GET", auth=True, **kwargs):
        """`auth=True`: Bearer for the demo client (HTTP Basic api_user on OpenEyes paths) unless an
        Authorization header is given; `auth=False`: none; a (user, password) tuple: HTTP Basic."""
        headers = Headers(kwargs.pop("headers", None) or {})
        if auth is True and "Authorization" not in headers:
            name = headers.get(TENANT_HEADER, DEFAULT_TENANT).strip() or DEFAULT_TENANT
            if path.startswith(OPENEYES_PREFIX):
                auth = OPENEYES_AUTH
            elif WorldStore.valid_tenant(name):  # a bad tenant name gets its 400 without a token
                headers["Authorization"] = f"Bearer {self._core.token(tenant=name)}"
        if auth is not True and auth is not False:
            kwargs["auth"] = auth
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs):
        return self.open(path, "POST", **kwargs)

    def put(self, path: str, **kwargs):
        return self.open(path, "PUT", **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open(path, "PATCH", **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open(path, "DELETE", **kwargs)

    def options(self, path: str, **kwargs):
        return self.open(path, "OPTIONS", **kwargs)

    def head(self, path: str, **kwargs):
        return self.open(path, "HEAD", **kwargs)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would flood the captured test output
        pass


class LiveServer:
    """The session's app served over real HTTP on 127.0.0.1 (a free port) by werkzeug, from a daemon thread."""

    starts = 0  # how many servers this process started (the plugin's tests check it is one per session)

    def __init__(self, core: SandboxApp):
        self.core = core
        self.server = make_server("127.0.0.1", 0, core.app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="opescare-sandbox-server", daemon=True)
        self.thread.start()
        LiveServer.starts += 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class SandboxServer(_Helpers):
    """The `sandbox_server` fixture: the live server's address and credentials, and the world behind it."""

    def __init__(self, server: LiveServer, settings: Settings):
        super().__init__(server.core, settings)
        self.url = server.url
        self.server = server

    def headers(self, scope: str | None = None) -> dict:
        """`{"Authorization": "Bearer <token>"}` for the demo client (for requests/httpx calls in the test itself)."""
        return {"Authorization": f"Bearer {self.token(scope)}"}
