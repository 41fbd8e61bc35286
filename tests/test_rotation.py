"""Signing-secret rotation: both v1= signatures during the grace window (sandbox clock), only the new one after."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opescare_sandbox.domain import clock, deliveries

from .webhook_fixtures import load_receiver

ROOT = Path(__file__).resolve().parent.parent
TRIGGER = "/sandbox/webhooks/trigger"
EVENT = {"type": "patient.created", "data": {"health_id": "CM-HID-7KQ9-MP42-X8D1"}}


@pytest.fixture
def config():
    return {"WEBHOOK_TIMEOUT": 1.0, "WEBHOOK_INTERVAL": 3600}


@pytest.fixture
def frozen_clock(world):
    clock.set_now(world, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), frozen=True)


def rotate(client, subscription_id, **body):
    response = client.post(f"/sandbox/webhooks/subscriptions/{subscription_id}/rotate-secret", json=body)
    assert response.status_code == 200, response.json
    return response.json


def deliver(client, receiver):
    assert client.post(TRIGGER, json=EVENT).status_code == 201
    (request,) = receiver.wait()
    return request


def v1_values(request) -> list[str]:
    return [part.split("=", 1)[1] for part in request.headers["X-OpesCare-Signature"].split(",")
            if part.startswith("v1=")]


def test_during_the_window_both_signatures_verify_and_after_it_only_the_new_one_is_sent(
        frozen_clock, client, world, receiver, subscribe):
    verify = load_receiver().verify_signature
    sub = subscribe(receiver.url())
    old = sub["webhook_secret"]
    rotated = rotate(client, sub["subscription_id"])
    new = rotated["webhook_secret"]
    assert new != old and new.startswith("whsec_")
    assert (rotated["rotated_at"], rotated["previous_secret_expires_at"]) == ("2026-03-01T08:00:00Z",
                                                                              "2026-03-02T08:00:00Z")
    during = deliver(client, receiver)
    assert len(v1_values(during)) == 2
    header = during.headers["X-OpesCare-Signature"]
    assert verify(new, header, during.body) and verify(old, header, during.body)  # the docs' algorithm, either key
    t = int(header.split(",")[0][2:])
    assert header == deliveries.signature_header((new, old), during.body, t)  # new first, then old
    clock.change(world, advance_seconds=24 * 3600)
    after = deliver(client, receiver)
    assert len(v1_values(after)) == 1
    assert verify(new, after.headers["X-OpesCare-Signature"], after.body)
    assert not verify(old, after.headers["X-OpesCare-Signature"], after.body)


def test_the_grace_window_is_configurable_per_rotation(frozen_clock, client, world, receiver, subscribe):
    sub = subscribe(receiver.url())
    rotate(client, sub["subscription_id"], grace_seconds=60)
    clock.change(world, advance_seconds=61)
    assert len(v1_values(deliver(client, receiver))) == 1


@pytest.mark.parametrize("config", [{"WEBHOOK_TIMEOUT": 1.0, "WEBHOOK_INTERVAL": 3600,
                                     "WEBHOOK_ROTATION_GRACE_SECONDS": 10}])
def test_the_server_setting_is_the_default_window(frozen_clock, client, subscribe, receiver):
    sub = subscribe(receiver.url())
    assert rotate(client, sub["subscription_id"])["previous_secret_expires_at"] == "2026-03-01T08:00:10Z"


def test_an_unknown_subscription_is_404(client):
    response = client.post("/sandbox/webhooks/subscriptions/sub_nope/rotate-secret", json={})
    assert (response.status_code, response.json["error"]) == (404, "subscription_not_found")


SECRET, OTHER, BODY, NOW = "whsec_" + "a" * 32, "whsec_" + "b" * 32, b'{"id":"evt_1"}', 1_800_000_000


@pytest.mark.parametrize("header, ok", [
    (deliveries.signature_header((SECRET, OTHER), BODY, NOW), True),
    (deliveries.signature_header((OTHER, SECRET), BODY, NOW), True),
    (deliveries.signature_header((OTHER, OTHER), BODY, NOW), False),
    (deliveries.signature_header(SECRET, BODY, NOW) + f",t={NOW + 1}", False),  # two timestamps: refuse
    (f"t={NOW},v1", False),
])
def test_the_example_receiver_accepts_any_matching_v1(header, ok):
    assert load_receiver().verify_signature(SECRET, header, BODY, now=NOW) is ok
