"""The webhook inbox: deliveries to /sandbox/inbox/{id} are stored in process, signed and checked, per tenant."""

from __future__ import annotations

import time

import pytest

from opescare_sandbox.domain import inbox
from tests.hosted import PUBLIC, Visitor
from tests.live_server import LiveServer

TRIGGER = "/sandbox/webhooks/trigger"
EVENT = {"type": "patient.created", "data": {"health_id": "CM-HID-7KQ9-MP42-X8D1"}}
WAIT = 15.0  # seconds: liveness bound for a background delivery


@pytest.fixture
def config():
    return {"WEBHOOK_INTERVAL": 3600}  # deliveries run when the test asks (retry-pending), not on a timer


def new_inbox(client, tenant: str | None = None) -> dict:
    response = client.post("/sandbox/inbox", headers={"X-Sandbox-Tenant": tenant} if tenant else {})
    assert response.status_code == 201, response.json
    return response.json


def deliver(client) -> None:
    assert client.post(TRIGGER, json=EVENT).status_code == 201
    assert client.post("/sandbox/webhooks/retry-pending").status_code == 200


def entries(client, inbox_id: str) -> list[dict]:
    response = client.get(f"/sandbox/inbox/{inbox_id}")
    assert response.status_code == 200, response.json
    return response.json["entries"]


def test_a_subscribed_inbox_receives_the_signed_event_in_process(client, subscribe):
    box = new_inbox(client)
    assert box["inbox_id"].startswith("ibx_") and box["url"] == f"http://localhost/sandbox/inbox/{box['inbox_id']}"
    subscribe(box["url"])
    deliver(client)
    (entry,) = entries(client, box["inbox_id"])
    assert entry["signature_valid"] is True
    (event,) = client.get("/sandbox/webhooks/deliveries?type=patient.created").json["data"]  # (and health_id.created)
    assert entry["body"]["type"] == "patient.created" and entry["body"]["data"] == event["data"]
    assert entry["headers"]["X-OpesCare-Event-Id"] == entry["body"]["id"] == event["id"]
    assert [d["status"] for d in event["deliveries"]] == ["delivered"]


def test_ids_are_stable_per_seed_and_differ_between_inboxes_and_tenants(client):
    first, second, other = new_inbox(client), new_inbox(client), new_inbox(client, "elsewhere")
    assert len({first["inbox_id"], second["inbox_id"], other["inbox_id"]}) == 3
    client.post("/sandbox/reset", json={})
    assert new_inbox(client)["inbox_id"] == first["inbox_id"]  # deterministic: seed and sequence, no uuid4


def test_an_inbox_belongs_to_its_tenant(client, subscribe, get_token):
    box = new_inbox(client)
    other = {"Authorization": f"Bearer {get_token(tenant='other')}", "X-Sandbox-Tenant": "other"}
    response = client.post("/api/v1/connect/webhooks/subscriptions", headers=other,
                           json={"callback_url": box["url"], "subscribed_events": ["patient.created"]})
    assert response.status_code == 400 and response.json["error"] == "callback_url_invalid"
    response = client.get(f"/sandbox/inbox/{box['inbox_id']}", headers={"X-Sandbox-Tenant": "other"})
    assert response.status_code == 404 and response.json["error"] == "inbox_not_found"


def test_a_wrong_key_is_reported_invalid_and_a_rotation_keeps_it_valid(client, subscribe):
    box = new_inbox(client)
    sub = subscribe(box["url"])
    bad = new_inbox(client)
    subscribe(bad["url"] + "?sandbox_signature=invalid")  # the invalid_webhook_signature scenario's marker
    assert client.post(f"/sandbox/webhooks/subscriptions/{sub['subscription_id']}/rotate-secret", json={}).status_code == 200
    deliver(client)
    (good,) = entries(client, box["inbox_id"])
    assert good["signature_valid"] is True and good["headers"]["X-OpesCare-Signature"].count("v1=") == 2
    (wrong,) = entries(client, bad["inbox_id"])
    assert wrong["signature_valid"] is False


def test_the_signature_check_wants_a_matching_key_and_a_recent_timestamp():
    from opescare_sandbox.domain.deliveries import signature_header
    header = signature_header("whsec_a" * 4, b"{}", 1_000)
    assert inbox.signature_valid(header, b"{}", ("whsec_a" * 4,), 1_100)
    assert not inbox.signature_valid(header, b"{}", ("whsec_b" * 4,), 1_100)
    assert not inbox.signature_valid(header, b"{ }", ("whsec_a" * 4,), 1_100)
    assert not inbox.signature_valid(header, b"{}", ("whsec_a" * 4,), 1_000 + 301)  # a replay


def test_inboxes_and_entries_are_bounded(client, subscribe, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_ENTRIES", 2)
    box = new_inbox(client)
    subscribe(box["url"])
    for _ in range(3):
        deliver(client)
    kept = entries(client, box["inbox_id"])
    assert len(kept) == 2 and kept[0]["received_at"] >= kept[1]["received_at"]
    for _ in range(inbox.MAX_INBOXES - 1):
        new_inbox(client)
    response = client.post("/sandbox/inbox")
    assert response.status_code == 422 and response.json["error"] == "inbox_limit"


def test_the_public_profile_delivers_to_an_inbox_though_it_refuses_loopback_receivers():
    with LiveServer(None, env=PUBLIC) as server:
        visitor = Visitor(server.url)
        box = visitor.request("POST", "/sandbox/inbox").json()
        assert box["url"].startswith(server.url)
        assert visitor.subscribe(server.url + "/hook").status_code == 400  # an ordinary loopback URL: refused
        assert visitor.subscribe(box["url"]).status_code == 201
        assert visitor.trigger().status_code == 201
        deadline = time.monotonic() + WAIT
        while not (got := visitor.request("GET", f"/sandbox/inbox/{box['inbox_id']}").json()["entries"]):
            assert time.monotonic() < deadline, "no delivery reached the inbox"
            time.sleep(0.1)
        assert got[0]["signature_valid"] is True


def test_an_inbox_and_its_entries_survive_a_restart(tmp_path):
    from opescare_sandbox import create_app

    def app():
        return create_app({"DATA_DIR": str(tmp_path), "RATE_LIMIT_ENABLED": False, "WEBHOOK_INTERVAL": 3600})

    first = app()
    client = first.test_client()
    token = client.post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
        "client_secret": "demo_secret_sandbox_2026"}).json["access_token"]
    box = new_inbox(client)
    assert client.post("/api/v1/connect/webhooks/subscriptions", headers={"Authorization": f"Bearer {token}"},
                       json={"callback_url": box["url"], "subscribed_events": ["patient.created"]}).status_code == 201
    deliver(client)
    first.extensions["opescare_sandbox"].extras["webhooks"].close()
    second = app()
    try:
        (entry,) = entries(second.test_client(), box["inbox_id"])
        assert entry["signature_valid"] is True
    finally:
        second.extensions["opescare_sandbox"].extras["webhooks"].close()
