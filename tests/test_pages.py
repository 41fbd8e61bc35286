"""The landing page, the playground page and its assets, all served locally; CORS for other origins."""

from __future__ import annotations

import re

import pytest

LOCAL_REF = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("path", ["/", "/docs", "/dashboard"])
def test_pages_are_html_and_reference_only_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    refs = LOCAL_REF.findall(response.get_data(as_text=True))
    assert refs, "the page should load something"
    for ref in refs:
        assert ref.startswith("/"), f"{ref} is not served by the sandbox"
        assert client.get(ref).status_code == 200, ref


def test_playground_assets_are_served(client):
    for path in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                 "/docs/assets/swagger-ui-standalone-preset.js", "/playground/playground.js"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) > 100, path


def test_unknown_asset_is_a_json_404(client):
    response = client.get("/docs/assets/nope.js")
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_openapi_declares_client_credentials_for_swagger_authorize(client):
    scheme = client.get("/openapi.json").json["components"]["securitySchemes"]["oauth2"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/api/v1/connect/auth/token"


def test_cors_preflight_allows_any_origin_by_default(client):
    response = client.options("/api/v1/connect/auth/token", headers={
        "Origin": "https://playground.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-sandbox-tenant"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://playground.example")
    assert "x-sandbox-tenant" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_headers_on_actual_responses_expose_sandbox_headers(client):
    response = client.get("/sandbox/health", headers={"Origin": "https://playground.example"})
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://playground.example")
    assert "X-RateLimit-Remaining" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("config", [{"CORS_ORIGINS": "https://only.example"}])
def test_cors_can_be_restricted(client):
    allowed = client.get("/sandbox/health", headers={"Origin": "https://only.example"})
    denied = client.get("/sandbox/health", headers={"Origin": "https://other.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://only.example"
    assert "Access-Control-Allow-Origin" not in denied.headers
