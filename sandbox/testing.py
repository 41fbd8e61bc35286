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

from werkzeug.serving import WSGIRequestHandler, make_server

from . import testing_journal
from .api.context import OPENEYES_PREFIX, TENANT_HEADER  # noqa: F401 (testing_clients imports them from here)
from .app import create_app
from .domain import clock, deliveries, scenarios, tokens
from .domain.seed import load_fixtures
from .runtime.ratelimit import RateLimiter
from .storage.worlds import DEFAULT_TENANT, WorldStore

DEMO_CLIENT_ID = "demo_dev_sandbox"
DEMO_CLIENT_SECRET = "demo_secret_sandbox_2026"
OPENEYES_AUTH = ("api_user", "password")  # the published OpenEyes sandbox user (role OprnApi)
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
        self.current = Settings()  # the running test's
        self.last_end: dict | None = None  # what the end of the last test cancelled (the dispatcher's answer)

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
        self.current = settings

    def end(self) -> None:
        """The end of a test: its pending and in-flight deliveries are cancelled, so the next never waits on them."""
        dispatcher = self.services.extras["webhooks"]
        if dispatcher.threads() or any(deliveries.has_pending(self.world(t)) for t in self.store.tenants()):
            self.last_end = dispatcher.cancel_all()
        else:  # the usual case, kept to a few microseconds
            self.last_end = {"cancelled": [], "dropped": 0, "cut": 0, "busy": 0}

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

    def deliveries(self, tenant: str = DEFAULT_TENANT, flush: bool = True, **filters) -> DeliveryReport:
        """The report of GET /sandbox/webhooks/deliveries; first runs due deliveries and waits (retry-pending)."""
        ran = self.services.extras["webhooks"].run_due(tenant) if flush else None
        return DeliveryReport(deliveries.report(self.world(tenant), filters.get("event_id"), filters.get("status"),
                                                filters.get("type"), filters.get("limit", 100),
                                                filters.get("request_id")), ran)

    def requests(self, tenant: str = DEFAULT_TENANT, **filters) -> list[dict]:
        """The tenant's request journal, oldest first, filtered (method, path: exact or `prefix*`, status)."""
        entries = self.services.extras["journals"](tenant).query()  # under the journal's lock, newest first
        return testing_journal.select(entries[::-1], **filters)

    def exchange(self) -> str:
        """This test's requests, events and deliveries, every tenant: the failure report's section."""
        tenants = self.store.tenants()
        journals = {t: self.services.extras["journals"](t).query()[::-1] for t in tenants}
        events = {t: list(reversed(deliveries.report(self.world(t), limit=50))) for t in tenants}
        return testing_journal.exchange_text(journals, events)

    def advance_clock(self, seconds: float, tenant: str = DEFAULT_TENANT) -> dict:
        return clock.change(self.world(tenant), advance_seconds=seconds)

    def set_clock(self, when: str | datetime, frozen: bool | None = None, tenant: str = DEFAULT_TENANT) -> dict:
        instant = clock.parse_iso(when) if isinstance(when, str) else when
        return clock.change(self.world(tenant), instant=instant, frozen=frozen)


class DeliveryReport(list):
    """The events of GET /sandbox/webhooks/deliveries (newest first, each with its deliveries and attempts).

    `.json` is that endpoint's whole body; `.run` what POST /sandbox/webhooks/retry-pending answered
    (None when not flushed)."""

    def __init__(self, events: list[dict], run: dict | None = None):
        super().__init__(events)
        self.run = run

    @property
    def json(self) -> dict:
        return {"data": list(self)}


def _seeded_client(world, client_id: str) -> bool:
    """True while the tenant's client is the template's document itself (never created, changed or deleted)."""
    found = world["clients"].first("client_id", client_id)
    return found is not None and world.template is not None and found is world.template["clients"].first(
        "client_id", client_id)


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
