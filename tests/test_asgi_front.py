"""The ASGI front (opescare_sandbox.asgi): whole bodies and simulated delays wait in the event loop, not in a thread."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from opescare_sandbox.asgi import build

from .conftest import DEMO_CLIENT


@pytest.fixture(scope="module")
def front():
    front = build({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "WEBHOOK_DELIVERY": False,
                   "THREADS": 1})
    yield front
    front.pool.shutdown()


def call(front, method: str, path: str, headers=(), chunks=(b"",), gap: float = 0.0, query: bytes = b""):
    """One request through the ASGI app; the body arrives in `chunks` (a None chunk: the client stalls)."""

    async def run():
        pending = list(chunks)
        sent: list[dict] = []

        async def receive():
            chunk = pending.pop(0) if pending else b""
            if chunk is None:
                await asyncio.sleep(3600)
            await asyncio.sleep(gap)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "query_string": query, "http_version": "1.1",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers], "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 5000), "scheme": "http", "root_path": ""}
        await front(scope, receive, send)
        start, body = sent
        return start["status"], dict(start["headers"]), body["body"]

    return asyncio.run(run())


def token(front) -> str:
    body = json.dumps({"grant_type": "client_credentials", **DEMO_CLIENT}).encode()
    status, _, answer = call(front, "POST", "/api/v1/connect/auth/token", [("Content-Type", "application/json")],
                             [body[:10], body[10:]])
    assert status == 200
    return json.loads(answer)["access_token"]


def test_a_body_in_several_chunks_reaches_the_app_whole(front):
    assert token(front).count(".") == 2


@pytest.mark.parametrize("name", ["X_Sandbox_Tenant", "x_sandbox_tenant", "X-Sandbox_Tenant"])
def test_an_underscore_spelling_of_the_tenant_header_is_a_400(front, name):
    status, headers, body = call(front, "GET", "/sandbox/health", [(name, "alpha")])
    assert (status, headers[b"content-type"]) == (400, b"application/json")
    assert json.loads(body)["error"] == "invalid_request" and "dashes" in json.loads(body)["message"]


def test_a_repeated_tenant_header_is_a_400(front):
    status, _, body = call(front, "GET", "/sandbox/health", [("X-Sandbox-Tenant", "default"),
                                                              ("X-Sandbox-Tenant", "alpha")])
    assert (status, json.loads(body)["error"]) == (400, "duplicate_tenant_header")


def test_the_dashed_tenant_header_selects_the_tenant(front):
    status, _, _ = call(front, "POST", "/sandbox/reset", [("X-Sandbox-Tenant", "alpha")])
    assert status == 200
    assert "alpha" in json.loads(call(front, "GET", "/sandbox/health")[2])["tenants"]


def test_a_body_that_stops_arriving_is_a_408_and_never_reaches_a_thread(front, monkeypatch):
    monkeypatch.setattr(front, "body_timeout", 0.2)
    reached = []
    monkeypatch.setattr(front, "_call", lambda environ: reached.append(environ))
    status, _, body = call(front, "POST", "/api/v1/connect/patients/resolve", [("Content-Type", "application/json")],
                           [b'{"first_', None])
    assert (status, json.loads(body)["error"]) == (408, "request_timeout")
    assert reached == []


def test_a_body_over_the_limit_is_a_413(front):
    status, _, body = call(front, "POST", "/api/v1/connect/patients/resolve", [("Content-Type", "application/json")],
                           [b"x" * (front.max_body + 1)])
    assert (status, json.loads(body)["error"]) == (413, "payload_too_large")


def test_a_delay_waits_in_the_event_loop_after_the_thread_is_free(front, monkeypatch):
    """With one thread, a delayed request and a plain one run concurrently: the plain one does not wait."""
    bearer = [("Authorization", f"Bearer {token(front)}")]
    verify = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"

    async def both():
        loop = asyncio.get_running_loop()
        delayed = loop.run_in_executor(None, call, front, "GET", verify, [*bearer, ("Prefer", "delay=1500")])
        await asyncio.sleep(0.1)
        started = time.monotonic()
        plain = await loop.run_in_executor(None, call, front, "GET", verify, bearer)
        plain_took = time.monotonic() - started
        return await delayed, plain, plain_took

    delayed, plain, plain_took = asyncio.run(both())
    assert delayed[0] == plain[0] == 200
    assert plain_took < 1.0  # liveness: it did not queue behind the 1.5 s delay on the one thread


def _thread_of_each_request(front) -> dict[str, str]:
    """Which thread ran the app for a Connect request, a sandbox control and an OpenEyes request."""
    seen: dict[str, str] = {}
    app = front.wsgi_app

    def spy(environ, start_response):
        seen[environ["PATH_INFO"]] = threading.current_thread().name
        return app(environ, start_response)

    front.wsgi_app = spy
    try:
        for path in ("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1", "/sandbox/health",
                     "/api/v1/patient/search"):
            call(front, "GET", path)
    finally:
        front.wsgi_app = app
    return seen


def test_connect_and_openeyes_requests_run_in_the_event_loop_thread_and_controls_on_the_pool(front):
    loop_thread = threading.current_thread().name  # asyncio.run runs the loop in the calling thread
    seen = _thread_of_each_request(front)
    assert seen["/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"] == loop_thread
    assert seen["/api/v1/patient/search"] == loop_thread
    assert seen["/sandbox/health"].startswith("sandbox-request")


def test_with_fsync_every_request_runs_on_the_pool():
    """A write that waits for the disk must not stall the event loop: with SANDBOX_FSYNC nothing runs inline."""
    fsync = build({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "WEBHOOK_DELIVERY": False,
                   "THREADS": 1, "FSYNC": True})
    try:
        assert all(name.startswith("sandbox-request") for name in _thread_of_each_request(fsync).values())
    finally:
        fsync.pool.shutdown()


# -- over a real server with one thread: what the front buys a laptop or CI that has no HAProxy in front ----
@pytest.fixture(scope="module")
def one_thread():
    from .live_server import LiveServer

    with LiveServer(None, "--threads", "1") as server:
        yield server


def test_over_the_wire_an_underscore_tenant_header_is_a_400(one_thread):
    import requests

    answer = requests.get(one_thread.url + "/sandbox/health", headers={"X_Sandbox_Tenant": "alpha"}, timeout=10)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


def test_with_one_thread_a_delayed_request_holds_up_no_one(one_thread):
    import threading

    import requests

    bearer = {"Authorization": f"Bearer {one_thread.token()}"}
    verify = one_thread.url + "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"
    slow = threading.Thread(target=requests.get, args=(verify,),
                            kwargs={"headers": {**bearer, "Prefer": "delay=2000"}, "timeout": 10})
    slow.start()
    time.sleep(0.2)  # the delayed request is in
    started = time.monotonic()
    assert requests.get(verify, headers=bearer, timeout=10).status_code == 200
    assert time.monotonic() - started < 1.5  # liveness: not queued behind the 2 s delay on the only thread
    slow.join(10)


def test_with_one_thread_a_body_that_never_arrives_holds_up_no_one(one_thread):
    import socket

    import requests

    stalled = []
    for _ in range(3):  # more stalled bodies than threads
        sock = socket.create_connection(("127.0.0.1", one_thread.port), timeout=10)
        sock.sendall(b"POST /api/v1/connect/patients/resolve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        stalled.append(sock)
    try:
        started = time.monotonic()
        assert requests.get(one_thread.url + "/sandbox/health", timeout=10).status_code == 200
        assert time.monotonic() - started < 1.5  # liveness: the one thread is not waiting on a body
    finally:
        for sock in stalled:
            sock.close()
