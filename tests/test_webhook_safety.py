"""Webhook safety over a real server: hostile receivers never block or crash it; secrets never leak.

Receivers here are raw sockets doing what a broken or malicious endpoint does: never answer, answer
garbage, hang up, dribble a byte at a time, or send an endless body. The server's delivery timeout is
1 s; meanwhile API calls must stay fast, a well-behaved receiver must still get its events, and every
secret (webhook secrets, client secrets, access tokens) must stay out of list endpoints, the deliveries
report, the request journal and the server's log.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from tests.conftest import DEMO_CLIENT
from tests.live_server import LiveServer
from tests.webhook_fixtures import Receiver

TIMEOUT = 1.0  # the server's SANDBOX_WEBHOOK_TIMEOUT
FAST = 0.5  # seconds: an API call slower than this while receivers misbehave counts as blocked
CUSTOM_SECRET = "my-own-webhook-secret-0123456789"


class HostileReceiver:
    """A TCP server whose every connection gets `behaviour(conn, stop)`; stops (and frees its threads) on close."""

    def __init__(self, behaviour):
        self.behaviour, self.stop = behaviour, threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            try:
                conn.settimeout(1)
                conn.recv(65536)
                self.behaviour(conn, self.stop)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()


def never_answers(conn, stop):
    stop.wait(60)


def answers_garbage(conn, stop):
    conn.sendall(b"\x00\xffNOT HTTP AT ALL\r\n\r\n" + bytes(range(256)))


def hangs_up(conn, stop):
    conn.shutdown(socket.SHUT_RDWR)


def dribbles_headers(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.wait(0.2):
        conn.sendall(b"a")


def dribbles_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while not stop.wait(0.2):
        conn.sendall(b"b")


def endless_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"z" * 0x10000 + b"\r\n"
    while not stop.is_set():
        conn.sendall(chunk)


def redirects_to_itself(conn, stop):
    conn.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /hook\r\nContent-Length: 0\r\n\r\n")


BEHAVIOURS = [never_answers, answers_garbage, hangs_up, dribbles_headers, dribbles_body, endless_body,
              redirects_to_itself]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"SANDBOX_WEBHOOK_TIMEOUT": str(TIMEOUT), "SANDBOX_WEBHOOK_INTERVAL": "0.1"}
    with LiveServer(tmp_path_factory.mktemp("webhooks"), env=env) as live:
        yield live


@pytest.fixture
def hostile():
    receivers = {b.__name__: HostileReceiver(b) for b in BEHAVIOURS}
    yield receivers
    for receiver in receivers.values():
        receiver.close()


@pytest.fixture
def good():
    receiver = Receiver()
    yield receiver
    receiver.close()


def subscribe(server, token, url, **extra) -> dict:
    answer = requests.post(server.url + "/api/v1/connect/webhooks/subscriptions", timeout=5,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"callback_url": url, "subscribed_events": ["patient.created"], **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def timed(call, *args, **kwargs):
    started = time.perf_counter()
    answer = call(*args, timeout=30, **kwargs)
    return answer, time.perf_counter() - started


def test_hostile_receivers_never_block_the_api_or_a_good_receiver(server, hostile, good):
    token = server.token()
    for receiver in hostile.values():
        for n in range(2):  # two each: more misbehaving deliveries than the server has delivery workers
            subscribe(server, token, f"{receiver.url}?n={n}")
    subscribe(server, token, good.url())
    slowest = 0.0
    for i in range(10):
        answer, seconds = timed(requests.post, server.url + "/sandbox/webhooks/trigger",
                                json={"type": "patient.created", "data": {"n": i}})
        assert answer.status_code == 201
        health, health_seconds = timed(requests.get, server.url + "/sandbox/health")
        assert health.status_code == 200
        slowest = max(slowest, seconds, health_seconds)
    assert slowest < FAST, f"an API call took {slowest:.2f} s while receivers misbehaved"
    # The good receiver gets all ten, within a few delivery timeouts, whatever the others do.
    assert len(good.wait(10, timeout=6 * TIMEOUT + 5)) == 10
    assert all(r.connections for r in hostile.values())


def test_retry_pending_returns_within_its_bound_with_hostile_receivers(server, hostile):
    """`retry-pending` delivers in the request's own thread: a dribbling receiver must not hold it for minutes."""
    token = server.token(creds=DEMO_CLIENT)
    for name in ("dribbles_headers", "dribbles_body", "never_answers", "endless_body"):
        subscribe(server, token, hostile[name].url + "?retry")
    requests.post(server.url + "/sandbox/webhooks/trigger", json={"type": "patient.created"}, timeout=5)
    requests.post(server.url + "/sandbox/clock", json={"advance_seconds": 86400 * 2}, timeout=5)
    answer, seconds = timed(requests.post, server.url + "/sandbox/webhooks/retry-pending")
    assert answer.status_code == 200
    assert seconds < 2 * TIMEOUT + 5 + 2, f"retry-pending took {seconds:.1f} s"
    assert requests.get(server.url + "/sandbox/health", timeout=5).status_code == 200


