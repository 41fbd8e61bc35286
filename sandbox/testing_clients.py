"""What a test holds: `sandbox` (an in-process client with a token attached) and `sandbox_server` (the live
server's address and credentials), with the helpers both share (tokens, clock, deliveries, the journal).

Imported lazily by the pytest plugin, like `testing`; helpers talk to the app's services, never over HTTP,
so they never show up in the tenant's request journal.
"""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import Headers

from . import testing_journal
from .domain import clock, webhooks
from .domain.events import EVENT_TYPES
from .runtime.faults import board_of
from .schemas.faults import FaultRequestSchema
from .storage.worlds import DEFAULT_TENANT, WorldStore
from .testing import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    OPENEYES_AUTH,
    OPENEYES_PREFIX,
    TENANT_HEADER,
    DeliveryReport,
    LiveServer,
    SandboxApp,
    Settings,
)


class _Helpers:
    """What both fixtures expose: the world, tokens, the clock, deliveries, the journal, subscriptions, reset.

    Later helpers (faults' `fail_next`, the integration `report()`) belong here too: one method each that
    talks to the app's services, so they never show up in the journal."""

    def __init__(self, core: SandboxApp):
        self._core = core
        self.tenant = DEFAULT_TENANT
        self.client_id, self.client_secret = DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        self.openeyes_auth = OPENEYES_AUTH

    @property
    def settings(self) -> Settings:
        return self._core.current

    @property
    def scenario(self) -> dict | None:
        return self._core.current.scenario

    @property
    def app(self):
        return self._core.app

    @property
    def world(self):
        return self._core.world(self.tenant)

    def token(self, scope: str | None = None, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
              tenant: str | None = None) -> str:
        return self._core.token(scope, client_id, client_secret, tenant or self.tenant)

    def deliveries(self, flush: bool = True, **filters) -> DeliveryReport:
        return self._core.deliveries(self.tenant, flush, **filters)

    def requests(self, method: str | None = None, path: str | None = None, status: int | None = None) -> list[dict]:
        """This test's requests, oldest first: journal entries (GET /sandbox/requests) that match every filter."""
        return self._core.requests(self.tenant, method=method, path=path, status=status)

    def assert_requested(self, method: str, path: str, times: int | None = None,
                         json=testing_journal.ANY) -> list[dict]:
        """Matching requests; AssertionError listing the near misses unless there were `times` (None: at least 1).
        `json=`: the request body, parsed, must equal it (the journal's text: secrets redacted, cut at 2 KB)."""
        return testing_journal.assert_requested(self._core.requests(self.tenant), method, path, times, json)

    def subscribe(self, callback_url: str, events: list[str] | None = None, client_id: str = DEMO_CLIENT_ID) -> dict:
        """A webhook subscription (every event type by default), as POST /webhooks/subscriptions answers it."""
        return webhooks.create_subscription(self.world, client_id, callback_url, list(events or EVENT_TYPES),
                                            "pytest fixture")

    def describe_deliveries(self, event_type: str | None = None) -> str:
        """One line per delivery (of this type) and its last attempt: for `wait_for`'s timeout message."""
        lines = [f"  the sandbox's deliveries{' of ' + event_type if event_type else ''}:"]
        for event in self.deliveries(flush=False, type=event_type, limit=20):
            lines += [f"    {event['type']} {event['id']} -> {d['url']}: {d['status']}, attempts "
                      f"{[a['error'] or a['status_code'] for a in d['attempts']]}" for d in event["deliveries"]]
        return "\n".join(lines) if len(lines) > 1 else lines[0] + " none (was the event recorded?)"

    def fail_next(self, path: str, status: int | None = None, times: int = 1, method: str = "*",
                  client_id: str | None = None, delay_ms: int | None = None, drop: bool = False) -> dict:
        """Arm a fault (POST /sandbox/faults): the next `times` requests matching `method` and `path` (`*`: one
        segment) get `status`'s documented error, wait `delay_ms`, or are dropped (ConnectionError)."""
        spec = {"path": path, "times": times, "method": method, "client_id": client_id, "status": status,
                "delay_ms": delay_ms, "drop": drop or None}
        body = FaultRequestSchema().load({key: value for key, value in spec.items() if value is not None})
        return board_of(self._core.services.extras, self._core.store).arm(
            self.tenant, body, clock.now_iso(self.world)).to_dict()

    def report(self, client_id: str | None = None) -> dict:
        """The integration report of a client (default: the busiest), as GET /sandbox/report answers it."""
        from .runtime.grading import report

        services = self._core.app.extensions["opescare_sandbox"]
        return report(services.extras["exchanges"], self.world, self.tenant, client_id)

    def assert_integration_passes(self, client_id: str | None = None) -> dict:
        """The report, or an AssertionError listing each failing check with its reason and evidence."""
        from .runtime.grading import failures

        body = self.report(client_id)
        if body["summary"]["fail"]:
            raise AssertionError(f"the integration report of {body['client_id']} has failing checks:\n{failures(body)}")
        return body

    def advance_clock(self, seconds: float) -> dict:
        return self._core.advance_clock(seconds, self.tenant)

    def set_clock(self, when: str | datetime, frozen: bool | None = None) -> dict:
        return self._core.set_clock(when, frozen, self.tenant)

    def reset(self) -> None:
        """Back to the test's starting state (same seed, size and rate limit); its deliveries are cancelled."""
        self._core.end()
        self._core.begin(self.settings)


class SandboxClient(_Helpers):
    """The `sandbox` fixture: the Flask test client with the demo client's bearer token already attached."""

    def __init__(self, core: SandboxApp):
        super().__init__(core)
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


class SandboxServer(_Helpers):
    """The `sandbox_server` fixture: the live server's address and credentials, and the world behind it."""

    def __init__(self, server: LiveServer):
        super().__init__(server.core)
        self.url = server.url
        self.server = server

    def headers(self, scope: str | None = None) -> dict:
        """`{"Authorization": "Bearer <token>"}` for the demo client (for requests/httpx calls in the test itself)."""
        return {"Authorization": f"Bearer {self.token(scope)}"}
