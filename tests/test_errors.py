"""Every error path renders the one JSON envelope: never HTML, never a stack trace."""

from __future__ import annotations

import pytest
from flask import Blueprint as FlaskBlueprint

ENVELOPE_KEYS = {"error", "error_code", "message", "status"}


@pytest.fixture
def config():
    return {"MAX_CONTENT_LENGTH": 1024}


@pytest.fixture
def app(app):
    boom = FlaskBlueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret internals /etc/passwd")

    app.config["TESTING"] = False  # let the app handle the exception as in production
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.register_blueprint(boom)
    return app


def assert_envelope(response, status, error):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) >= ENVELOPE_KEYS
    assert (body["status"], body["error"], body["error_code"]) == (status, error, error.upper())
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_path_is_404_json(client):
    assert_envelope(client.get("/api/v1/connect/nothing-here"), 404, "not_found")


def test_wrong_method_is_405_json_with_allow(client):
    response = client.put("/sandbox/health")
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400_with_field_messages(client):
    body = assert_envelope(client.post("/sandbox/reset", data="{", content_type="application/json"), 400,
                           "invalid_request")
    assert body["errors"] == {"body": ["Invalid JSON body."]}


def test_schema_violation_is_400_with_field_messages(client):
    body = assert_envelope(client.post("/sandbox/reset", json={"seed": "abc", "patients": -1}), 400,
                           "invalid_request")
    assert set(body["errors"]) == {"seed", "patients"}


def test_oversized_body_is_413(client):
    assert_envelope(client.post("/sandbox/reset", data="x" * 4096, content_type="application/json"), 413,
                    "payload_too_large")


def test_unexpected_exception_is_500_without_internals(client):
    response = client.get("/boom")
    body = assert_envelope(response, 500, "internal_error")
    assert "passwd" not in response.get_data(as_text=True) and "RuntimeError" not in body["message"]


@pytest.mark.parametrize("tenant", ["../../etc", "x" * 65, "a b", "é"])
def test_bad_tenant_header_is_400(client, tenant):
    response = client.post("/api/v1/connect/auth/token", json={}, headers={"X-Sandbox-Tenant": tenant})
    body = assert_envelope(response, 400, "invalid_request")
    assert "X-Sandbox-Tenant" in body["errors"]
