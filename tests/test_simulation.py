"""`Prefer: code=` / `Prefer: delay=` and `?__sandbox_prefer=`: documented error bodies, no state change, no blocking."""

from __future__ import annotations

import base64
import threading
import time

import pytest
import requests
from flask import request
from werkzeug.serving import make_server

from opescare_sandbox import create_app
from opescare_sandbox.errors import InvalidRequest
from opescare_sandbox.runtime.simulation import Preferences, parse

from .conftest import DEMO_CLIENT
from .probes import CONNECT_PROBE, OPENEYES_PROBE, add_probes

TOKEN_URL = "/api/v1/connect/auth/token"
OPENEYES_USER = {"Authorization": "Basic " + base64.b64encode(b"api_user:password").decode()}  # Prefer needs a login


@pytest.fixture
def app(app):
    return add_probes(app)


@pytest.mark.parametrize("values,expected", [
    (["code=503"], Preferences(code=503)),
    (["delay=200"], Preferences(delay_ms=200)),
    (["code=429, delay=5"], Preferences(code=429, delay_ms=5)),
    (["return=minimal", "code=404"], Preferences(code=404)),
    (['code="500"'], Preferences(code=500)),
    (["respond-async"], Preferences()),
])
def test_preferences_parse(values, expected):
    assert parse(values) == expected


@pytest.mark.parametrize("value", ["code=200", "code=302", "code=600", "code=abc", "code=", "delay=-5",
                                   "delay=1.5", "delay=10001"])
def test_bad_preferences_are_invalid(value):
    with pytest.raises(InvalidRequest):
        parse([value], max_delay_ms=10_000)


@pytest.mark.parametrize("code,error", [
    (400, "invalid_request"), (401, "token_invalid"), (403, "invalid_scope"), (404, "not_found"),
    (409, "idempotency_conflict"), (422, "validation_failed"), (500, "internal_error"), (503, "service_unavailable"),
])
def test_prefer_code_answers_the_documented_envelope(client, auth, code, error):
    response = client.get(CONNECT_PROBE, headers={**auth, "Prefer": f"code={code}"})
    assert response.status_code == code
    body = response.json
    assert (body["error"], body["error_code"], body["status"]) == (error, error.upper(), code)
    assert set(body) >= {"error", "error_code", "message", "status"}


def test_prefer_429_has_retry_after_header_and_field(client, auth):
    response = client.get(CONNECT_PROBE, headers={**auth, "Prefer": "code=429"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json == {"error": "rate_limit_exceeded", "error_code": "RATE_LIMIT_EXCEEDED",
                             "message": "Too many requests for this client; slow down.", "status": 429,
                             "retry_after": 1}


def test_prefer_applies_only_after_authentication(client):
    response = client.get(CONNECT_PROBE, headers={"Prefer": "code=503"})
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


def test_prefer_code_on_the_token_endpoint_issues_no_token(client):
    response = client.post(TOKEN_URL, json={"grant_type": "client_credentials", **DEMO_CLIENT},
                           headers={"Prefer": "code=500"})
    assert response.status_code == 500 and "access_token" not in response.json


def test_prefer_code_changes_no_state(client, auth, world):
    before = world.export_json()
    response = client.post(CONNECT_PROBE + "/audit", headers={**auth, "Prefer": "code=500"})
    assert response.status_code == 500
    assert world.export_json() == before
    assert client.post(CONNECT_PROBE + "/audit", headers=auth).json == {"audit_rows": 1}


def test_query_parameter_works_like_the_header(client, auth):
    response = client.get(f"{CONNECT_PROBE}?__sandbox_prefer=code=503,delay=0", headers=auth)
    assert (response.status_code, response.json["error"], response.headers["Retry-After"]) == (
        503, "service_unavailable", "1")


@pytest.mark.parametrize("code,body", [(401, "401 Unauthorized"), (403, "403 Forbidden")])
def test_openeyes_auth_failures_are_bare_json_strings(client, code, body):
    response = client.get(OPENEYES_PROBE, headers={"Prefer": f"code={code}", **OPENEYES_USER})
    assert (response.status_code, response.json, response.mimetype) == (code, body, "application/json")
    assert (response.headers.get("WWW-Authenticate") == 'Basic realm="OpenEyes"') is (code == 401)


def test_openeyes_other_codes_use_the_envelope(client):
    response = client.get(OPENEYES_PROBE + "?__sandbox_prefer=code=500", headers=OPENEYES_USER)
    assert (response.status_code, response.json["error"]) == (500, "internal_error")


def test_bad_prefer_value_is_400(client, auth):
    response = client.get(CONNECT_PROBE, headers={**auth, "Prefer": "code=299"})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert "Prefer" in response.json["errors"]


def test_delay_above_the_configured_cap_is_400(client):
    response = client.get(CONNECT_PROBE, headers={"Prefer": "delay=10001"})
    assert response.status_code == 400


def test_controls_ignore_prefer(client):
    response = client.get("/sandbox/clock", headers={"Prefer": "code=500"})
    assert response.status_code == 200


def test_unknown_preferences_are_ignored(client, auth):
    assert client.get(CONNECT_PROBE, headers={**auth, "Prefer": "return=minimal"}).status_code == 200


# -- delay on a real threaded server -------------------------------------------------------------------

@pytest.fixture
def live_server():
    """A real threaded HTTP server; `arrived` is set as soon as a delayed request reaches it."""
    app = add_probes(create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False}))
    arrived = threading.Event()

    def note_delayed_request():
        if "delay" in request.headers.get("Prefer", ""):
            arrived.set()

    app.before_request_funcs.setdefault(None, []).insert(0, note_delayed_request)  # runs before the delay
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", arrived
    server.shutdown()
    thread.join(5)


def test_a_delayed_request_does_not_hold_up_another_client(live_server):
    url, arrived = live_server
    slow = {}

    def delayed():
        started = time.perf_counter()
        slow["status"] = requests.get(f"{url}{OPENEYES_PROBE}", headers={"Prefer": "delay=1500", **OPENEYES_USER},
                                      timeout=10).status_code
        slow["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=delayed)
    thread.start()
    assert arrived.wait(5), "the delayed request never reached the server"
    started = time.perf_counter()
    token = requests.post(f"{url}{TOKEN_URL}", json={"grant_type": "client_credentials", **DEMO_CLIENT}, timeout=10)
    quick = time.perf_counter() - started
    thread.join(10)
    assert token.status_code == 200 and quick < 0.75, f"normal request took {quick:.3f}s"
    assert slow["status"] == 200 and slow["seconds"] >= 1.5
    assert not thread.is_alive()
