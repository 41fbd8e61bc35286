"""The `sandbox_webhooks` receiver fixture and delivery isolation between tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest
import requests

from opescare_sandbox.testing_webhooks import verify_signature

pytest_plugins = ["pytester"]

RESOLVE = "/api/v1/connect/patients/resolve"
PAUL = {"first_name": "Paul", "last_name": "Biya", "date_of_birth": "1985-02-13"}
SECRET = "whsec_0123456789abcdef0123456789abcdef"


def sign(body: bytes, t: int, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def trigger(server, event_type: str = "stock.low") -> dict:
    answer = requests.post(server.url + "/sandbox/webhooks/trigger", json={"type": event_type}, timeout=10)
    assert answer.status_code == 201
    return answer.json()


def test_the_receiver_gets_and_verifies_a_signed_delivery(sandbox_server, sandbox_webhooks):
    created = requests.post(sandbox_server.url + RESOLVE, json=PAUL, headers=sandbox_server.headers(), timeout=10)
    event = sandbox_webhooks.wait_for("patient.created")
    assert event["data"]["health_id"] == created.json()["health_id"]
    [got] = [r for r in sandbox_webhooks.received if r.event["type"] == "patient.created"]
    t, v1 = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", got.headers["X-OpesCare-Signature"]).groups()
    assert v1 == sign(got.body, int(t), sandbox_webhooks.secret)  # the docs' algorithm, recomputed here
    assert (got.verified, got.answered, got.attempt) == (True, 204, 1)
    assert sandbox_webhooks.subscription["callback_url"] == sandbox_webhooks.url
    assert sandbox_webhooks.url.startswith("http://127.0.0.1:")
    assert [r["path"] for r in sandbox_server.requests()] == [RESOLVE]  # subscribing was not a request


def test_the_receiver_can_answer_500_and_the_sandbox_retries(sandbox_server, sandbox_webhooks):
    sandbox_webhooks.fail(500)
    trigger(sandbox_server)
    sandbox_webhooks.wait_for("stock.low")
    [event] = sandbox_server.deliveries()
    [delivery] = event["deliveries"]
    assert (delivery["status"], [a["status_code"] for a in delivery["attempts"]]) == ("pending", [500])
    sandbox_webhooks.recover()
    sandbox_server.advance_clock(60)  # the first retry is due a minute later on the sandbox clock
    [event] = sandbox_server.deliveries()
    assert [a["status_code"] for a in event["deliveries"][0]["attempts"]] == [500, 204]
    assert [(r.attempt, r.answered) for r in sandbox_webhooks.received] == [(1, 500), (2, 204)]
    assert len(sandbox_webhooks.events) == 2  # every verified delivery, retries included


def test_the_receiver_can_hang_and_the_attempt_fails(sandbox_server, sandbox_webhooks):
    sandbox_webhooks.hang()
    trigger(sandbox_server)
    sandbox_webhooks.wait_for("stock.low")
    assert sandbox_webhooks.received[0].answered is None  # no answer yet: the sandbox's attempt is waiting
    sandbox_webhooks.recover()  # lets the hanging one go without an answer
    [event] = sandbox_server.deliveries()
    [attempt] = event["deliveries"][0]["attempts"]
    assert attempt["status_code"] is None and attempt["error"].startswith("ConnectionError")


def test_a_forged_signature_is_rejected(sandbox_server, sandbox_webhooks):
    sandbox_server.subscribe(sandbox_webhooks.url + "?sandbox_signature=invalid", ["stock.low"])  # the scenario
    trigger(sandbox_server)
    sandbox_server.deliveries()
    assert [r.answered for r in sandbox_webhooks.rejected] == [400]
    assert [e["type"] for e in sandbox_webhooks.events] == ["stock.low"]  # the genuine one


def test_wait_for_says_what_arrived_and_what_the_sandbox_did(sandbox_server, sandbox_webhooks):
    trigger(sandbox_server)
    sandbox_webhooks.wait_for("stock.low")
    with pytest.raises(AssertionError) as timed_out:
        sandbox_webhooks.wait_for("consent.revoked", timeout=0.2)
    assert str(timed_out.value).splitlines()[:3] == [
        f"sandbox_webhooks: no verified a consent.revoked delivery within 0.2 s at {sandbox_webhooks.url}",
        "  received: 1 (stock.low); rejected (bad signature): 0",
        "  the sandbox's deliveries of consent.revoked: none (was the event recorded?)"]


@pytest.mark.parametrize("header, ok", [
    ("t={t},v1={good}", True),
    ("t={t},v1={bad}", False),
    ("t={t},v1={bad},v1={good}", True),  # a rotation: any v1 may match
    ("t={old},v1={good_old}", False),  # older than 300 s
    ("v1={good}", False),
    ("t=abc,v1={good}", False),
    ("", False),
])
def test_verify_signature_follows_the_docs(header, ok):
    body, now = b'{"id":"evt_1"}', 1_800_000_000
    values = {"t": now, "good": sign(body, now), "bad": sign(body + b" ", now), "old": now - 301,
              "good_old": sign(body, now - 301)}
    assert verify_signature(SECRET, header.format(**values), body, now=now) is ok


ISOLATION = """
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

