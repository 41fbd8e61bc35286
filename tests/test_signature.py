"""X-OpesCare-Signature: the HMAC over "<t>." + the exact body bytes, and the documented receiver that checks it."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import re
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from opescare_sandbox.domain import deliveries

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "webhook_receiver.py"
SECRET = "whsec_0123456789abcdef0123456789abcdef"
BODY = b'{"id":"evt_1","type":"patient.created"}'


def load_example():
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert deliveries.signature_header(SECRET, BODY, 1700000000) == f"t=1700000000,v1={expected}"


def test_envelope_is_the_documented_shape_serialised_compactly():
    event = {"id": "evt_1", "type": "stock.low", "version": "1.0", "created_at": "2026-01-01T00:00:00Z",
             "data": {"item": "Amoxicillin"},
             "meta": {"organization_id": "o1", "facility_id": "f1", "environment": "sandbox", "request_id": "r1"}}
    assert deliveries.envelope_bytes(event, 3) == (
        b'{"id":"evt_1","type":"stock.low","version":"1.0","created_at":"2026-01-01T00:00:00Z",'
        b'"data":{"item":"Amoxicillin"},"meta":{"organization_id":"o1","facility_id":"f1","environment":"sandbox",'
        b'"request_id":"r1","delivery_attempt":3}}')


def test_the_webhooks_page_shows_the_example_receiver_verbatim():
    page = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    assert EXAMPLE.read_text(encoding="utf-8") in blocks


NOW = 1_800_000_000


@pytest.mark.parametrize("header, body, now, ok", [
    (deliveries.signature_header(SECRET, BODY, NOW), BODY, NOW, True),
    (deliveries.signature_header(SECRET, BODY, NOW), BODY, NOW + 300, True),
    (deliveries.signature_header(SECRET, BODY, NOW), BODY, NOW + 301, False),  # too old: a replayed capture
    (deliveries.signature_header(SECRET, BODY, NOW), BODY, NOW - 301, False),  # from the future
    (deliveries.signature_header(SECRET, BODY, NOW), BODY + b" ", NOW, False),  # body changed by one byte
    (deliveries.signature_header("whsec_other", BODY, NOW), BODY, NOW, False),
    (f"t={NOW}", BODY, NOW, False),
    ("v1=abc", BODY, NOW, False),
    ("garbage", BODY, NOW, False),
    ("", BODY, NOW, False),
])
def test_example_verifier(header, body, now, ok):
    assert load_example().verify_signature(SECRET, header, body, now=now) is ok


@pytest.fixture
def example_server():
    """The documented receiver class served on a free port; its secret is set per test."""
    handler = type("Handler", (load_example().WebhookReceiver,), {"log_message": lambda *a: None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("right_secret, status, code", [(True, "delivered", 204), (False, "pending", 400)])
def test_example_receiver_accepts_real_deliveries_and_refuses_forged_ones(client, subscribe, example_server,
                                                                          right_secret, status, code):
    url = f"http://127.0.0.1:{example_server.server_port}/webhooks"
    created = subscribe(url)
    example_server.RequestHandlerClass.secret = created["webhook_secret"] if right_secret else "whsec_wrong"
    event = client.post("/sandbox/webhooks/trigger", json={"type": "patient.created"}).json
    client.post("/sandbox/webhooks/retry-pending")
    delivery = client.get("/sandbox/webhooks/deliveries", query_string={"event_id": event["id"]}).json["data"][0]
    assert (delivery["deliveries"][0]["status"], delivery["deliveries"][0]["attempts"][0]["status_code"]) == (
        status, code)


def test_signature_timestamp_is_wall_clock_time_not_the_sandbox_clock(client, world, subscribe, example_server):
    """Receivers check `t` against their own clock, so a sandbox clock moved a day ahead must not leak into it."""
    from opescare_sandbox.domain import clock

    created = subscribe(f"http://127.0.0.1:{example_server.server_port}/webhooks")
    example_server.RequestHandlerClass.secret = created["webhook_secret"]
    clock.advance(world, 86400)
    client.post("/sandbox/webhooks/trigger", json={"type": "patient.created"})
    client.post("/sandbox/webhooks/retry-pending")
    attempt = client.get("/sandbox/webhooks/deliveries", query_string={"type": "patient.created"}).json[
        "data"][0]["deliveries"][0]["attempts"][0]
    assert attempt["status_code"] == 204
    assert abs(int(attempt["signature"].split(",")[0][2:]) - time.time()) < 60
