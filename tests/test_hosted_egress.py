"""The public profile's webhook egress policy, over real servers: no SSRF, no readable answer, no port oracle."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opescare_sandbox.runtime.egress import EgressPolicy, EgressRefused
from tests.hosted import LOCAL_WITH_ADMIN, PUBLIC, PUBLIC_WITH_LOCAL_RECEIVERS, SilentReceiver, Visitor, closed_port
from tests.live_server import LiveServer
from tests.webhook_fixtures import Receiver

WAIT = 15.0  # seconds: liveness bound for a delivery to be recorded (the public delivery timeout is 5 s)


@pytest.fixture(scope="module")
def public():
    with LiveServer(None, env=PUBLIC) as server:
        yield server


@pytest.fixture(scope="module")
def public_local_receivers():
    with LiveServer(None, env={**PUBLIC_WITH_LOCAL_RECEIVERS, "SANDBOX_WEBHOOK_TIMEOUT": "1"}) as server:
        yield server


@pytest.fixture(scope="module")
def local():
    with LiveServer(None, env=LOCAL_WITH_ADMIN) as server:
        yield server


# Every spelling of an internal address the issue tried (and a few more); each resolves to a non-public one.
INTERNAL = [
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/", "http://0/",
    "http://[::1]:8080/", "http://2130706433:8080/", "http://0x7f000001:8080/", "http://0177.0.0.1:8080/",
    "http://127.1:8080/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://localhost:8080/", "http://10.0.0.1/", "http://192.168.1.1/", "http://[fd00::1]/",
    "http://[64:ff9b::a9fe:a9fe]/", "https://127.0.0.1/",
]
# Never deliverable, in both modes: credentials (also the userinfo trick), impossible ports, bad hosts or paths.
UNDELIVERABLE = [
    "http://user:pass@example.com/hook", "http://127.0.0.1:18999@169.254.169.254/", "http://example.com:99999/",
    "http://example.com:0/", "http://example.com/caf\u00e9", "http://exa mple.com/", "http://-bad-.com/",
    "http://[zz::1]/",
]


def refusal(response) -> tuple[int, str, bool]:
    """(status, error, names callback_url). Some spellings the URL schema already refuses (invalid_request)."""
    body = response.json()
    return response.status_code, body["error"], "callback_url" in body.get("errors", {})


@pytest.mark.parametrize("url", INTERNAL)
def test_public_refuses_internal_addresses_at_subscribe_time(public, url):
    status, error, named = refusal(Visitor(public.url).subscribe(url))
    assert status == 400 and named and error in ("callback_url_forbidden", "invalid_request"), (status, error)


@pytest.mark.parametrize("url", UNDELIVERABLE)
@pytest.mark.parametrize("mode", ["public", "local"])
def test_undeliverable_urls_are_400_in_both_modes(request, mode, url):
    server = request.getfixturevalue(mode)
    status, error, named = refusal(Visitor(server.url).subscribe(url))
    assert status == 400 and named and error in ("callback_url_invalid", "invalid_request"), (status, error)


def test_the_forbidden_error_code_is_clear(public):
    body = Visitor(public.url).subscribe("http://2130706433:8080/").json()
    assert (body["error"], body["status"], body["errors"]) == (
        "callback_url_forbidden", 400, {"callback_url": ["the host resolves to a non-public address"]})


def test_local_mode_still_delivers_to_loopback(local):
    receiver = Receiver()
    try:
        visitor = Visitor(local.url)
        assert visitor.subscribe(receiver.url()).status_code == 201
        visitor.request("POST", "/sandbox/webhooks/trigger", json={"type": "patient.created"},
                        headers={"Authorization": "Bearer hosted-admin-token-0123456789"})
        assert receiver.wait(1, timeout=WAIT)
    finally:
        receiver.close()


def test_the_address_connected_to_is_checked_again():
    """DNS may answer differently after subscribing: the connection itself refuses a non-public peer."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with pytest.raises(EgressRefused):
            EgressPolicy(public=True).create_connection(("localhost", port), timeout=2)
        EgressPolicy(public=True, allow=(__import__("ipaddress").ip_network("127.0.0.1/32"),)).create_connection(
            ("127.0.0.1", port), timeout=2).close()


def _settled(visitor: Visitor, count: int) -> list[dict]:
    """Wait (bounded) until `count` deliveries have at least one attempt; return them."""
    import time

    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = [d for d in visitor.deliveries() if d["attempts"]]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"only {len(found)} of {count} deliveries attempted within {WAIT}s")


class _Redirecting(BaseHTTPRequestHandler):
    target = ""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(302 if self.target else 200)
        if self.target:
            self.send_header("Location", self.target)
        body = b'{"internal": "secret reply of an internal service"}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_public_failures_read_the_same_and_no_answer_is_kept(public_local_receivers):
    """Refused port, a receiver that never answers, a redirect to an internal service and a 200 with a body:
    only the 200 reads differently, and no receiver's body is stored. (Loopback allowed explicitly.)"""
    internal = Receiver()
    _Redirecting.target = internal.url("/internal")
    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    answering = ThreadingHTTPServer(("127.0.0.1", 0), type("Ok", (_Redirecting,), {"target": ""}))
    silent = SilentReceiver()
    for server in (redirecting, answering):
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        visitor = Visitor(public_local_receivers.url)
        urls = [f"http://127.0.0.1:{closed_port()}/refused", silent.url,
                f"http://127.0.0.1:{redirecting.server_port}/redirect", f"http://127.0.0.1:{answering.server_port}/ok"]
        for url in urls:
            assert visitor.subscribe(url).status_code == 201
        assert visitor.trigger().status_code == 201
        attempts = {d["url"]: d["attempts"][0] for d in _settled(visitor, 4)}
        failures = [{k: attempts[u][k] for k in ("status_code", "error", "response_body", "latency_ms")}
                    for u in urls[:3]]
        assert failures == [{"status_code": None, "error": "delivery failed", "response_body": None,
                             "latency_ms": 0.0}] * 3
        assert (attempts[urls[3]]["status_code"], attempts[urls[3]]["response_body"]) == (200, None)
        assert internal.requests.empty()  # the redirect was not followed
    finally:
        for server in (redirecting, answering):
            server.shutdown()
            server.server_close()
        silent.close()
        internal.close()
