"""Per-client rate limit on Connect endpoints: headers always, 429 with Retry-After, windows per tenant and client."""

from __future__ import annotations

import pytest

from opescare_sandbox.runtime.ratelimit import Decision, RateLimiter

from .conftest import PROD_CLIENT
from .probes import CONNECT_PROBE, OPENEYES_PROBE, add_probes

TOKEN_URL = "/api/v1/connect/auth/token"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def config():
    return {"RATE_LIMIT_ENABLED": True, "RATE_LIMIT": 3}


@pytest.fixture
def fake_clock():
    return FakeClock()


@pytest.fixture
def app(app, fake_clock):
    app.extensions["opescare_sandbox"].extras["rate_limiter"].clock = fake_clock
    return add_probes(app)


# -- the limiter -------------------------------------------------------------------------------------

def test_limiter_counts_a_rolling_window(fake_clock):
    limiter = RateLimiter(2, window=60, clock=fake_clock)
    assert limiter.hit("a") == Decision(True, 2, 1, 0)
    fake_clock.now += 10
    assert limiter.hit("a") == Decision(True, 2, 0, 0)
    fake_clock.now += 20
    assert limiter.hit("a") == Decision(False, 2, 0, 30)  # the first hit leaves the window 30 s from now
    fake_clock.now += 30
    assert limiter.hit("a") == Decision(True, 2, 0, 0)
    assert limiter.hit("b").allowed


def test_refused_requests_do_not_extend_the_wait(fake_clock):
    limiter = RateLimiter(1, window=60, clock=fake_clock)
    limiter.hit("a")
    for _ in range(5):
        fake_clock.now += 10
        limiter.hit("a")
    fake_clock.now += 10
    assert limiter.hit("a").allowed


def test_retry_after_is_at_least_one_second(fake_clock):
    limiter = RateLimiter(1, window=60, clock=fake_clock)
    limiter.hit("a")
    fake_clock.now += 59.9
    assert limiter.hit("a").retry_after == 1


def test_limiter_memory_is_bounded_by_the_limit(fake_clock):
    limiter = RateLimiter(5, window=60, clock=fake_clock)
    for _ in range(1000):
        limiter.hit("a")
    assert len(limiter._hits["a"]) == 5


# -- over HTTP -----------------------------------------------------------------------------------------

def call(client, token, tenant=None):
    headers = {"Authorization": f"Bearer {token}"}
    if tenant:
        headers["X-Sandbox-Tenant"] = tenant
    return client.get(CONNECT_PROBE, headers=headers)


def test_every_connect_response_carries_the_headers(client, get_token):
    token = get_token()
    remaining = [call(client, token).headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    assert call(client, token).headers["X-RateLimit-Limit"] == "3"


def test_over_the_limit_is_429_with_retry_after(client, get_token, fake_clock):
    token = get_token()
    for _ in range(3):
        assert call(client, token).status_code == 200
    fake_clock.now += 15
    response = call(client, token)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "45"
    assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == ("3", "0")
    assert response.json == {"error": "rate_limit_exceeded", "error_code": "RATE_LIMIT_EXCEEDED",
                             "message": "Too many requests for this client; slow down.", "status": 429,
                             "retry_after": 45, "limit": 3}
    fake_clock.now += 45
    assert call(client, token).status_code == 200


def test_the_token_endpoint_is_not_limited(client, get_token):
    for _ in range(5):
        get_token()
    response = client.post(TOKEN_URL, json={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})
    assert (response.status_code, response.headers["X-RateLimit-Remaining"]) == (401, "3")


def test_clients_and_tenants_have_their_own_windows(client, get_token):
    demo = get_token()
    for _ in range(3):
        call(client, demo)
    assert call(client, demo).status_code == 429
    assert call(client, get_token(creds=PROD_CLIENT)).status_code == 200
    assert call(client, get_token(tenant="other"), tenant="other").status_code == 200


def test_unauthenticated_requests_are_not_counted(client, get_token):
    for _ in range(5):
        assert client.get(CONNECT_PROBE).status_code == 401
    assert call(client, get_token()).headers["X-RateLimit-Remaining"] == "2"


def test_openeyes_and_controls_have_no_rate_limit_headers(client):
    assert "X-RateLimit-Limit" not in client.get(OPENEYES_PROBE).headers
    assert "X-RateLimit-Limit" not in client.get("/sandbox/clock").headers


def test_switched_off_means_no_headers_and_no_limit():
    from opescare_sandbox import create_app

    app = add_probes(create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "RATE_LIMIT": 1}))
    client = app.test_client()
    token = client.post(TOKEN_URL, json={"grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
                                         "client_secret": "demo_secret_sandbox_2026"}).json["access_token"]
    responses = [call(client, token) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert "X-RateLimit-Limit" not in responses[-1].headers


def test_the_default_limit_is_200_per_minute():
    from opescare_sandbox.config import load_config

    config = load_config({}, environ={})
    assert (config["RATE_LIMIT"], config["RATE_LIMIT_ENABLED"]) == (200, True)
    assert load_config({}, environ={"SANDBOX_RATE_LIMIT_ENABLED": "false"})["RATE_LIMIT_ENABLED"] is False