def test_every_failed_attempt_is_recorded_as_such(server, hostile):
    token = server.token()
    urls = {name: subscribe(server, token, r.url + "?record")["callback_url"] for name, r in hostile.items()}
    event = requests.post(server.url + "/sandbox/webhooks/trigger", json={"type": "patient.created"}, timeout=5).json()
    deadline = time.monotonic() + 4 * TIMEOUT + 10
    while time.monotonic() < deadline:
        report = requests.get(server.url + f"/sandbox/webhooks/deliveries?event_id={event['id']}", timeout=5)
        assert report.status_code == 200
        attempts = {d["url"]: d["attempts"] for e in report.json()["data"] for d in e["deliveries"]}
        if all(attempts.get(url) for url in urls.values()):
            break
        time.sleep(0.2)
    for name, url in urls.items():
        first = attempts[url][0]
        succeeded = first["error"] is None and 200 <= (first["status_code"] or 0) < 300
        # A prompt 200 is a success even if the body never ends: only an excerpt of it is read.
        assert succeeded == (name == "endless_body"), (name, first)
        assert first["latency_ms"] < (TIMEOUT + 2) * 1000, (name, first)


def test_secrets_never_leave_the_201(server, good):
    token = server.token()
    issued = subscribe(server, token, good.url("/secret-check"))["webhook_secret"]
    own = subscribe(server, token, good.url("/secret-check-2"), secret=CUSTOM_SECRET)["webhook_secret"]
    assert own == CUSTOM_SECRET
    client = requests.post(server.url + "/sandbox/clients", timeout=5,
                           json={"scopes": [], "client_secret": "client-secret-never-shown",
                                 "facility_id": "00000000-0000-0000-0000-100000000001"}).json()
    requests.post(server.url + "/api/v1/connect/auth/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]})
    requests.post(server.url + "/sandbox/webhooks/trigger", json={"type": "patient.created"}, timeout=5)
    good.wait(2, timeout=10)
    secrets = [issued, own, "client-secret-never-shown", DEMO_CLIENT["client_secret"], token]
    headers = {"Authorization": f"Bearer {token}"}
    outputs = {
        "subscriptions": requests.get(server.url + "/api/v1/connect/webhooks/subscriptions", headers=headers,
                                      timeout=5).text,
        "deliveries": requests.get(server.url + "/sandbox/webhooks/deliveries", timeout=5).text,
        "journal": requests.get(server.url + "/sandbox/requests?limit=1000", timeout=5).text,
        "clients": requests.get(server.url + "/sandbox/clients", timeout=5).text,
    }
    json.loads(outputs["journal"])
    server.stop()  # flush the log
    outputs["server log"] = server.log_text()
    server.start()
    for name, text in outputs.items():
        leaked = [secret[:12] for secret in secrets if secret in text]
        assert not leaked, f"{name} shows {leaked}"
