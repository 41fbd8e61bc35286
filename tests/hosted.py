"""Helpers of the public-profile tests (tests/test_hosted_*.py): server environments and a visitor with a tenant."""

from __future__ import annotations

import base64
import itertools
import socket
import threading

import requests

from tests.conftest import DEMO_CLIENT

ADMIN = "hosted-admin-token-0123456789"
SUBSCRIPTIONS = "/api/v1/connect/webhooks/subscriptions"
TOKEN_URL = "/api/v1/connect/auth/token"
OPENEYES_SEARCH = "/api/v1/patient/search"
_names = itertools.count(1)

# SANDBOX_BEHIND_PROXY=1: these servers stand for the workers the cluster launcher starts behind HAProxy.
PUBLIC = {"SANDBOX_PUBLIC": "1", "SANDBOX_BEHIND_PROXY": "1", "SANDBOX_ADMIN_TOKEN": ADMIN}
# Receivers on this machine are loopback addresses, which the public profile refuses: these tests allow
# 127.0.0.1 explicitly, as an operator would allow an internal receiver.
PUBLIC_WITH_LOCAL_RECEIVERS = {**PUBLIC, "SANDBOX_WEBHOOK_ALLOW": "127.0.0.1/32"}
LOCAL_WITH_ADMIN = {"SANDBOX_ADMIN_TOKEN": ADMIN}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class Visitor:
    """One playground visitor: an unguessable tenant name on a server, and a token in that tenant."""

    def __init__(self, url: str, tenant: str | None = None):
        self.url, self.tenant = url, tenant or f"visitor-{next(_names)}-{threading.get_ident() % 10_000}"
        self.session = requests.Session()
        self.session.headers["X-Sandbox-Tenant"] = self.tenant
        self._token = None

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.session.request(method, self.url + path, **kwargs)

    def token(self) -> str:
        if self._token is None:
            answer = self.request("POST", TOKEN_URL, json={"grant_type": "client_credentials", **DEMO_CLIENT})
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return self._token

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token()}"}

    def subscribe(self, url: str, events=("patient.created",)) -> requests.Response:
        return self.request("POST", SUBSCRIPTIONS, headers=self.auth,
                            json={"callback_url": url, "subscribed_events": list(events)})

    def trigger(self, event_type: str = "patient.created") -> requests.Response:
        return self.request("POST", "/sandbox/webhooks/trigger", json={"type": event_type, "data": {"n": 1}})

    def deliveries(self) -> list[dict]:
        events = self.request("GET", "/sandbox/webhooks/deliveries").json()["data"]
        return [d for e in events for d in e["deliveries"]]


class SilentReceiver:
    """Accepts TCP connections (the kernel's backlog does) and never answers: a dead receiver."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=1024)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/dead"

    def close(self) -> None:
        self.sock.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
