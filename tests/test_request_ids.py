"""X-Request-Id on every response: the client's own when well-formed, else the tenant's deterministic `req_` sequence."""

from __future__ import annotations

import pytest

RESOLVE = "/api/v1/connect/patients/resolve"
SUBSCRIPTIONS = "/api/v1/connect/webhooks/subscriptions"


def test_the_server_numbers_each_tenants_requests_from_one(client):
    first = [client.get("/sandbox/health").headers["X-Request-Id"] for _ in range(3)]
    other = client.get("/sandbox/health", headers={"X-Sandbox-Tenant": "t2"}).headers["X-Request-Id"]
    assert (first, other) == (["req_000001", "req_000002", "req_000003"], "req_000001")


@pytest.mark.parametrize("sent", ["a", "HIS-7f3:resolve.2_x", "x" * 128, "0.1:2-3_4"])
def test_a_well_formed_client_id_is_kept(client, sent):
    assert client.get("/sandbox/health", headers={"X-Request-Id": sent}).headers["X-Request-Id"] == sent


@pytest.mark.parametrize("sent", ["", "x" * 129, "has space", "semi;colon", "slash/", "é"])
def test_anything_else_is_replaced_by_the_servers_own(client, sent):
    response = client.get("/sandbox/health", headers={"X-Request-Id": sent.encode("utf-8").decode("latin-1")})
    assert response.headers["X-Request-Id"] == "req_000001"


def test_errors_and_untenanted_requests_are_named_too(client, auth):
    assert client.get("/nowhere").headers["X-Request-Id"].startswith("req_")
    assert client.post(RESOLVE, json={}, headers=auth).headers["X-Request-Id"].startswith("req_")
    bad_tenant = client.get("/sandbox/health", headers={"X-Sandbox-Tenant": "no spaces allowed"})
    assert (bad_tenant.status_code, bad_tenant.headers["X-Request-Id"]) == (400, "req_t000001")


def test_a_reused_client_id_keeps_journal_entries_apart(client):
    for _ in range(2):
        client.get("/sandbox/audit", headers={"X-Request-Id": "same"})
    entries = client.get("/sandbox/requests", query_string={"request_id": "same"}).json["data"]
    assert [e["request_id"] for e in entries] == ["same", "same"]
    assert len({e["id"] for e in entries}) == 2


def test_a_204_has_no_content_type(client, auth):
    created = client.post(SUBSCRIPTIONS, headers=auth, json={"callback_url": "http://127.0.0.1:9/x",
                                                             "subscribed_events": ["patient.created"]}).json
    response = client.delete(f"{SUBSCRIPTIONS}/{created['subscription_id']}", headers=auth)
    assert (response.status_code, response.data, response.headers.get("Content-Type")) == (204, b"", None)
    assert response.headers["X-Request-Id"].startswith("req_")


def test_cross_origin_clients_may_send_and_read_it(client):
    preflight = client.options("/api/v1/connect/patients/resolve", headers={
        "Origin": "https://example.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-request-id"})
    assert "x-request-id" in preflight.headers.get("Access-Control-Allow-Headers", "").lower()
    response = client.get("/sandbox/health", headers={"Origin": "https://example.test"})
    assert "x-request-id" in response.headers.get("Access-Control-Expose-Headers", "").lower()
