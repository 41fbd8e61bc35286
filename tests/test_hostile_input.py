"""Hostile input: every malformed, oversized, nested, NUL-laden or traversal request is a clean 4xx and changes nothing.

"Changes nothing" is checked on the whole world export, minus the audit trail (which legitimately
records refused lookups). The app keeps its worlds on disk here: the journal write is where a body that
parses but cannot be encoded (a lone surrogate) used to fail.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import DEMO_CLIENT

TOKEN = "/api/v1/connect/auth/token"
RESOLVE = "/api/v1/connect/patients/resolve"
GRANT = "/api/v1/connect/patient/OPC-2024-XK7T9/consent/grant"
ENCOUNTERS = "/api/v1/connect/records/encounters"
SUBSCRIPTIONS = "/api/v1/connect/webhooks/subscriptions"
OPENEYES = "/api/v1/patient/search"
OPENEYES_AUTH = {"Authorization": "Basic YXBpX3VzZXI6cGFzc3dvcmQ="}  # api_user:password
JSON_POSTS = [TOKEN, RESOLVE, GRANT, ENCOUNTERS, SUBSCRIPTIONS, "/sandbox/reset", "/sandbox/clock",
              "/sandbox/clients", "/sandbox/snapshots", "/sandbox/webhooks/trigger",
              "/sandbox/patients/OPC-2024-DEMO1/consent/revoke",
              "/sandbox/inventory/00000000-0000-0000-0000-100000000001/pharmacy"]
RESOLVE_BODY = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"}
MB = 1024 * 1024


@pytest.fixture
def config(tmp_path):
    return {"IN_MEMORY": False, "DATA_DIR": str(tmp_path), "WEBHOOK_DELIVERY": False}


@pytest.fixture
def unchanged(world, store):
    """Asserts, after the test, that the world (audit aside) and the set of tenants are exactly as before."""
    def snapshot():
        exported = json.loads(world.export_json())
        exported.pop("audit", None)
        exported["meta"]["1"]["counters"].pop("audit", None)  # the audit trail's id sequence
        return exported, store.tenants()

    before = snapshot()
    yield
    assert snapshot() == before


def post(client, path, auth, data, content_type="application/json", **headers):
    headers = {**auth, "Idempotency-Key": "hostile-1", **headers}
    return client.post(path, data=data, headers={**headers, "Content-Type": content_type})


def assert_clean_error(response, status):
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == status and body["error"] and body["error_code"] == body["error"].upper()
    return body


@pytest.mark.parametrize("path", JSON_POSTS)
@pytest.mark.parametrize("raw", [
    b"{", b'{"first_name": }', b"[1, 2", b"\xff\xfe{}", b"nul\x00l", b'{"a": "\x01"}', b"{'single': 'quotes'}",
    b"[" * 100_000, b'{"a":' * 50_000, b"[" * 65 + b"]" * 65, b'{"first_name": "\\ud800"}',
    b'{"name": "\\udfff\\ud800", "client_id": "x"}',
], ids=["open-brace", "missing-value", "open-array", "utf16-bom", "nul-byte", "raw-control", "single-quotes",
        "100k-arrays", "50k-objects", "65-levels", "lone-high-surrogate", "reversed-surrogates"])
def test_malformed_json_is_400(client, auth, unchanged, path, raw):
    body = assert_clean_error(post(client, path, auth, raw), 400)
    assert body["error"] == "invalid_request"


def test_sixty_four_levels_of_nesting_are_accepted(client, unchanged):
    """The limit is above anything a real client sends: a webhook payload 64 levels deep is fine (422 is the type)."""
    nested = json.loads("[" * 62 + "]" * 62)  # + the body and `data` objects: 64 levels
    response = client.post("/sandbox/webhooks/trigger", json={"type": "no.such.type", "data": {"deep": nested}})
    assert_clean_error(response, 422)


@pytest.mark.parametrize("path", [RESOLVE, GRANT, ENCOUNTERS, SUBSCRIPTIONS, "/sandbox/clients"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded", "application/octet-stream"])
def test_wrong_content_type_is_400(client, auth, unchanged, path, content_type):
    assert_clean_error(post(client, path, auth, json.dumps(RESOLVE_BODY), content_type), 400)


@pytest.mark.parametrize("path", JSON_POSTS + [OPENEYES])
def test_ten_megabyte_body_is_413(client, auth, unchanged, path):
    huge = b'{"first_name": "' + b"A" * (10 * MB) + b'"}'
    assert_clean_error(post(client, path, {**auth, **OPENEYES_AUTH} if path == OPENEYES else auth, huge), 413)


@pytest.mark.parametrize("field", ["first_name", "last_name", "date_of_birth", "country_code", "health_id",
                                   "purpose", "external_reference"])
def test_nul_in_a_json_string_is_400_naming_the_field(client, auth, unchanged, field):
    body = {**RESOLVE_BODY, field: "CM\u0000" if field == "country_code" else "1990-07-22\u0000"}
    errors = assert_clean_error(client.post(RESOLVE, json=body, headers=auth), 400)["errors"]
    assert errors == {field: ["NUL characters are not allowed."]}


@pytest.mark.parametrize("path, body", [
    (GRANT, {"consent_type": "full_record", "expires_at": "2099-01-01T00:00:00\u0000"}),
    (ENCOUNTERS, {"health_id": "OPC-2024-DEMO1", "external_encounter_id": "E\u00001"}),
    ("/sandbox/clock", {"now": "2030-01-01T00:00:00\u0000"}),
    ("/sandbox/webhooks/trigger", {"type": "patient.created", "data": {"nested": [{"x": "a\u0000"}]}}),
])
def test_nul_anywhere_in_a_body_is_400(client, auth, unchanged, path, body):
    """A NUL-terminated date used to be accepted as the date before the NUL (Python's ISO parser stops there)."""
    assert_clean_error(client.post(path, json=body, headers={**auth, "Idempotency-Key": "nul-1"}), 400)


@pytest.mark.parametrize("name", ["Zoë", "Nguyễn", "李", "محمد", "\U0001F600", "\u202eevil", "a\u200bb", "\t tab"])
def test_unicode_names_are_stored_and_echoed_exactly(client, auth, world, name):
    """Not hostile as such: real names in every script (and odd code points) round-trip through the journal."""
    body = {**RESOLVE_BODY, "first_name": name}
    response = client.post(RESOLVE, json=body, headers=auth)
    assert response.status_code == 201, response.json
    patient = world["patients"].first("health_id", response.json["health_id"])
    assert patient["first_name"] == name.strip()
    assert client.post(RESOLVE, json=body, headers=auth).status_code == 200  # found again, same normalisation


@pytest.mark.parametrize("path, status", [
    ("/api/v1/connect/patient/%00/consent", 404),
    ("/api/v1/connect/patient/OPC%00-2024-XK7T9/records?type=all", 404),
    ("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1%00", 422),
    ("/api/v1/connect/inventory/pharmacy/%00", 404),
    ("/api/v1/connect/patient/search?health_id=%00", 400),
    ("/api/v1/connect/reconciliation?date=2026-03-15%00", 400),
    ("/api/v1/connect/patient/OPC-2024-DEMO1/records?type=all%00", 400),
    ("/sandbox/audit?health_id=%00", 400),
])
def test_nul_in_path_and_query_is_a_clean_4xx(client, auth, unchanged, path, status):
    assert_clean_error(client.get(path, headers=auth), status)


def test_nul_in_a_subscription_id_is_404(client, auth, unchanged):
    assert_clean_error(client.delete(SUBSCRIPTIONS + "/sub_%00", headers=auth), 404)


def test_nul_in_openeyes_term_is_400(client, unchanged):
    assert_clean_error(client.get(OPENEYES + "?term=Smith%00", headers=OPENEYES_AUTH), 400)


@pytest.mark.parametrize("path", [
    "/api/v1/connect/patient/../../../sandbox/reset/consent",
    "/api/v1/connect/patient/..%2F..%2F..%2Fsandbox%2Freset/consent",
    "/api/v1/connect/patient/%2e%2e%2f%2e%2e%2fetc%2fpasswd/consent",
    "/api/v1/connect/patients/verify/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/connect/inventory/blood/..%5C..%5Cwindows",
    "/api/v1/connect/webhooks/subscriptions/..%2F..%2Ftenants",
    "/api/v1/connect/webhooks/events/..%2F..%2Foverlay.json/replay",
])
def test_path_traversal_in_connect_path_params_is_a_clean_4xx(client, auth, unchanged, path):
    response = client.open(path, method="POST" if path.endswith("/replay") else "GET", headers=auth)
    assert 400 <= response.status_code < 500, response.get_data()[:300]
    assert response.json["error"]


@pytest.mark.parametrize("name", ["..%2F..%2Ftenants%2Fdefault%2Foverlay", "%2e%2e%2f%2e%2e%2fx", "..", "a%00b"])
def test_path_traversal_in_snapshot_names_never_reaches_the_disk(client, store, unchanged, name):
    response = client.post(f"/sandbox/snapshots/{name}/restore")
    assert response.status_code in (400, 404) and response.json["error"]
    saved = client.post("/sandbox/snapshots", json={"name": name.replace("%2F", "/").replace("%2e", ".")})
    assert_clean_error(saved, 400)
    assert sorted(p.name for p in store.data_dir.rglob("*") if "snapshots" in p.parts) == []


@pytest.mark.parametrize("tenant", ["../../etc", "..", "a/b", "a\\b", "x" * 65, "tenant%00", "é"])
def test_hostile_tenant_names_are_400_and_create_nothing(client, auth, store, unchanged, tenant):
    response = client.get("/sandbox/clock", headers={"X-Sandbox-Tenant": tenant})
    assert assert_clean_error(response, 400)["errors"] == {"X-Sandbox-Tenant": ["Use 1-64 letters, digits, '-' or '_'."]}
    assert not (store.data_dir / "etc").exists()


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer " + "a" * 100_000},
    {"Authorization": "Basic " + "A" * 50_000},
    {"Idempotency-Key": "k" * 10_000},
    {"Prefer": "code=" + "9" * 5000},
    {"Prefer": "delay=99999999999999999999"},
    {"Prefer": "code=\u00b2"},
    {"Prefer": "delay=\u00b9"},
])
def test_overlong_and_injected_headers_are_a_clean_4xx(client, auth, unchanged, headers):
    response = client.post(ENCOUNTERS, json={"health_id": "OPC-2024-DEMO1", "external_encounter_id": "E-1"},
                           headers={**auth, "Idempotency-Key": "k-1", **headers})
    assert 400 <= response.status_code < 500, response.get_data()[:300]
    assert response.json["error"]
    assert "X-Injected" not in response.headers


