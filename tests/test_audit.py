"""The audit trail: every resolve, verify and search after authentication, readable at GET /sandbox/audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import clock

from .conftest import PROD_CLIENT

RESOLVE = "/api/v1/connect/patients/resolve"
VERIFY = "/api/v1/connect/patients/verify/"
SEARCH = "/api/v1/connect/patient/search"
AUDIT = "/sandbox/audit"
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
CASE_A = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM",
          "sex": "female", "purpose": "his_registration", "external_reference": "HIS-PAT-00341"}
MARIE_ID = "CM-HID-DTLM-H42E-WFYC"


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, NOW, frozen=True)


def entry(number, action, outcome, health_id, purpose=None, reference=None, client_id="demo_dev_sandbox",
          request_id=None, **details):
    return {"id": f"aud_{number:06d}", "at": "2026-03-01T08:30:00Z", "action": action, "client_id": client_id,
            "health_id": health_id, "purpose": purpose, "external_reference": reference, "outcome": outcome,
            "details": details, "request_id": request_id}


def rid(response) -> str:
    """The X-Request-Id the audit entry of this request carries."""
    return response.headers["X-Request-Id"]


def test_resolve_records_purpose_reference_and_outcome(client, auth):
    first = client.post(RESOLVE, json=CASE_A, headers=auth)
    second = client.post(RESOLVE, json={**CASE_A, "external_reference": "HIS-PAT-00342"},
                         headers={**auth, "X-Request-Id": "his-7f3:resolve.2"})
    response = client.get(AUDIT)
    assert response.status_code == 200
    assert rid(second) == "his-7f3:resolve.2" and rid(first).startswith("req_")
    assert response.json == {"data": [
        entry(2, "patient.resolve", "found", MARIE_ID, "his_registration", "HIS-PAT-00342", request_id=rid(second)),
        entry(1, "patient.resolve", "created", MARIE_ID, "his_registration", "HIS-PAT-00341", request_id=rid(first)),
    ]}


def test_failed_resolves_are_recorded_with_their_outcome(client, auth, world):
    for twin in ("CM-HID-ABCD-EFGH-AUG5", "CM-HID-7KQ9-MP42-WZFB"):
        world["patients"].insert({"health_id": twin, "first_name": "Ada", "last_name": "Obi",
                                  "date_of_birth": "1980-01-01", "country_code": "CM"})
    r1 = client.post(RESOLVE, json={"health_id": "NG-HID-8R2A-QK93-4LZC", "purpose": "lookup"}, headers=auth)
    r2 = client.post(RESOLVE, json={"external_reference": "HIS-1"}, headers=auth)
    r3 = client.post(RESOLVE, json={"first_name": "Ada", "last_name": "Obi", "date_of_birth": "1980-01-01"}, headers=auth)
    r4 = client.post(RESOLVE, json={**CASE_A, "date_of_birth": "2027-01-01"}, headers=auth)
    assert client.get(AUDIT).json["data"] == [
        entry(4, "patient.resolve", "validation_failed", None, "his_registration", "HIS-PAT-00341", request_id=rid(r4),
              http_status=422),
        entry(3, "patient.resolve", "multiple_patient_matches", None, request_id=rid(r3), http_status=409,
              candidates=["CM-HID-ABCD-EFGH-AUG5", "CM-HID-7KQ9-MP42-WZFB"]),
        entry(2, "patient.resolve", "missing_lookup_criteria", None, None, "HIS-1", request_id=rid(r2), http_status=422),
        entry(1, "patient.resolve", "not_found", "NG-HID-8R2A-QK93-4LZC", "lookup", request_id=rid(r1),
              http_status=404),
    ]


def test_requests_rejected_before_authentication_or_parsing_are_not_audited(client, auth):
    client.post(RESOLVE, json=CASE_A)  # no token: no client to attribute it to
    client.post(RESOLVE, json={"sex": "unknown"}, headers=auth)  # 400 before the lookup
    client.get(SEARCH, headers=auth)
    assert client.get(AUDIT).json == {"data": []}


def test_verify_and_search_are_recorded(client, auth):
    r1 = client.get(VERIFY + "cm-hid-7kq9-mp42-x8d1", headers=auth)
    r2 = client.get(VERIFY + "CM-HID-7KQ9-MP42-AAAA", headers=auth)
    r3 = client.get(VERIFY + "CM-HID-7KQ9-MP42-WZFB", headers=auth)
    r4 = client.get(SEARCH + "?health_id=opc-2024-xk7t9", headers=auth)
    r5 = client.get(SEARCH + "?health_id=OPC-2024-ZZZZZ", headers=auth)
    assert client.get(AUDIT).json["data"] == [
        entry(5, "patient.search", "patient_not_found", "OPC-2024-ZZZZZ", request_id=rid(r5), http_status=404),
        entry(4, "patient.search", "found", "OPC-2024-XK7T9", request_id=rid(r4)),
        entry(3, "patient.verify", "patient_not_found", "CM-HID-7KQ9-MP42-WZFB", request_id=rid(r3), http_status=404),
        entry(2, "patient.verify", "health_id_invalid", "CM-HID-7KQ9-MP42-AAAA", request_id=rid(r2), http_status=422),
        entry(1, "patient.verify", "valid", "CM-HID-7KQ9-MP42-X8D1", request_id=rid(r1)),
    ]


def test_audit_time_follows_the_sandbox_clock(client, auth, world):
    clock.advance(world, 90)
    client.get(VERIFY + "CM-HID-7KQ9-MP42-X8D1", headers=auth)
    assert client.get(AUDIT).json["data"][0]["at"] == "2026-03-01T08:31:30Z"


@pytest.fixture
def mixed_trail(client, auth, get_token):
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"}
    client.post(RESOLVE, json=CASE_A, headers=auth)
    client.get(VERIFY + "CM-HID-7KQ9-MP42-X8D1", headers=prod)
    client.post(RESOLVE, json={"health_id": "CM-HID-7KQ9-MP42-X8D1"}, headers=prod)
    client.get(SEARCH + "?health_id=CM-HID-7KQ9-MP42-X8D1", headers=auth)


@pytest.mark.parametrize("query, ids", [
    ("", ["aud_000004", "aud_000003", "aud_000002", "aud_000001"]),
    ("?action=patient.resolve", ["aud_000003", "aud_000001"]),
    ("?health_id=cm-hid-7kq9-mp42-x8d1", ["aud_000004", "aud_000003", "aud_000002"]),
    ("?client_id=opeshisos_production", ["aud_000003", "aud_000002"]),
    ("?client_id=opeshisos_production&action=patient.verify", ["aud_000002"]),
    ("?limit=2", ["aud_000004", "aud_000003"]),
    ("?action=consent.grant", []),
])
def test_audit_filters_newest_first(client, mixed_trail, query, ids):
    response = client.get(AUDIT + query)
    assert response.status_code == 200
    assert [e["id"] for e in response.json["data"]] == ids


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?limit=many", "?action=" + "x" * 65])
def test_bad_audit_query_is_400(client, query):
    response = client.get(AUDIT + query)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_audit_trail_is_per_tenant_and_resets_with_the_world(client, auth):
    client.post(RESOLVE, json=CASE_A, headers=auth)
    assert client.get(AUDIT, headers={"X-Sandbox-Tenant": "other"}).json == {"data": []}
    client.post("/sandbox/reset")
    assert client.get(AUDIT).json == {"data": []}
