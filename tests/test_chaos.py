"""Adversarial deliveries (PUT /sandbox/webhooks/subscriptions/{id}/chaos): duplicates, reordering, delays, probes."""

from __future__ import annotations

import queue
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opescare_sandbox.domain import clock

from .webhook_fixtures import load_receiver

ROOT = Path(__file__).resolve().parent.parent
TRIGGER, RETRY, DELIVERIES = "/sandbox/webhooks/trigger", "/sandbox/webhooks/retry-pending", "/sandbox/webhooks/deliveries"
TOLERANCE = 300  # seconds: the docs' signature tolerance


@pytest.fixture
def config():
    return {"WEBHOOK_TIMEOUT": 1.0, "WEBHOOK_INTERVAL": 3600}  # no periodic ticks: deliveries run when asked


@pytest.fixture
def frozen_clock(world):
    clock.set_now(world, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), frozen=True)


def chaos(client, subscription_id, **settings):
    response = client.put(f"/sandbox/webhooks/subscriptions/{subscription_id}/chaos", json=settings)
    assert response.status_code == 200, response.json
    return response.json


def trigger(client, n: int) -> str:
    response = client.post(TRIGGER, json={"type": "patient.created", "data": {"n": n}})
    assert response.status_code == 201
    return response.json["id"]


def settle(client) -> dict:
    response = client.post(RETRY)
    assert response.status_code == 200
    return response.json


def drain(receiver) -> list:
    got = []
    while True:
        try:
            got.append(receiver.requests.get_nowait())
        except queue.Empty:
            return got


def test_duplicates_arrive_twice_with_one_event_id(frozen_clock, client, receiver, subscribe):
    sub = subscribe(receiver.url())
    chaos(client, sub["subscription_id"], duplicate=True)
    event_id = trigger(client, 1)
    settle(client)
    first, second = receiver.wait(2)
    assert first.headers["X-OpesCare-Event-Id"] == second.headers["X-OpesCare-Event-Id"] == event_id
    assert first.json["id"] == second.json["id"] == event_id
    rows = client.get(DELIVERIES, query_string={"event_id": event_id}).json["data"][0]["deliveries"]
    assert len(rows) == 2 and len({row["delivery_id"] for row in rows}) == 2
    assert [row.get("duplicate_of") for row in rows].count(None) == 1


def test_reordered_deliveries_arrive_out_of_order(frozen_clock, client, world, receiver, subscribe):
    sub = subscribe(receiver.url())
    chaos(client, sub["subscription_id"], reorder_window_seconds=60)
    sent = [trigger(client, n) for n in range(3)]
    settle(client)
    assert drain(receiver) == []  # held: the window is still open
    arrived = []
    clock.change(world, advance_seconds=60)
    for _ in range(3):  # one release per sandbox second, newest first
        settle(client)
        arrived += [got.json["id"] for got in drain(receiver)]
        clock.change(world, advance_seconds=1)
    assert arrived == sent[::-1]


def test_a_delay_holds_the_first_attempt_on_the_sandbox_clock(frozen_clock, client, world, receiver, subscribe):
    sub = subscribe(receiver.url())
    chaos(client, sub["subscription_id"], delay_seconds=120)
    event_id = trigger(client, 1)
    settle(client)
    assert drain(receiver) == []
    clock.change(world, advance_seconds=120)
    settle(client)
    assert [got.json["id"] for got in receiver.wait(1)] == [event_id]


def test_stale_timestamp_probes_are_older_than_the_tolerance_and_marked(frozen_clock, client, receiver, subscribe):
    verify = load_receiver().verify_signature
    sub = subscribe(receiver.url())
    secret = sub["webhook_secret"]
    chaos(client, sub["subscription_id"], stale_timestamp_every=2)
    receiver.statuses = []
    ids = [trigger(client, n) for n in range(2)]
    settle(client)
    got = receiver.wait(3)  # two real deliveries and one probe after the second
    stamps = {g.headers["X-OpesCare-Signature"]: int(g.headers["X-OpesCare-Signature"].split(",")[0][2:]) for g in got}
    newest = max(stamps.values())
    stale = [g for g in got if newest - stamps[g.headers["X-OpesCare-Signature"]] > TOLERANCE]
    assert len(stale) == 1 and stale[0].json["id"] == ids[1]
    assert not verify(secret, stale[0].headers["X-OpesCare-Signature"], stale[0].body)  # a correct receiver refuses it
    fresh = [g for g in got if g is not stale[0]]
    assert all(verify(secret, g.headers["X-OpesCare-Signature"], g.body) for g in fresh)
    rows = client.get(DELIVERIES, query_string={"event_id": ids[1]}).json["data"][0]["deliveries"]
    [probe] = [row for row in rows if "probe" in row]
    assert {k: probe["probe"][k] for k in ("kind", "expected")} == {"kind": "stale_timestamp", "expected": "4xx"}


def test_bad_signature_probes_fail_verification_and_are_not_retried(frozen_clock, client, world, receiver, subscribe):
    verify = load_receiver().verify_signature
    sub = subscribe(receiver.url())
    chaos(client, sub["subscription_id"], bad_signature_every=1)
    receiver.statuses = [204, 400]  # the real one is accepted, the probe refused as a correct receiver does
    event_id = trigger(client, 1)
    settle(client)
    got = receiver.wait(2)
    assert [verify(sub["webhook_secret"], g.headers["X-OpesCare-Signature"], g.body) for g in got].count(False) == 1
    rows = client.get(DELIVERIES, query_string={"event_id": event_id}).json["data"][0]["deliveries"]
    [probe] = [row for row in rows if "probe" in row]
    assert probe["probe"]["kind"] == "bad_signature" and probe["attempt_count"] == 1
    assert probe["next_retry_at"] is None and probe["status"] in ("exhausted", "delivered")


def test_chaos_on_an_unknown_subscription_is_404_and_bad_values_400(client):
    missing = client.put("/sandbox/webhooks/subscriptions/sub_nope/chaos", json={"duplicate": True})
    assert (missing.status_code, missing.json["error"]) == (404, "subscription_not_found")
    bad = client.put("/sandbox/webhooks/subscriptions/sub_nope/chaos", json={"reorder_window_seconds": -1})
    assert (bad.status_code, bad.json["error"]) == (400, "invalid_request")
