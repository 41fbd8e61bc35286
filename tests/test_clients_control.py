"""POST/GET /sandbox/clients: new credentials with chosen scopes and facility, usable at once."""

from __future__ import annotations

import hashlib

import pytest

from .probes import CONNECT_PROBE, add_probes

URL = "/sandbox/clients"
TOKEN_URL = "/api/v1/connect/auth/token"
CLINIC = "00000000-0000-0000-0000-100000000002"


@pytest.fixture
def app(app):
    return add_probes(app)


def token_response(client, client_id, secret, tenant=None, scope=None):
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        body["scope"] = scope
    return client.post(TOKEN_URL, json=body, headers={"X-Sandbox-Tenant": tenant} if tenant else {})


def test_created_client_gets_tokens_with_its_scopes_and_facility(client, world):
    response = client.post(URL, json={"client_id": "ci_pharmacy", "client_secret": "ci_secret_2026",
                                      "scopes": ["pharmacy:stock:read"], "facility_id": CLINIC, "name": "CI"})
    assert response.status_code == 201
    assert response.json == {"client_id": "ci_pharmacy", "client_secret": "ci_secret_2026", "name": "CI",
                             "facility_id": CLINIC, "scopes": ["pharmacy:stock:read"], "source": "sandbox",
                             "created_at": response.json["created_at"]}
    token = token_response(client, "ci_pharmacy", "ci_secret_2026")
    assert (token.status_code, token.json["scope"]) == (200, "pharmacy:stock:read")
    probe = client.get(CONNECT_PROBE, headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert probe.json == {"client_id": "ci_pharmacy"}
    stored = world["clients"].first("client_id", "ci_pharmacy")
    assert stored["secret_sha256"] == hashlib.sha256(b"ci_secret_2026").hexdigest()
    assert "client_secret" not in stored


def test_a_scope_the_client_lacks_is_refused(client):
    client.post(URL, json={"client_id": "ci_none", "client_secret": "ci_secret_2026", "scopes": [],
                           "facility_id": CLINIC})
    assert token_response(client, "ci_none", "ci_secret_2026", scope="patient:profile:read").status_code == 403


def test_generated_credentials_are_stable_across_fresh_worlds(client):
    first = client.post(URL, json={"scopes": ["patient:read"], "facility_id": CLINIC}).json
    client.post("/sandbox/reset")
    again = client.post(URL, json={"scopes": ["patient:read"], "facility_id": CLINIC}).json
    assert first["client_id"] == again["client_id"] == "sandbox_client_0001"
    assert first["client_secret"] == again["client_secret"] and first["client_secret"].startswith("sk_sandbox_")
    assert token_response(client, again["client_id"], again["client_secret"]).status_code == 200


def test_duplicate_client_id_is_409_and_stores_nothing(client, world):
    before = world.export_json()
    response = client.post(URL, json={"client_id": "demo_dev_sandbox", "scopes": [], "facility_id": CLINIC})
    assert (response.status_code, response.json["error"], response.json["client_id"]) == (
        409, "duplicate_client", "demo_dev_sandbox")
    assert world.export_json() == before


def test_unknown_facility_is_404(client):
    response = client.post(URL, json={"scopes": [], "facility_id": "00000000-0000-0000-0000-999999999999"})
    assert (response.status_code, response.json["error"]) == (404, "facility_not_found")


@pytest.mark.parametrize("body,field", [
    ({"facility_id": CLINIC}, "scopes"), ({"scopes": [], "facility_id": ""}, "facility_id"),
    ({"scopes": ["root:everything"], "facility_id": CLINIC}, "scopes"),
    ({"scopes": "patient:read", "facility_id": CLINIC}, "scopes"),
    ({"scopes": [], "facility_id": CLINIC, "client_id": "a b"}, "client_id"),
    ({"scopes": [], "facility_id": CLINIC, "client_secret": "short"}, "client_secret"),
])
def test_bad_bodies_are_400(client, body, field):
    response = client.post(URL, json=body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert field in response.json["errors"]


def test_list_shows_every_client_without_secrets(client):
    client.post(URL, json={"client_id": "ci_listed", "client_secret": "ci_secret_2026", "scopes": ["lab:push"],
                           "facility_id": CLINIC})
    data = client.get(URL).json["data"]
    assert [c["client_id"] for c in data] == ["demo_dev_sandbox", "opeshisos_production", "ci_listed"]
    assert all("client_secret" not in c and "secret_sha256" not in c for c in data)
    assert [c["source"] for c in data] == ["fixture", "fixture", "sandbox"]


def test_clients_belong_to_their_tenant(client):
    client.post(URL, json={"client_id": "ci_a", "client_secret": "ci_secret_2026", "scopes": [],
                           "facility_id": CLINIC}, headers={"X-Sandbox-Tenant": "a"})
    assert token_response(client, "ci_a", "ci_secret_2026", tenant="a").status_code == 200
    assert token_response(client, "ci_a", "ci_secret_2026", tenant="b").status_code == 401


def test_the_journal_never_shows_the_secret(client):
    client.post(URL, json={"client_id": "ci_j", "client_secret": "ci_secret_2026", "scopes": [], "facility_id": CLINIC})
    token_response(client, "ci_j", "ci_secret_2026")
    text = str(client.get("/sandbox/requests").json)
    assert "ci_secret_2026" not in text and "[redacted]" in text


def test_only_scopes_is_enough_and_the_facility_is_the_demo_clients(client):
    response = client.post(URL, json={"scopes": ["pharmacy:stock:read"]})
    assert response.status_code == 201, response.json
    assert response.json["facility_id"] == "00000000-0000-0000-0000-100000000001"
    token = client.post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": response.json["client_id"],
        "client_secret": response.json["client_secret"]}).json
    assert token["scope"] == "pharmacy:stock:read"