arrived, hung_up, release = threading.Semaphore(0), threading.Semaphore(0), threading.Event()


class Hanging(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        arrived.release()
        self.connection.settimeout(30)
        try:
            gone = self.rfile.read(1) == b""  # end of stream: the sandbox hung up
        except OSError:
            gone = True
        if gone:
            hung_up.release()
        release.wait(30)

    def log_message(self, *args):
        pass


def test_a_receiver_that_hangs_holds_every_delivery_worker_it_may(sandbox_server):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    workers = sandbox_server.app.extensions["opescare_sandbox"].extras["webhooks"].per_tenant  # a tenant's share
    for n in range(workers):
        sandbox_server.subscribe(f"http://127.0.0.1:{server.server_port}/hooks/{n}", ["stock.low"])
    requests.post(sandbox_server.url + "/sandbox/webhooks/trigger", json={"type": "stock.low"}, timeout=10)
    assert all(arrived.acquire(timeout=10) for _ in range(workers))  # every worker is now on the wire


def test_the_next_test_does_not_wait_on_it(sandbox_server, sandbox_webhooks):
    end = sandbox_server._core.last_end  # what the end of the previous test did
    workers = sandbox_server.app.extensions["opescare_sandbox"].extras["webhooks"].per_tenant
    assert (len(end["cancelled"]), end["busy"]) == (workers, 0) and end["cut"] >= workers
    assert all(hung_up.acquire(timeout=5) for _ in range(workers))  # the receiver saw every attempt cut
    requests.post(sandbox_server.url + "/sandbox/webhooks/trigger", json={"type": "stock.low"}, timeout=10)
    sandbox_webhooks.wait_for("stock.low", timeout=5)  # a worker took it at once
    [event] = sandbox_server.deliveries()
    assert event["deliveries"][0]["status"] == "delivered"
    release.set()
"""


def test_a_hanging_receiver_in_one_test_costs_the_next_nothing(pytester):
    pytester.makepyfile(test_vendor=ISOLATION)
    started = time.perf_counter()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    elapsed = time.perf_counter() - started
    result.assert_outcomes(passed=2)
    phases = {(r.nodeid.split("::")[1][:14], r.when): r.duration
              for r in result.reprec.getreports("pytest_runtest_logreport")}
    nxt = phases[("test_the_next_", "setup")] + phases[("test_the_next_", "call")]  # its teardown ends the session
    print(f"\nISOLATION: teardown of the hanging test {phases[('test_a_receive', 'teardown')] * 1000:.1f} ms; "
          f"setup + call of the next test {nxt * 1000:.1f} ms; inner run {elapsed:.2f} s")


def test_a_late_delivery_to_an_earlier_tests_inbox_is_refused(sandbox_webhooks):
    stale = sandbox_webhooks.url.rsplit("/", 1)[0] + "/0"
    body = json.dumps({"id": "evt_x", "type": "stock.low"}).encode()
    assert requests.post(stale, data=body, timeout=10).status_code == 410
    assert sandbox_webhooks.received == []
