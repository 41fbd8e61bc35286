"""The `sandbox` and `sandbox_server` fixtures' helpers: automatic auth, cached-but-never-stale tokens, clock, deliveries."""

from __future__ import annotations

import jwt
import pytest
import requests

from opescare_sandbox.domain import clock
from opescare_sandbox.errors import InvalidClient

VERIFY = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"
OPENEYES = "/api/v1/patient/search"


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("kwargs, status", [
    ({}, 200),
    ({"auth": False}, 401),
    ({"headers": {"Authorization": "Bearer not-a-token"}}, 401),
    ({"headers": [("authorization", "Bearer not-a-token")]}, 401),  # header names are case-insensitive
    ({"auth": ("api_user", "password")}, 401),  # Basic is not a Connect credential
])
def test_connect_calls_carry_the_demo_token_unless_told_otherwise(sandbox, kwargs, status):
    assert sandbox.get(VERIFY, **kwargs).status_code == status


@pytest.mark.parametrize("kwargs, status", [({}, 200), ({"auth": False}, 401), ({"auth": ("viewer", "viewer")}, 403)])
def test_openeyes_calls_carry_the_api_user_basic_auth(sandbox, kwargs, status):
    assert sandbox.get(OPENEYES, query_string={"term": "H789012"}, **kwargs).status_code == status


def test_openeyes_auth_is_the_published_api_user(sandbox_server):
    response = requests.get(sandbox_server.url + OPENEYES, params={"term": "H789012"},
                            auth=sandbox_server.openeyes_auth, timeout=10)
    assert (response.status_code, response.json()[0]["is_deceased"]) == (200, True)


def test_another_tenant_gets_a_token_of_its_own(sandbox):
    other = {"X-Sandbox-Tenant": "ci-job-7"}
    assert sandbox.get(VERIFY, headers=other).status_code == 200
    assert sandbox.get(VERIFY, headers={**other, "Authorization": f"Bearer {sandbox.token()}"}).status_code == 401
    assert claims(sandbox.token(tenant="ci-job-7"))["tenant"] == "ci-job-7"


def test_a_bad_tenant_name_is_the_servers_400_not_a_fixture_error(sandbox):
    response = sandbox.get(VERIFY, headers={"X-Sandbox-Tenant": "no spaces!"})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_tokens_are_reused_while_valid(sandbox):
    assert sandbox.token() == sandbox.token()
    assert sandbox.token(scope="patient:profile:read") != sandbox.token()
    assert claims(sandbox.token(scope="patient:profile:read"))["scopes"] == ["patient:profile:read"]


@pytest.mark.parametrize("move", [
    lambda s: s.advance_clock(3600 - 30),  # inside the last minute of the token's life
    lambda s: s.advance_clock(86400),
    lambda s: s.set_clock("2020-01-01T00:00:00Z"),  # before the cached token was issued
    lambda s: s.reset(),
], ids=["last-minute", "a-day-later", "back-in-2020", "reset"])
def test_a_token_is_never_handed_out_stale(sandbox, move):
    sandbox.token()
    move(sandbox)
    assert sandbox.get(VERIFY).status_code == 200
    token = sandbox.token()
    assert sandbox.get(VERIFY, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert claims(token)["exp"] - clock.now_ts(sandbox.world) >= 60  # at least a minute left to use it


def test_a_token_cached_in_an_earlier_test(sandbox):
    """Runs after the tests above in the same session: whatever they cached must still be accepted."""
    assert sandbox.get(VERIFY).status_code == 200


def test_a_client_the_test_created_is_not_cached_past_its_world(sandbox):
    created = sandbox.post("/sandbox/clients", json={"client_id": "acme_his", "scopes": ["patient:profile:read"],
                                                        "facility_id": "00000000-0000-0000-0000-100000000002"})
    assert created.status_code == 201, created.json
    secret = created.json["client_secret"]
    assert claims(sandbox.token(client_id="acme_his", client_secret=secret))["client_id"] == "acme_his"
    sandbox.reset()
    with pytest.raises(InvalidClient):
        sandbox.token(client_id="acme_his", client_secret=secret)


def test_wrong_credentials_raise_the_token_endpoints_error(sandbox):
    with pytest.raises(InvalidClient):
        sandbox.token(client_secret="wrong")


def test_clock_helpers_move_the_tenants_clock(sandbox):
    assert sandbox.set_clock("2027-01-01T00:00:00Z", frozen=True)["now"] == "2027-01-01T00:00:00Z"
    assert sandbox.advance_clock(90)["now"] == "2027-01-01T00:01:30Z"
    assert sandbox.get("/sandbox/clock").json["now"] == "2027-01-01T00:01:30Z"


def test_helpers_are_not_journaled(sandbox):
    sandbox.token(scope="patient:profile:read")
    sandbox.advance_clock(5)
    sandbox.deliveries()
    assert sandbox.get("/sandbox/requests").json["count"] == 0


def test_deliveries_runs_due_deliveries_and_reports_them(sandbox_server):
    subscribed = requests.post(sandbox_server.url + "/api/v1/connect/webhooks/subscriptions", headers=sandbox_server.headers(),
                               json={"callback_url": "http://127.0.0.1:9/nobody-listens", "subscribed_events": ["stock.low"]},
                               timeout=10)
    assert subscribed.status_code == 201
    requests.post(sandbox_server.url + "/sandbox/webhooks/trigger", json={"type": "stock.low"}, timeout=10)
    [event] = sandbox_server.deliveries()
    [delivery] = event["deliveries"]
    assert (event["type"], delivery["status"], delivery["attempt_count"]) == ("stock.low", "pending", 1)
    assert delivery["attempts"][0]["error"].startswith("ConnectionError")
    assert sandbox_server.deliveries(flush=False, status="delivered") == []


def test_deliveries_filter_by_the_request_that_caused_them(sandbox):
    fired = sandbox.post("/sandbox/webhooks/trigger", json={"type": "stock.low"},
                         headers={"X-Request-Id": "ci-run-7:stock"})
    sandbox.post("/sandbox/webhooks/trigger", json={"type": "payment.completed"})
    assert [e["id"] for e in sandbox.deliveries(request_id="ci-run-7:stock")] == [fired.json["id"]]
