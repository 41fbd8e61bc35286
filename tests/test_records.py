"""Endpoint 7: records by type, behind scopes and an active consent, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import audit, clinical, clock
from opescare_sandbox.domain.seeded_records import EMPTY, seeded_records

JEAN, AMARA, DEMO = "OPC-2024-XK7T9", "CM-HID-7KQ9-MP42-X8D1", "OPC-2024-DEMO1"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
KEYS = ("diagnoses", "prescriptions", "lab_results", "vitals")


def records_url(health_id: str, record_type: str | None = None) -> str:
    query = f"?type={record_type}" if record_type else ""
    return f"/api/v1/connect/patient/{health_id}/records{query}"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, NOW, frozen=True)


def test_done_when_consent_gates_records_from_grant_to_revoke(client, auth):
    refused = client.get(records_url(JEAN), headers=auth)
    assert (refused.status_code, refused.json["error"], refused.json["required_action"]) == (
        403, "consent_required", "request_consent")
    grant = client.post(f"/api/v1/connect/patient/{JEAN}/consent/grant", headers=auth,
                        json={"consent_type": "full_record", "expires_at": "2026-12-31T23:59:59Z"})
    assert grant.status_code == 201
    response = client.get(records_url(JEAN), headers=auth)
    assert response.status_code == 200
    assert (response.json["health_id"], response.json["type"], tuple(response.json["records"])) == (JEAN, "all", KEYS)
    assert client.post(f"/sandbox/patients/{JEAN}/consent/revoke").status_code == 200
    again = client.get(records_url(JEAN), headers=auth)
    assert (again.status_code, again.json["error"], again.json["consent_status"]) == (
        403, "consent_required", "revoked")


def test_consent_that_expires_is_403_once_the_clock_passes_expires_at(client, auth, world):
    client.post(f"/api/v1/connect/patient/{JEAN}/consent/grant", headers=auth,
                json={"expires_at": "2026-11-21T09:10:00Z"})
    clock.advance(world, 599)
    assert client.get(records_url(JEAN), headers=auth).status_code == 200
    clock.advance(world, 1)
    response = client.get(records_url(JEAN), headers=auth)
    assert (response.status_code, response.json["consent_status"]) == (403, "expired")


@pytest.mark.parametrize("record_type", KEYS)
def test_a_type_returns_only_its_key(client, auth, record_type):
    response = client.get(records_url(DEMO, record_type), headers=auth)
    assert response.status_code == 200
    assert (response.json["type"], list(response.json["records"])) == (record_type, [record_type])
    assert response.json["records"][record_type], "the demo patient has records of every type"


@pytest.mark.parametrize("record_type", ["labs", "ALL", "", "diagnoses,vitals"])
def test_unknown_type_is_400(client, auth, record_type):
    response = client.get(f"/api/v1/connect/patient/{DEMO}/records?type={record_type}", headers=auth)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert "type" in response.json["errors"]


@pytest.mark.parametrize("scope, record_type, status", [
    ("patient:diagnostics:read", "diagnoses", 200),
    ("patient:diagnostics:read", "vitals", 200),
    ("patient:diagnostics:read", "lab_results", 403),
    ("patient:diagnostics:read", None, 200),  # the docs: records need patient:diagnostics:read (labs left out)
    ("patient:diagnostics:read", "all", 200),
    ("lab:results:read", "lab_results", 403),
    ("patient:diagnostics:read lab:results:read", "lab_results", 200),
    ("patient:diagnostics:read lab:results:read", "all", 200),
    ("patient:profile:read", "diagnoses", 403),
])
def test_scopes(client, get_token, scope, record_type, status):
    response = client.get(records_url(DEMO, record_type), headers=bearer(get_token(scope=scope)))
    assert response.status_code == status
    if status == 403:
        assert response.json["error"] == "invalid_scope"


def test_unknown_patient_is_404(client, auth):
    response = client.get(records_url("CM-HID-AAAA-AAAA-AAAA"), headers=auth)
    assert (response.status_code, response.json["error"]) == (404, "patient_not_found")


def test_records_need_a_token(client):
    assert client.get(records_url(DEMO)).json["error"] == "missing_token"


@pytest.mark.parametrize("record_type, status", [("lab_results", 200), ("diagnoses", 403), ("all", 403)])
def test_consent_type_limits_what_can_be_read(client, auth, record_type, status):
    client.post(f"/api/v1/connect/patient/{JEAN}/consent/grant", headers=auth,
                json={"consent_type": "lab_results_only"})
    response = client.get(records_url(JEAN, record_type), headers=auth)
    assert response.status_code == status
    if status == 403:
        assert response.json["error"] == "consent_required"


@pytest.mark.parametrize("health_id", [DEMO, AMARA, JEAN])
def test_documentation_patients_have_their_documented_conditions(client, auth, health_id):
    client.post(f"/api/v1/connect/patient/{health_id}/consent/grant", headers=auth)
    diagnoses = client.get(records_url(health_id, "diagnoses"), headers=auth).json["records"]["diagnoses"]
    assert sorted(d["code"] for d in diagnoses) == sorted(clinical.DOCUMENTATION_CONDITIONS[health_id])


def test_penicillin_allergic_documentation_patient_gets_no_penicillin(client, auth):
    client.post(f"/api/v1/connect/patient/{JEAN}/consent/grant", headers=auth)
    prescriptions = client.get(records_url(JEAN, "prescriptions"), headers=auth).json["records"]["prescriptions"]
    drugs = {item["drug_name"] for rx in prescriptions for item in rx["items"]}
    assert "azithromycin 500 mg tablet" in drugs
    assert not any(name.startswith("amoxicillin") for name in drugs)


def test_every_type_is_newest_first(client, auth):
    records = client.get(records_url(DEMO), headers=auth).json["records"]
    for key, when in (("diagnoses", "recorded_at"), ("prescriptions", "prescribed_at"),
                      ("lab_results", "resulted_at"), ("vitals", "recorded_at")):
        times = [r[when] for r in records[key]]
        assert times == sorted(times, reverse=True), key


def test_a_records_read_is_audited(client, auth, world):
    client.get(records_url(DEMO, "vitals"), headers=auth)
    [entry] = audit.entries(world, action="records.read", health_id=DEMO)
    assert (entry["client_id"], entry["outcome"], entry["details"]["record_type"]) == (
        "demo_dev_sandbox", "ok", "vitals")


def test_a_refused_read_is_not_audited(client, auth, world):
    client.get(records_url(JEAN), headers=auth)
    assert audit.entries(world, action="records.read") == []


def test_patients_registered_through_the_api_have_no_seeded_history():
    patient = {"health_id": "CM-HID-ABCD-EFGH-AUG5", "source": "resolve", "sex": "female",
               "date_of_birth": "1990-07-22", "allergies": []}
    assert seeded_records(42, patient) == EMPTY
