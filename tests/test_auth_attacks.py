"""Auth attacks on the endpoints that hold patient data: every forged, stale or foreign credential is refused
with a bare error and not one byte of patient data.

tests/test_auth.py checks each rejection's error code on a probe endpoint; here the same attacks (and
malformed claims signed with the sandbox key, which is public on purpose, so anyone can sign them) go to
the real endpoints, and the body is checked for the data each endpoint would have returned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opescare_sandbox.domain import clock

DEMO1 = "OPC-2024-DEMO1"  # granted to the demo client: a valid token reads all of its records
CONNECT_READS = [
    ("GET", f"/api/v1/connect/patient/{DEMO1}/records?type=all", None),
    ("GET", "/api/v1/connect/patient/search?health_id=OPC-2024-XK7T9", None),
    ("GET", f"/api/v1/connect/patient/{DEMO1}/consent", None),
    ("GET", "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1", None),
    ("POST", "/api/v1/connect/patients/resolve", {"health_id": "CM-HID-7KQ9-MP42-X8D1"}),
    ("GET", "/api/v1/connect/inventory/pharmacy/00000000-0000-0000-0000-100000000001", None),
    ("GET", "/api/v1/connect/reconciliation?date=2026-03-15", None),
    ("GET", "/api/v1/connect/webhooks/subscriptions", None),
]
# What a successful answer of those endpoints contains: none of it may appear in a refusal.
SECRETS_OF_THE_DATA = ["Amara", "Jean", "Dupont", "1990-05-15", "Penicillin", "diagnoses", "records", "items",
                       "payments", "consent_status", "display_name", "OPC-2024-XK7T9", "X8D1", "DEMO1"]
ENVELOPE = {"error", "error_code", "message", "status"}
ALL_SCOPES = ["patient:profile:read", "pharmacy:stock:read", "blood:inventory:read", "lab:results:read",
              "patient:diagnostics:read"]


def claims(world, **changes) -> dict:
    now = int(clock.now_ts(world))
    return {"iss": "opescare-connect", "aud": "opescare-api", "iat": now, "nbf": now, "exp": now + 3600,
            "sub": "demo_dev_sandbox", "client_id": "demo_dev_sandbox", "facility_id":
            "00000000-0000-0000-0000-100000000001", "scopes": ALL_SCOPES, "tenant": "default", **changes}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def hs256_with_public_key(app, payload: dict) -> str:
    public_pem = app.extensions["opescare_sandbox"].key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    head = b64(b'{"alg":"HS256","typ":"JWT"}')
    body = b64(json.dumps(payload).encode())
    return f"{head}.{body}.{b64(hmac.new(public_pem, f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


def sign(app, payload: dict, headers: dict | None = None) -> str:
    return jwt.encode(payload, app.extensions["opescare_sandbox"].key.private_key, algorithm="RS256", headers=headers)


def attack_tokens(app, world, get_token) -> dict[str, str]:
    """Every forged or stale token, by name."""
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_ec = ec.generate_private_key(ec.SECP256R1())
    now = int(clock.now_ts(world))
    good = get_token()
    head, payload, signature = good.split(".")
    elevated = json.loads(base64.urlsafe_b64decode(payload + "=="))
    elevated["client_id"] = elevated["sub"] = "opeshisos_production"
    return {
        "alg-none": unsigned({"alg": "none", "typ": "JWT"}, claims(world)),
        "alg-None": unsigned({"alg": "None", "typ": "JWT"}, claims(world)),
        "alg-none-with-signature": unsigned({"alg": "none"}, claims(world), b"x" * 256),
        "hs256-public-key": hs256_with_public_key(app, claims(world)),
        "other-rsa-key": jwt.encode(claims(world), other_rsa, algorithm="RS256"),
        "es256": jwt.encode(claims(world), other_ec, algorithm="ES256"),
        "embedded-jwk": jwt.encode(claims(world), other_rsa, algorithm="RS256", headers={
            "jwk": json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(other_rsa.public_key()))}),
        "expired": sign(app, claims(world, iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
        "not-yet-valid": sign(app, claims(world, iat=now + 3600, nbf=now + 3600, exp=now + 7200)),
        "wrong-audience": sign(app, claims(world, aud="another-api")),
        "wrong-issuer": sign(app, claims(world, iss="someone-else")),
        "other-tenant": get_token(tenant="team-b"),
        "tampered-payload": f"{head}.{b64(json.dumps(elevated).encode())}.{signature}",
        "truncated-signature": f"{head}.{payload}.{signature[:-10]}",
        "no-signature": f"{head}.{payload}.",
        "deleted-client": sign(app, claims(world, sub="ghost", client_id="ghost")),
    }


ATTACKS = ["alg-none", "alg-None", "alg-none-with-signature", "hs256-public-key", "other-rsa-key", "es256",
           "embedded-jwk", "expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "other-tenant",
           "tampered-payload", "truncated-signature", "no-signature", "deleted-client"]


def assert_refused_without_data(response, statuses=(401,)):
    assert response.status_code in statuses, response.get_data()[:300]
    body = response.json
    assert set(body) <= ENVELOPE | {"required_scopes", "missing_scopes"}, body
    text = response.get_data(as_text=True)
    assert not [word for word in SECRETS_OF_THE_DATA if word in text], text


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_or_stale_tokens_read_no_patient_data(client, app, world, get_token, attack):
    token = attack_tokens(app, world, get_token)[attack]
    for method, path, body in CONNECT_READS:
        response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        assert_refused_without_data(response)


def test_the_attack_matrix_has_a_working_control(client, get_token):
    """The same requests with the real token do return the data the refusals must not contain."""
    headers = {"Authorization": f"Bearer {get_token()}"}
    records = client.get(CONNECT_READS[0][1], headers=headers)
    assert records.status_code == 200 and records.json["records"]["diagnoses"]
    assert client.get(CONNECT_READS[1][1], headers=headers).json["last_name"] == "Dupont"


@pytest.mark.parametrize("changes", [
    {"sub": {"client_id": "demo_dev_sandbox"}},
    {"sub": ["demo_dev_sandbox"]},
    {"client_id": {"x": 1}},
    {"client_id": "opeshisos_production"},  # sub and client_id disagree: whose consent would it read?
    {"scopes": "patient:profile:read pharmacy:stock:read"},
    {"scopes": 7},
    {"scopes": [["patient:profile:read"]]},
    {"exp": "9999999999"},
    {"exp": float("nan")},
    {"exp": float("inf")},
    {"nbf": float("nan")},
    {"iat": "yesterday"},
    {"tenant": ["default"]},
    {"facility_id": {"id": 1}},
])
def test_malformed_claims_signed_with_the_public_sandbox_key_are_401(client, app, world, changes):
    """The sandbox key is published, so anyone can sign any claims: odd types must be refused, never crash."""
    token = sign(app, claims(world, **changes))
    for method, path, body in CONNECT_READS:
        response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        assert_refused_without_data(response, statuses=(401, 403))


def test_a_kid_that_points_elsewhere_is_ignored(client, app, world):
    """The one sandbox key verifies every token: a `kid`/`jku` header cannot make it fetch or pick another."""
    token = jwt.encode(claims(world), rsa.generate_private_key(public_exponent=65537, key_size=2048),
                       algorithm="RS256", headers={"kid": "../../fixtures/sandbox_signing_key.pem",
                                                   "jku": "http://127.0.0.1:1/jwks.json"})
    assert_refused_without_data(client.get(CONNECT_READS[0][1], headers={"Authorization": f"Bearer {token}"}))


# -- OpenEyes Basic --------------------------------------------------------------------------------------

OPENEYES = "/api/v1/patient/search?term=Smith"


def basic(credentials: bytes | str) -> dict:
    raw = credentials.encode() if isinstance(credentials, str) else credentials
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize("headers", [
    basic("api_user:wrong"), basic("api_user:password "), basic("api_user:PASSWORD"), basic(" api_user:password"),
    basic("nobody:password"), basic("viewer:password"), basic(":"), basic(""), basic(":password"),
    basic("api_user:password:extra"), basic("api_user\x00:password"), basic("api_user:pass\x00word"),
    basic("api_user:" + "p" * 100_000), basic(("ü" * 50 + ":x").encode("latin-1")),
    {"Authorization": "Basic"}, {"Authorization": "Basic ="}, {"Authorization": "Basic YXBpX3VzZXI6cGFzc3dvcmQ"},
    {"Authorization": "basic YXBpX3VzZXI6cGFzc3dvcmQ= extra"}, {"Authorization": "Basic %%%"},
    {"Authorization": "Bearer YXBpX3VzZXI6cGFzc3dvcmQ="}, {},
], ids=lambda h: repr(h.get("Authorization", "none"))[:40])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_openeyes_refusals_are_the_bare_401_and_no_patients(client, headers, method):
    if method == "POST":
        response = client.post("/api/v1/patient/search", data={"term": "Smith"}, headers=headers)
    else:
        response = client.get(OPENEYES, headers=headers)
    assert response.status_code == 401, response.get_data()[:200]
    assert response.json == "401 Unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="OpenEyes"'


def test_openeyes_user_without_the_role_gets_no_patients(client):
    response = client.get(OPENEYES, headers=basic("viewer:viewer"))
    assert (response.status_code, response.json) == (403, "403 Forbidden")


def test_the_openeyes_control_sees_the_patients(client):
    response = client.get(OPENEYES, headers=basic("api_user:password"))
    assert [p["last_name"] for p in response.json] == ["Smith", "Smith"]


def test_a_connect_token_is_not_an_openeyes_credential(client, get_token):
    response = client.get(OPENEYES, headers={"Authorization": f"Bearer {get_token()}"})
    assert (response.status_code, response.json) == (401, "401 Unauthorized")


def test_openeyes_credentials_are_not_a_connect_token(client):
    response = client.get(CONNECT_READS[0][1], headers=basic("api_user:password"))
    assert_refused_without_data(response)