@pytest.mark.parametrize("path", [
    "/api/v1/connect/patient/search?health_id=" + "A" * 200_000,
    "/api/v1/connect/reconciliation?date=" + "9" * 200_000,
    "/api/v1/connect/patient/OPC-2024-DEMO1/records?type=" + "all," * 50_000,
    "/sandbox/audit?limit=" + "9" * 100_000,
    "/sandbox/requests?" + "&".join(f"p{i}=v" for i in range(20_000)),
])
def test_huge_query_strings_are_a_clean_4xx(client, auth, unchanged, path):
    response = client.get(path, headers=auth)
    assert 400 <= response.status_code < 500 or path.startswith("/sandbox/requests"), response.get_data()[:300]
    assert response.status_code < 500 and response.mimetype == "application/json"


def test_huge_openeyes_term_is_answered_without_error(client, unchanged):
    response = client.get(OPENEYES + "?term=" + "Smith" * 40_000, headers=OPENEYES_AUTH)
    assert response.status_code in (200, 400) and response.mimetype == "application/json"


def test_token_endpoint_survives_every_malformed_body(client, unchanged):
    for raw in (b"[" * 100_000, b'{"client_id": "\\ud800"}', b"grant_type=client_credentials&client_id=%00"):
        content_type = "application/x-www-form-urlencoded" if raw.startswith(b"grant") else "application/json"
        response = client.post(TOKEN, data=raw, headers={"Content-Type": content_type})
        assert response.status_code in (400, 401), response.get_data()[:300]
        assert "access_token" not in response.json


def test_the_world_still_works_after_the_barrage(client, auth, world):
    """A control: the fixtures leave a working world (the same requests, well-formed, succeed)."""
    assert client.post(RESOLVE, json=RESOLVE_BODY, headers=auth).status_code == 201
    assert client.post(TOKEN, json={"grant_type": "client_credentials", **DEMO_CLIENT}).status_code == 200
