"""Endpoint 1 and the bearer layer: every way a token request or a token can fail, and the JWKS."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Blueprint as FlaskBlueprint

from opescare_sandbox.domain import clock, tokens

from .conftest import DEMO_CLIENT, PROD_CLIENT

TOKEN_URL = "/api/v1/connect/auth/token"
DEMO_SCOPES = "patient:profile:read pharmacy:stock:read blood:inventory:read lab:results:read patient:diagnostics:read"


@pytest.fixture
def app(app):
    """The app plus a probe endpoint that needs a token with `patient:profile:read`."""
    from opescare_sandbox.api.security import bearer_claims
    from opescare_sandbox.domain.tokens import require_scopes

    probe = FlaskBlueprint("probe", __name__)

    @probe.get("/probe")
    def probe_view():
        require_scopes(bearer_claims(), ("patient:profile:read",))
        return {"client_id": bearer_claims()["client_id"]}

    app.register_blueprint(probe)
    return app


def jwks_key(client):
    return jwt.PyJWK(client.get("/.well-known/jwks.json").json["keys"][0]).key


def test_token_from_json_body_verifies_against_jwks(client):
    response = client.post(TOKEN_URL, json={"grant_type": "client_credentials", **DEMO_CLIENT})
    assert response.status_code == 200
    body = response.json
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, DEMO_SCOPES)
    assert response.headers["Cache-Control"] == "no-store"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"]
    claims = jwt.decode(body["access_token"], jwks_key(client), algorithms=["RS256"], audience="opescare-api",
                        issuer="opescare-connect")
    assert claims["exp"] == claims["iat"] + 3600
    assert {k: claims[k] for k in ("sub", "client_id", "facility_id", "environment")} == {
        "sub": "demo_dev_sandbox", "client_id": "demo_dev_sandbox",
        "facility_id": "00000000-0000-0000-0000-100000000001", "environment": "sandbox"}
    assert claims["scopes"] == DEMO_SCOPES.split()
    assert claims["jti"].startswith("tok_")


def test_token_from_form_body(client):
    response = client.post(TOKEN_URL, data={"grant_type": "client_credentials", **DEMO_CLIENT})
    assert response.status_code == 200


def test_token_with_http_basic_client_credentials(client):
    basic = base64.b64encode(b"demo_dev_sandbox:demo_secret_sandbox_2026").decode()
    response = client.post(TOKEN_URL, data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200


def test_requested_scopes_narrow_the_token(client):
    response = client.post(TOKEN_URL, json={"grant_type": "client_credentials", "scope": "pharmacy:stock:read",
                                            **DEMO_CLIENT})
    assert response.json["scope"] == "pharmacy:stock:read"


def test_production_example_client_gets_its_scopes(client):
    response = client.post(TOKEN_URL, json={"grant_type": "client_credentials", **PROD_CLIENT})
    assert response.json["scope"].split() == [
        "health_id:verify", "patient:read", "encounter:push", "lab:push", "prescription:push", "facility:sync"]


@pytest.mark.parametrize("body,status,error", [
    ({"grant_type": "client_credentials", "client_id": "demo_dev_sandbox", "client_secret": "wrong"}, 401,
     "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}, 401, "invalid_client"),
    ({"grant_type": "client_credentials", **DEMO_CLIENT, "scope": "patient:read"}, 403, "invalid_scope"),
    ({"grant_type": "password", **DEMO_CLIENT}, 400, "unsupported_grant_type"),
    ({"client_id": "demo_dev_sandbox"}, 400, "invalid_request"),
    ({"grant_type": 5, **DEMO_CLIENT}, 400, "invalid_request"),
    ([], 400, "invalid_request"),
])
def test_token_request_failures(client, body, status, error):
    response = client.post(TOKEN_URL, json=body)
    assert (response.status_code, response.json["error"], response.json["error_code"]) == (status, error, error.upper())
    assert "access_token" not in response.json


def test_token_request_with_broken_json_is_400(client):
    response = client.post(TOKEN_URL, data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_missing_fields_are_listed(client):
    response = client.post(TOKEN_URL, json={})
    assert set(response.json["errors"]) == {"grant_type", "client_id", "client_secret"}


# -- the bearer layer --------------------------------------------------------------------------

def forge(claims: dict, key, algorithm: str, headers: dict | None = None) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def good_claims(world, **changes) -> dict:
    now = int(clock.now_ts(world))
    return {"iss": "opescare-connect", "aud": "opescare-api", "iat": now, "nbf": now, "exp": now + 3600,
            "sub": "demo_dev_sandbox", "client_id": "demo_dev_sandbox", "scopes": ["patient:profile:read"],
            "tenant": "default", **changes}


def alg_none_token(claims: dict) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def call(client, token=None, header=None):
    headers = {"Authorization": header if header is not None else f"Bearer {token}"} if (token or header) else {}
    return client.get("/probe", headers=headers)


def test_a_valid_token_passes(client, get_token):
    assert call(client, get_token()).status_code == 200


def test_no_token_is_missing_token(client):
    response = call(client)
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer    ", "Token abc", "Bearer not.a.jwt"])
def test_malformed_authorization_is_token_invalid(client, header):
    response = call(client, header=header)
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_alg_none_token_is_rejected(client, world):
    response = call(client, alg_none_token(good_claims(world)))
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_hs256_token_signed_with_the_public_key_is_rejected(client, app, world):
    public_pem = app.extensions["opescare_sandbox"].key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(good_claims(world)).encode()).rstrip(b"=")
    import hashlib
    import hmac
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest())
    token = (header + b"." + payload + b"." + signature.rstrip(b"=")).decode()
    response = call(client, token)
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_token_signed_by_another_key_is_rejected(client, world):
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = call(client, forge(good_claims(world), other, "RS256"))
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


@pytest.mark.parametrize("changes", [{"iss": "someone-else"}, {"aud": "another-api"}, {"tenant": "other"},
                                     {"sub": "deleted_client", "client_id": "deleted_client"}])
def test_wrong_issuer_audience_tenant_or_client_is_rejected(client, app, world, changes):
    token = forge(good_claims(world, **changes), app.extensions["opescare_sandbox"].key.private_key, "RS256")
    response = call(client, token)
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_tampered_payload_is_rejected(client, get_token):
    head, payload, signature = get_token(scope="pharmacy:stock:read").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scopes"] = ["patient:profile:read"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = call(client, f"{head}.{forged}.{signature}")
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_token_expires_on_the_sandbox_clock(client, world, get_token):
    clock.set_now(world, clock.now(world).replace(microsecond=0), frozen=True)  # iat is whole seconds
    token = get_token()
    clock.advance(world, 3599)
    assert call(client, token).status_code == 200
    clock.advance(world, 2)
    response = call(client, token)
    assert (response.status_code, response.json["error"]) == (401, "token_expired")


def test_not_yet_valid_token_is_rejected(client, app, world):
    future = int(clock.now_ts(world)) + 3600
    token = forge(good_claims(world, iat=future, nbf=future, exp=future + 3600),
                  app.extensions["opescare_sandbox"].key.private_key, "RS256")
    response = call(client, token)
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_token_from_another_tenant_is_rejected(client, get_token):
    token = get_token(tenant="team-a")
    assert client.get("/probe", headers={"Authorization": f"Bearer {token}",
                                         "X-Sandbox-Tenant": "team-a"}).status_code == 200
    response = client.get("/probe", headers={"Authorization": f"Bearer {token}", "X-Sandbox-Tenant": "team-b"})
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")


def test_token_without_the_scope_is_invalid_scope(client, get_token):
    response = call(client, get_token(scope="pharmacy:stock:read"))
    assert (response.status_code, response.json["error"]) == (403, "invalid_scope")
    assert response.json["required_scopes"] == ["patient:profile:read"]


def test_token_claims_unit():
    assert tokens.grant_scopes({"scopes": ["a", "b"]}, None) == ["a", "b"]
    assert tokens.grant_scopes({"scopes": ["a", "b"]}, "b b") == ["b"]


def test_authentication_comes_before_body_validation(client):
    response = client.post("/api/v1/connect/patients/resolve", data="{broken", content_type="application/json")
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


def test_scope_check_comes_before_query_validation(client, get_token):
    token = get_token(scope="pharmacy:stock:read")
    response = client.get("/api/v1/connect/patient/OPC-2024-DEMO1/records?type=bogus",
                          headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json["error"]) == (403, "invalid_scope")


def test_validation_errors_are_documented_as_400_not_422(client):
    operation = client.get("/openapi.json").json["paths"]["/api/v1/connect/patients/resolve"]["post"]
    assert "400" in operation["responses"] and "422" in operation["responses"]  # 422: missing_lookup_criteria
    assert "UNPROCESSABLE" not in str(operation["responses"]["422"])
