"""Deliveries with a real HTTP receiver: signed envelope, background sending, retries on the sandbox clock, restart."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.domain import clock, deliveries, events

from .webhook_fixtures import WAIT

TRIGGER, RETRY, DELIVERIES = "/sandbox/webhooks/trigger", "/sandbox/webhooks/retry-pending", "/sandbox/webhooks/deliveries"


@pytest.fixture
def config():
    return {"WEBHOOK_TIMEOUT": 1.0, "WEBHOOK_INTERVAL": 3600}  # no periodic ticks: retries run when asked


@pytest.fixture
def frozen_clock(world):
    """List it first so tokens are minted on the frozen clock."""
    clock.set_now(world, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), frozen=True)


def settle(client) -> dict:
    """Run what is due and wait for attempts under way (the control is synchronous)."""
    response = client.post(RETRY)
    assert response.status_code == 200
    return response.json


def only_delivery(client, event_type: str = "patient.created") -> dict:
    """Registering a patient fires patient.created and health_id.created: the one delivery of the first."""
    return client.get(DELIVERIES, query_string={"type": event_type}).json["data"][0]["deliveries"][0]


def assert_signed(request, secret: str) -> None:
    t, v1 = (part.split("=", 1)[1] for part in request.headers["X-OpesCare-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert abs(int(t) - time.time()) < 60


def test_triggered_event_reaches_the_receiver_signed_over_the_received_bytes(client, receiver, subscribe):
    secret = subscribe(receiver.url())["webhook_secret"]
    response = client.post(TRIGGER, json={"type": "patient.created", "data": {
        "first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"},
        "facility_id": "00000000-0000-0000-0000-100000000001"})
    assert response.status_code == 201
    event = response.json
    health_id = event["data"]["health_id"]
    assert client.get(f"/api/v1/connect/patient/search?health_id={health_id}",
                      headers={"Authorization": f"Bearer {token(client)}"}).json["first_name"] == "Marie"
    (request,) = receiver.wait()
    assert_signed(request, secret)
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert (request.headers["X-OpesCare-Event-Id"], request.headers["X-OpesCare-Delivery-Attempt"]) == (event["id"], "1")
    assert request.json == {
        "id": event["id"], "type": "patient.created", "version": "1.0", "created_at": event["created_at"],
        "data": {"health_id": health_id, "display_name": "Marie F.", "country_code": "CM",
                 "identity_status": "provisional", "facility_id": "00000000-0000-0000-0000-100000000001"},
        "meta": {"organization_id": "00000000-0000-0000-0000-200000000001",
                 "facility_id": "00000000-0000-0000-0000-100000000001", "environment": "sandbox",
                 "request_id": response.headers["X-Request-Id"], "delivery_attempt": 1}}
    settle(client)
    delivery = only_delivery(client)
    assert (delivery["status"], delivery["attempt_count"], delivery["next_retry_at"]) == ("delivered", 1, None)
    attempt = delivery["attempts"][0]
    assert (attempt["status_code"], attempt["error"], attempt["url"]) == (204, None, receiver.url())
    assert attempt["signature"] == request.headers["X-OpesCare-Signature"]


def token(client) -> str:
    return client.post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
        "client_secret": "demo_secret_sandbox_2026"}).json["access_token"]


def test_record_event_in_domain_code_is_delivered(world, receiver, subscribe):
    """What resolve, consent and pushes do: record_event inside their own transaction."""
    secret = subscribe(receiver.url(), events=["patient.created", "consent.granted"])["webhook_secret"]
    with world.transaction():
        event = events.record_event(world, "patient.created", {"health_id": "CM-HID-ABCD-EFGH-AUG5"})
    (request,) = receiver.wait()
    assert_signed(request, secret)
    assert (request.json["id"], request.json["data"]) == (event["id"], {
        "health_id": "CM-HID-ABCD-EFGH-AUG5", "display_name": None, "country_code": None, "identity_status": None,
        "facility_id": None})
    assert request.json["meta"]["request_id"] is None  # not caused by a request: domain code run directly


def test_a_rolled_back_event_is_never_delivered(client, world, receiver, subscribe):
    subscribe(receiver.url())
    with pytest.raises(RuntimeError), world.transaction():
        events.record_event(world, "patient.created", {})
        raise RuntimeError("the request failed after recording")
    assert settle(client) == {"attempted": [], "awaited": 0, "pending": 0}
    assert len(world["deliveries"]) == 0 and receiver.requests.empty()


def test_only_matching_subscriptions_of_the_tenant_get_the_event(client, auth, get_token, receiver, subscribe):
    subscribe(receiver.url("/wants-it"), events=["patient.created"])
    subscribe(receiver.url("/other-type"), events=["stock.low"])
    other_tenant = {"Authorization": f"Bearer {get_token(tenant='t2')}", "X-Sandbox-Tenant": "t2"}
    subscribe(receiver.url("/other-tenant"), headers=other_tenant)
    client.post(TRIGGER, json={"type": "patient.created"})
    settle(client)
    assert [r.path for r in receiver.wait()] == ["/wants-it"]
    assert client.get(DELIVERIES, headers={"X-Sandbox-Tenant": "t2"}).json == {"data": []}


def test_failing_receiver_is_retried_on_the_schedule_then_exhausted_after_7_attempts(frozen_clock, client, world,
                                                                                     receiver, subscribe):
    receiver.status = 500
    subscribe(receiver.url())
    client.post(TRIGGER, json={"type": "patient.created"})
    settle(client)
    for step, delay in enumerate(deliveries.RETRY_DELAYS, start=2):
        clock.advance(world, delay - 1)
        assert settle(client)["attempted"] == [], f"attempt {step} ran early"
        clock.advance(world, 1)
        (result,) = settle(client)["attempted"]
        assert (result["attempt"], result["status_code"]) == (step, 500)
    assert result["status"] == "exhausted"
    clock.advance(world, 7 * 86400)
    assert settle(client) == {"attempted": [], "awaited": 0, "pending": 0}
    requests = receiver.wait(7)
    assert [r.headers["X-OpesCare-Delivery-Attempt"] for r in requests] == [str(n) for n in range(1, 8)]
    assert [r.json["meta"]["delivery_attempt"] for r in requests] == list(range(1, 8))
    assert receiver.requests.empty()
    delivery = only_delivery(client)
    assert (delivery["status"], delivery["attempt_count"], delivery["next_retry_at"]) == ("exhausted", 7, None)
    assert [a["attempted_at"] for a in delivery["attempts"]] == [
        "2026-03-01T08:00:00Z", "2026-03-01T08:01:00Z", "2026-03-01T08:06:00Z", "2026-03-01T08:21:00Z",
        "2026-03-01T09:21:00Z", "2026-03-01T15:21:00Z", "2026-03-02T15:21:00Z"]
    assert [a["next_retry_at"] for a in delivery["attempts"]] == [
        "2026-03-01T08:01:00Z", "2026-03-01T08:06:00Z", "2026-03-01T08:21:00Z", "2026-03-01T09:21:00Z",
        "2026-03-01T15:21:00Z", "2026-03-02T15:21:00Z", None]


def test_a_retry_that_succeeds_delivers(client, world, receiver, subscribe):
    receiver.statuses = [503]
    subscribe(receiver.url())
    client.post(TRIGGER, json={"type": "patient.created"})
    settle(client)
    clock.advance(world, 60)
    (result,) = settle(client)["attempted"]
    assert (result["attempt"], result["status_code"], result["status"]) == (2, 204, "delivered")


@pytest.mark.parametrize("config", [{"WEBHOOK_TIMEOUT": 1.0, "WEBHOOK_INTERVAL": 0.05}])
def test_the_scheduler_runs_due_retries_by_itself(client, world, receiver, subscribe):
    receiver.statuses = [500]
    subscribe(receiver.url())
    client.post(TRIGGER, json={"type": "patient.created"})
    receiver.wait()
    settle(client)
    clock.advance(world, 60)
    (retry,) = receiver.wait()  # no control call: the scheduler's tick found it due
    assert retry.headers["X-OpesCare-Delivery-Attempt"] == "2"


@pytest.mark.parametrize("config", [{"WEBHOOK_TIMEOUT": 0.3, "WEBHOOK_INTERVAL": 3600}])
def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(client, receiver, subscribe):
    receiver.delay = WAIT
    subscribe(receiver.url())
    client.post(TRIGGER, json={"type": "patient.created"})
    receiver.wait()
    settle(client)
    attempt = only_delivery(client)["attempts"][0]
    assert (attempt["status_code"], attempt["error"]) == (None, "timed out after 0.3 s")
    assert only_delivery(client)["status"] == "pending"


@pytest.mark.parametrize("config", [{"WEBHOOK_TIMEOUT": 5.0, "WEBHOOK_INTERVAL": 3600}])
def test_a_slow_receiver_does_not_slow_the_api_call_that_caused_the_event(client, receiver, subscribe):
    receiver.delay = 3.0
    subscribe(receiver.url())
    started = time.perf_counter()
    response = client.post(TRIGGER, json={"type": "patient.created"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 201
    receiver.wait()  # the delivery did start; the receiver is still sleeping on it
    assert elapsed < 0.5, f"the trigger call took {elapsed:.3f} s while the receiver sleeps 3 s"


def test_unreachable_receiver_is_recorded_as_an_error(client, subscribe):
    subscribe("http://127.0.0.1:9/closed")
    client.post(TRIGGER, json={"type": "patient.created"})
    settle(client)
    attempt = only_delivery(client)["attempts"][0]
    assert attempt["status_code"] is None and attempt["error"].startswith("ConnectionError")


@pytest.mark.parametrize("config", [{"WEBHOOK_WORKERS": 1, "WEBHOOK_QUEUE_SIZE": 1, "WEBHOOK_INTERVAL": 0.05}])
def test_rows_that_do_not_fit_the_queue_stay_pending_and_go_out_later(client, receiver, subscribe):
    receiver.delay = 0.2
    for n in range(4):
        subscribe(receiver.url(f"/r{n}"))
    client.post(TRIGGER, json={"type": "patient.created"})
    assert sorted(r.path for r in receiver.wait(4)) == ["/r0", "/r1", "/r2", "/r3"]


def test_trigger_with_an_unknown_type_is_422_and_records_nothing(client, world):
    response = client.post(TRIGGER, json={"type": "patient.exploded"})
    assert (response.status_code, response.json["error"], response.json["unknown_events"]) == (
        422, "validation_failed", ["patient.exploded"])
    assert len(world["events"]) == 0


@pytest.mark.parametrize("body", [{}, {"type": 3}, {"type": "patient.created", "data": [1]}])
def test_malformed_trigger_is_400(client, body):
    assert client.post(TRIGGER, json=body).status_code == 400


def test_deliveries_report_filters(client, world, subscribe, dispatcher):
    dispatcher.enabled = False  # rows stay pending: this test reads the outbox only
    subscribe("http://127.0.0.1:9/a", events=["patient.created", "stock.low"])
    first = client.post(TRIGGER, json={"type": "patient.created"}).json
    second = client.post(TRIGGER, json={"type": "stock.low"}).json
    granted = client.post(TRIGGER, json={"type": "consent.granted"})  # nobody subscribes: no deliveries
    def ids(query):
        return [e["id"] for e in client.get(DELIVERIES, query_string=query).json["data"]]
    assert len(ids({})) == 4  # registering a patient also fired health_id.created
    assert ids({"request_id": granted.headers["X-Request-Id"]}) == [granted.json["id"]]
    assert ids({"request_id": "req_nobody"}) == []
    assert ids({"type": "stock.low"}) == [second["id"]]
    assert ids({"event_id": first["id"]}) == [first["id"]]
    assert ids({"status": "pending"}) == [second["id"], first["id"]]
    assert ids({"status": "delivered"}) == []
    assert ids({"limit": 1}) == ids({})[:1]
    assert client.get(DELIVERIES, query_string={"status": "lost"}).status_code == 400


def test_secrets_never_reach_the_outbox_or_the_logs(client, receiver, subscribe, caplog):
    caplog.set_level(logging.DEBUG)
    secret = subscribe(receiver.url())["webhook_secret"]
    client.post(TRIGGER, json={"type": "patient.created"})
    settle(client)
    assert secret not in client.get(DELIVERIES).text
    assert secret not in caplog.text and "delivered" in caplog.text


def test_no_thread_starts_until_something_is_delivered_and_close_stops_them(client, receiver, subscribe, dispatcher):
    subscribe(receiver.url())
    assert dispatcher.threads() == []
    client.post(TRIGGER, json={"type": "patient.created"})
    receiver.wait()
    threads = dispatcher.threads()
    assert threads
    dispatcher.close()
    assert not any(t.is_alive() for t in threads)


def test_pending_deliveries_resume_after_a_restart(tmp_path, receiver):
    config = {"TESTING": True, "DATA_DIR": str(tmp_path), "RATE_LIMIT_ENABLED": False}
    first = create_app({**config, "WEBHOOK_DELIVERY": False})  # a server that dies before delivering
    client = first.test_client()
    token = client.post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
        "client_secret": "demo_secret_sandbox_2026"}).json["access_token"]
    client.post("/api/v1/connect/webhooks/subscriptions", headers={"Authorization": f"Bearer {token}"},
                json={"callback_url": receiver.url(), "subscribed_events": ["patient.created"]})
    event = client.post(TRIGGER, json={"type": "patient.created"}).json
    first.extensions["opescare_sandbox"].store.close()
    second = create_app(config)
    try:
        (request,) = receiver.wait()
        assert request.json["id"] == event["id"]
    finally:
        second.extensions["opescare_sandbox"].extras["webhooks"].close()


def test_envelope_body_is_utf8_json_exactly_as_signed(client, receiver, subscribe):
    secret = subscribe(receiver.url(), events=["patient.created"])["webhook_secret"]
    client.post(TRIGGER, json={"type": "patient.created", "data": {
        "first_name": "Zoë", "last_name": "Ébodé", "date_of_birth": "1988-02-29"}})
    (request,) = receiver.wait()
    assert_signed(request, secret)
    assert "Zoë É.".encode() in request.body
    assert json.loads(request.body.decode("utf-8"))["data"]["display_name"] == "Zoë É."
    assert int(request.headers["Content-Length"]) == len(request.body)
