"""Endpoints 10-12: subscribe (both field-name sets), list without secrets, delete, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import clock

from .conftest import PROD_CLIENT
from .webhook_fixtures import SUBSCRIPTIONS

URL = "https://his.example.org/webhooks/opescare"


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, datetime(2026, 3, 1, 8, 30, tzinfo=UTC), frozen=True)


def test_subscribe_returns_the_secret_once_with_stable_ids(client, auth):
    body = {"callback_url": URL, "subscribed_events": ["patient.created", "consent.granted"],
            "description": "HIS integration"}
    response = client.post(SUBSCRIPTIONS, json=body, headers=auth)
    assert response.status_code == 201
    assert response.json == {
        "subscription_id": "sub_b8311b9cc4471bdd3b26a176", "status": "active", "callback_url": URL,
        "subscribed_events": ["patient.created", "consent.granted"], "description": "HIS integration",
        "webhook_secret": "whsec_f6aa86be783c790d4719fd3ed67758ed", "created_at": "2026-03-01T08:30:00Z"}


def test_playground_field_names_and_own_secret_are_accepted(client, auth):
    body = {"endpoint_url": URL, "events": ["stock.low", "stock.low"], "secret": "my-own-secret-0123456789"}
    response = client.post(SUBSCRIPTIONS, json=body, headers=auth)
    assert response.status_code == 201
    assert (response.json["callback_url"], response.json["subscribed_events"], response.json["webhook_secret"]) == (
        URL, ["stock.low"], "my-own-secret-0123456789")
    assert response.json["description"] is None


@pytest.mark.parametrize("body, field", [
    ({"subscribed_events": ["patient.created"]}, "callback_url"),
    ({"callback_url": "ftp://his.example.org/x", "subscribed_events": ["patient.created"]}, "callback_url"),
    ({"callback_url": "not a url", "subscribed_events": ["patient.created"]}, "callback_url"),
    ({"callback_url": "javascript:alert(1)", "subscribed_events": ["patient.created"]}, "callback_url"),
    ({"callback_url": "https://x.org/" + "a" * 2040, "subscribed_events": ["patient.created"]}, "callback_url"),
    ({"callback_url": 42, "subscribed_events": ["patient.created"]}, "callback_url"),
    ({"callback_url": URL}, "subscribed_events"),
    ({"callback_url": URL, "subscribed_events": []}, "subscribed_events"),
    ({"callback_url": URL, "subscribed_events": "patient.created"}, "subscribed_events"),
    ({"callback_url": URL, "subscribed_events": [3]}, "subscribed_events.0"),
    ({"callback_url": URL, "subscribed_events": ["patient.created"], "secret": "short"}, "secret"),
    ({"callback_url": URL, "subscribed_events": ["patient.created"], "secret": "has spaces in it, no"}, "secret"),
    ({"callback_url": URL, "endpoint_url": URL + "/other", "subscribed_events": ["patient.created"]},
     "endpoint_url"),
    ({"callback_url": URL, "subscribed_events": ["patient.created"], "description": "x" * 501}, "description"),
])
def test_malformed_subscription_is_400_and_stores_nothing(client, auth, world, body, field):
    response = client.post(SUBSCRIPTIONS, json=body, headers=auth)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request" and field in response.json["errors"]
    assert len(world["subscriptions"]) == 0


def test_non_object_body_is_400(client, auth):
    response = client.post(SUBSCRIPTIONS, json=["patient.created"], headers=auth)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_unknown_event_types_are_422_listing_them(client, auth, world):
    body = {"callback_url": URL, "subscribed_events": ["patient.created", "patient.deleted", "foo"]}
    response = client.post(SUBSCRIPTIONS, json=body, headers=auth)
    assert response.status_code == 422
    assert (response.json["error"], response.json["unknown_events"]) == ("validation_failed",
                                                                         ["patient.deleted", "foo"])
    assert "consent.granted" in response.json["allowed_events"]
    assert len(world["subscriptions"]) == 0


def test_same_client_same_url_is_409_but_another_client_may_use_it(client, auth, get_token, subscribe):
    first = subscribe(URL)
    again = client.post(SUBSCRIPTIONS, json={"callback_url": URL, "subscribed_events": ["stock.low"]}, headers=auth)
    assert again.status_code == 409
    assert (again.json["error"], again.json["subscription_id"]) == ("duplicate_subscription",
                                                                    first["subscription_id"])
    other = subscribe(URL, headers={"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"})
    assert other["subscription_id"] != first["subscription_id"]


def test_list_shows_only_the_callers_subscriptions_without_secrets(client, auth, get_token, subscribe):
    mine = subscribe(URL, events=["stock.low"])
    theirs = subscribe(URL + "/prod", headers={"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"})
    response = client.get(SUBSCRIPTIONS, headers=auth)
    assert response.status_code == 200
    expected = {k: v for k, v in mine.items() if k != "webhook_secret"}
    assert response.json == {"data": [expected]}
    assert mine["webhook_secret"] not in response.text and theirs["webhook_secret"] not in response.text


def test_delete_is_204_then_the_subscription_is_gone(client, auth, subscribe):
    sub = subscribe(URL)
    response = client.delete(f"{SUBSCRIPTIONS}/{sub['subscription_id']}", headers=auth)
    assert (response.status_code, response.data) == (204, b"")
    assert client.get(SUBSCRIPTIONS, headers=auth).json == {"data": []}
    again = client.delete(f"{SUBSCRIPTIONS}/{sub['subscription_id']}", headers=auth)
    assert (again.status_code, again.json["error"]) == (404, "subscription_not_found")
    assert subscribe(URL)["subscription_id"] != sub["subscription_id"]  # the URL is free again


@pytest.mark.parametrize("subscription_id", ["sub_unknown", "x" * 300])
def test_deleting_an_unknown_subscription_is_404(client, auth, subscription_id):
    response = client.delete(f"{SUBSCRIPTIONS}/{subscription_id}", headers=auth)
    assert (response.status_code, response.json["error"]) == (404, "subscription_not_found")


def test_deleting_another_clients_subscription_is_404_and_keeps_it(client, auth, get_token, subscribe):
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"}
    theirs = subscribe(URL, headers=prod)
    response = client.delete(f"{SUBSCRIPTIONS}/{theirs['subscription_id']}", headers=auth)
    assert (response.status_code, response.json["error"]) == (404, "subscription_not_found")
    assert len(client.get(SUBSCRIPTIONS, headers=prod).json["data"]) == 1


def test_deleting_cancels_pending_deliveries(client, auth, subscribe, dispatcher):
    dispatcher.enabled = False  # keep the delivery pending: nothing is sent in this test
    sub = subscribe("http://127.0.0.1:9/never")
    event = client.post("/sandbox/webhooks/trigger", json={"type": "patient.created"}).json
    client.delete(f"{SUBSCRIPTIONS}/{sub['subscription_id']}", headers=auth)
    report = client.get("/sandbox/webhooks/deliveries", query_string={"event_id": event["id"]}).json["data"]
    assert [d["status"] for d in report[0]["deliveries"]] == ["cancelled"]


@pytest.mark.parametrize("method, path", [("post", SUBSCRIPTIONS), ("get", SUBSCRIPTIONS),
                                          ("delete", f"{SUBSCRIPTIONS}/sub_x"),
                                          ("post", "/api/v1/connect/webhooks/events/evt_x/replay")])
def test_webhook_endpoints_need_a_token(client, method, path):
    body = {"callback_url": URL, "subscribed_events": ["patient.created"]}  # valid: the body is parsed first
    response = getattr(client, method)(path, json=body)
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


def test_subscriptions_are_per_tenant(client, get_token, subscribe):
    subscribe(URL)
    other = {"Authorization": f"Bearer {get_token(tenant='ci-job-2')}", "X-Sandbox-Tenant": "ci-job-2"}
    assert client.get(SUBSCRIPTIONS, headers=other).json == {"data": []}
