"""Fair delivery in the public profile: one tenant's dead receivers never delay another tenant's deliveries.

Tenant "dead" has 200 deliveries hanging on a receiver that accepts connections and never answers (the
public delivery timeout is 5 s, 4 workers); tenant "alive"'s delivery must still arrive within 3 s, a
liveness bound, and its `retry-pending` must not wait on the other tenant. Loopback receivers are allowed
explicitly (SANDBOX_WEBHOOK_ALLOW=127.0.0.1/32).
"""

from __future__ import annotations

import time

import pytest

from tests.hosted import PUBLIC_WITH_LOCAL_RECEIVERS, SilentReceiver, Visitor
from tests.live_server import LiveServer
from tests.webhook_fixtures import Receiver

LIVENESS = 3.0  # seconds (the bound)
HANGING = 200


@pytest.fixture(scope="module")
def server():
    with LiveServer(None, env=PUBLIC_WITH_LOCAL_RECEIVERS) as live:
        yield live


@pytest.fixture(scope="module")
def dead_tenant(server):
    """10 subscriptions (the public per-client bound) x 20 events = 200 deliveries to a silent receiver."""
    silent = SilentReceiver()
    visitor = Visitor(server.url, "fairness-dead")
    for n in range(10):
        assert visitor.subscribe(f"{silent.url}/{n}").status_code == 201
    for _ in range(HANGING // 10):
        assert visitor.trigger().status_code == 201
    yield visitor
    silent.close()


def _hanging(visitor: Visitor) -> int:
    return sum(1 for d in visitor.deliveries() if d["status"] == "pending")


def test_a_healthy_tenant_is_served_while_another_hangs(server, dead_tenant):
    receiver = Receiver()
    try:
        alive = Visitor(server.url, "fairness-alive")
        assert alive.subscribe(receiver.url()).status_code == 201
        assert _hanging(dead_tenant) == HANGING
        started = time.monotonic()
        assert alive.trigger().status_code == 201
        receiver.wait(1, timeout=LIVENESS)
        took = time.monotonic() - started
        print(f"\nhealthy tenant's delivery arrived after {took:.3f} s with {HANGING} deliveries hanging")
        assert took < LIVENESS
    finally:
        receiver.close()


def test_retry_pending_never_waits_on_another_tenant(server, dead_tenant):
    receiver = Receiver()
    try:
        alive = Visitor(server.url, "fairness-retry")
        assert alive.subscribe(receiver.url()).status_code == 201
        receiver.status = 500  # the first attempt fails: a retry is pending
        assert alive.trigger().status_code == 201
        receiver.wait(1, timeout=LIVENESS)
        receiver.status = 204
        alive.request("POST", "/sandbox/clock", json={"advance_seconds": 120})
        started = time.monotonic()
        answer = alive.request("POST", "/sandbox/webhooks/retry-pending")
        took = time.monotonic() - started
        print(f"\nretry-pending answered in {took:.3f} s with {HANGING} deliveries hanging elsewhere")
        assert answer.status_code == 200 and took < LIVENESS
        assert [a["status"] for a in answer.json()["attempted"]] == ["delivered"]
    finally:
        receiver.close()


def test_the_fair_queue_serves_tenants_in_turn_within_their_share():
    from opescare_sandbox.runtime.fairqueue import FairQueue

    queue = FairQueue(per_tenant=2, size=100)
    for n in range(50):
        assert queue.put("dead", n)
    assert queue.put("alive", "a")
    assert [queue.next() for _ in range(4)] == [("dead", 0), ("alive", "a"), ("dead", 1), None]  # dead: share used
    queue.done("dead")
    assert queue.next() == ("dead", 2)
    assert queue.take("dead") == list(range(3, 50)) and not queue
