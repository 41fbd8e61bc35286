"""The public profile's boundary, over real servers: tenants, admin split, CORS, stalls, login throttling, secrets."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from opescare_sandbox import create_app
from tests.hosted import ADMIN, LOCAL_WITH_ADMIN, OPENEYES_SEARCH, PUBLIC, SUBSCRIPTIONS, TOKEN_URL, Visitor, basic
from tests.live_server import LiveServer
from tests.test_audit import CASE_A as RESOLVE_CASE

ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
RECONCILIATION = "/api/v1/connect/reconciliation"
FAST = 2.0  # seconds: liveness bound for a request that must not sleep


@pytest.fixture(scope="module")
def public():
    with LiveServer(None, env=PUBLIC) as server:
        yield server


@pytest.fixture(scope="module")
def local():
    with LiveServer(None, env=LOCAL_WITH_ADMIN) as server:
        yield server


# -- tenant boundary -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["public", "local"])
def test_health_lists_tenants_only_for_the_admin(request, mode):
    server = request.getfixturevalue(mode)
    Visitor(server.url, "secret-tenant-name").request("GET", "/sandbox/clock", headers=ADMIN_AUTH)
    assert requests.get(server.url + "/sandbox/health", timeout=5).json()["tenants"] == []
    assert "secret-tenant-name" in requests.get(server.url + "/sandbox/health", headers=ADMIN_AUTH, timeout=5).json()[
        "tenants"]


@pytest.mark.parametrize("mode", ["public", "local"])
def test_a_duplicated_tenant_header_is_400(request, mode):
    server = request.getfixturevalue(mode)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.putrequest("GET", "/sandbox/clock")
    connection.putheader("X-Sandbox-Tenant", "default")
    connection.putheader("X-Sandbox-Tenant", "alpha")
    connection.putheader("Authorization", f"Bearer {ADMIN}")
    connection.endheaders()
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["error"]) == (400, "duplicate_tenant_header")
    connection.close()


def test_public_per_tenant_controls_need_only_the_tenant_name(public):
    visitor = Visitor(public.url)
    assert visitor.request("POST", "/sandbox/reset").status_code == 200
    assert visitor.request("GET", "/sandbox/requests").status_code == 200


def test_public_global_controls_need_the_admin_token(public):
    visitor = Visitor(public.url)
    assert visitor.request("POST", "/sandbox/admin/anything").json()["error"] == "admin_token_required"
    assert visitor.request("POST", "/sandbox/admin/anything", headers=ADMIN_AUTH).status_code == 404  # none yet


def test_local_controls_need_the_admin_token_when_one_is_set(local):
    assert Visitor(local.url).request("POST", "/sandbox/reset").status_code == 401


@pytest.mark.parametrize("mode", ["public", "local"])
def test_a_cors_preflight_needs_no_admin_token(request, mode):
    server = request.getfixturevalue(mode)
    response = requests.options(server.url + "/sandbox/reset", timeout=5, headers={
        "Origin": "https://playground.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"]


# -- stalls -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["public", "local"])
def test_an_unauthenticated_request_never_sleeps(request, mode):
    server = request.getfixturevalue(mode)
    url = server.url + "/api/v1/connect/patients/resolve"

    def stall(_):
        started = time.monotonic()
        status = requests.post(url, json={}, headers={"Prefer": "delay=5000"}, timeout=15).status_code
        return status, time.monotonic() - started

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(stall, range(16)))
    assert {status for status, _ in results} == {401}
    assert max(seconds for _, seconds in results) < FAST


def test_openeyes_prefer_needs_valid_basic_credentials(public):
    started = time.monotonic()
    response = requests.get(public.url + OPENEYES_SEARCH, params={"term": "x"}, timeout=15,
                            headers={"Prefer": "delay=5000", **basic("api_user", "wrong")})
    assert response.status_code == 401 and time.monotonic() - started < FAST


def test_delayed_requests_in_flight_are_bounded_per_tenant(public):
    visitor = Visitor(public.url)
    headers = {**visitor.auth, "Prefer": "delay=1500"}

    def delayed(_):
        return visitor.request("GET", RECONCILIATION, headers=headers)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(delayed, range(4)))
    refused = [a.json() for a in answers if a.status_code == 429]
    assert refused and all(r["error"] == "delay_limit" and r["limit_value"] == 2 for r in refused)
    other = Visitor(public.url)
    assert other.request("GET", RECONCILIATION, headers=other.auth).status_code != 429  # another tenant is unaffected


# -- login throttling ----------------------------------------------------------------------------------
def test_failed_token_requests_are_throttled_per_client(public):
    visitor = Visitor(public.url)
    statuses = [visitor.request("POST", TOKEN_URL, json={"grant_type": "client_credentials",
                                                         "client_id": "demo_dev_sandbox", "client_secret": f"x{n}"}
                                ).status_code for n in range(12)]
    assert statuses == [401] * 10 + [429] * 2
    last = visitor.request("POST", TOKEN_URL, json={"grant_type": "client_credentials",
                                                    "client_id": "demo_dev_sandbox", "client_secret": "x"})
    assert last.json()["error"] == "login_throttled" and int(last.headers["Retry-After"]) >= 1


def test_failed_openeyes_logins_are_throttled_per_user(public):
    visitor = Visitor(public.url)
    statuses = [visitor.request("GET", OPENEYES_SEARCH, params={"term": "x"}, headers=basic("api_user", f"x{n}")
                                ).status_code for n in range(11)]
    assert statuses == [401] * 10 + [429]


# -- secrets --------------------------------------------------------------------------------------------
SECRET = "hosted-webhook-secret-0123456789"


def test_secrets_never_reach_the_journal_or_the_log(public):
    visitor = Visitor(public.url)
    auth = {**visitor.auth, "Content-Type": "application/json"}
    escaped = ('{"callback_url": "https://8.8.8.8/hook", "subscribed_events": ["patient.created"], '
               '"s\\u0065cret": "' + SECRET + '"}')
    visitor.request("POST", SUBSCRIPTIONS, data=escaped, headers=auth)
    visitor.request("POST", SUBSCRIPTIONS, data='{"secret": "' + SECRET + ' two words", broken', headers=auth)
    visitor.request("POST", SUBSCRIPTIONS + "?Client-Secret=" + SECRET, data=f"secret={SECRET}",
                    headers={**visitor.auth, "Content-Type": "application/x-www-form-urlencoded"})
    visitor.request("POST", TOKEN_URL, data={"grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
                                             "CLIENT_SECRET": SECRET})
    assert visitor.subscribe(f"https://8.8.8.8/hook?api_token={SECRET}").status_code == 201
    visitor.trigger()
    assert visitor.deliveries() and SECRET not in json.dumps(visitor.deliveries())
    visitor.request("POST", "/api/v1/connect/patients/resolve", headers=visitor.auth, json={
        **RESOLVE_CASE, "external_reference": f"HIS-1?api_key={SECRET}"})
    audit = json.dumps(visitor.request("GET", "/sandbox/audit").json())
    assert SECRET not in audit and "HIS-1?api_key=[redacted]" in audit
    journal = json.dumps(visitor.request("GET", "/sandbox/requests").json())
    assert SECRET not in journal and "two words" not in journal and visitor.token() not in journal
    assert SECRET not in public.log_text()


# -- proxies and the profile itself ---------------------------------------------------------------------
def test_x_forwarded_for_is_believed_only_from_trusted_proxies():
    app = create_app({"TESTING": True, "IN_MEMORY": True, "TRUSTED_PROXIES": "10.0.0.0/8"})
    seen = []
    app.before_request_funcs.setdefault(None, []).append(lambda: seen.append(__import__("flask").request.remote_addr))
    client = app.test_client()
    client.get("/sandbox/clock", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.2"},
               environ_base={"REMOTE_ADDR": "10.0.0.1"})
    client.get("/sandbox/clock", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == ["203.0.113.7", "127.0.0.1"]


def test_public_without_the_proxy_warns():
    server = LiveServer(None, "--public").start()
    try:
        assert "WARNING: --public without SANDBOX_BEHIND_PROXY=1" in server.log_text()
    finally:
        server.stop()


@pytest.mark.parametrize("raw", [
    b'{"s\\u0065cret": "S3CR3T"}', b'{"Client-Secret": "S3CR3T"}', b'{"clientSecret": "S3CR3T"}',
    '{"\uff33\uff25\uff23\uff32\uff25\uff34": "S3CR3T"}'.encode(), b'[{"x": {"password": "S3CR3T"}}]',
    b'{"url": "https://h/p?api_key=S3CR3T&a=1"}', b'{"secret": "S3CR3T" broken',
])
@pytest.mark.parametrize("ours", [False, True])
def test_every_spelling_of_a_secret_is_redacted(raw, ours):
    from opescare_sandbox.storage.journal import body_excerpt

    assert "S3CR3T" not in body_excerpt(raw, ours=ours)


def test_a_request_body_that_does_not_parse_keeps_no_excerpt():
    from opescare_sandbox.storage.journal import body_excerpt

    assert body_excerpt(b"S3CR3T plain text") == "[unparsed body: 17 bytes]"


def test_a_body_too_large_to_redact_keeps_no_excerpt():
    from opescare_sandbox.storage.journal import PARSE_LIMIT, body_excerpt

    assert body_excerpt(b'{"a": "' + b"x" * PARSE_LIMIT + b'"}') == f"[body of {PARSE_LIMIT + 9} bytes: not kept]"
