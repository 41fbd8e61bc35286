"""Endpoint 14: replay a stored event to the caller's own active subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import clock

from .conftest import PROD_CLIENT

TRIGGER, RETRY, DELIVERIES = "/sandbox/webhooks/trigger", "/sandbox/webhooks/retry-pending", "/sandbox/webhooks/deliveries"


def replay_url(event_id: str) -> str:
    return f"/api/v1/connect/webhooks/events/{event_id}/replay"


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), frozen=True)


def test_replay_delivers_the_stored_event_again(client, world, auth, receiver, subscribe):
    subscribe(receiver.url())
    event = client.post(TRIGGER, json={"type": "patient.created", "data": {"health_id": "OPC-2024-XK7T9"}}).json
    (original,) = receiver.wait()
    clock.advance(world, 1800)
    response = client.post(replay_url(event["id"]), headers=auth)
    assert response.status_code == 200
    assert response.json == {"status": "replayed", "event_id": event["id"], "type": "patient.created",
                             "replayed_at": "2026-03-01T08:30:00Z", "deliveries": 1}
    (again,) = receiver.wait()
    assert again.headers["X-OpesCare-Event-Id"] == event["id"]
    assert again.json == original.json  # same event, attempt 1 of a new delivery
    client.post(RETRY)
    rows = client.get(DELIVERIES, query_string={"event_id": event["id"]}).json["data"][0]["deliveries"]
    assert [(d["replay"], d["status"]) for d in rows] == [(False, "delivered"), (True, "delivered")]


def test_replay_goes_only_to_the_callers_subscriptions(client, auth, get_token, receiver, subscribe):
    subscribe(receiver.url("/demo"))
    subscribe(receiver.url("/prod"), headers={"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"})
    event = client.post(TRIGGER, json={"type": "patient.created"}).json
    assert sorted(r.path for r in receiver.wait(2)) == ["/demo", "/prod"]
    assert client.post(replay_url(event["id"]), headers=auth).json["deliveries"] == 1
    assert [r.path for r in receiver.wait()] == ["/demo"]
    client.post(RETRY)
    assert receiver.requests.empty()


def test_replay_skips_subscriptions_for_other_types(client, auth, subscribe, dispatcher):
    dispatcher.enabled = False
    subscribe("http://127.0.0.1:9/x", events=["stock.low"])
    event = client.post(TRIGGER, json={"type": "patient.created"}).json
    response = client.post(replay_url(event["id"]), headers=auth)
    assert (response.status_code, response.json["deliveries"]) == (200, 0)


@pytest.mark.parametrize("event_id", ["evt_000000000000000000000000", "nope"])
def test_replaying_an_unknown_event_is_404(client, auth, event_id):
    response = client.post(replay_url(event_id), headers=auth)
    assert (response.status_code, response.json["error"], response.json["event_id"]) == (
        404, "event_not_found", event_id)


def test_events_of_another_tenant_are_unknown(client, get_token):
    event = client.post(TRIGGER, json={"type": "patient.created"}).json
    headers = {"Authorization": f"Bearer {get_token(tenant='t2')}", "X-Sandbox-Tenant": "t2"}
    assert client.post(replay_url(event["id"]), headers=headers).status_code == 404
