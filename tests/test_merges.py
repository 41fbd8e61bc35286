"""Patient merges (/sandbox/patients/merge): the merged Health ID keeps working and answers for the survivor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import clock, events

JEAN, AMARA, DEMO = "OPC-2024-XK7T9", "CM-HID-7KQ9-MP42-X8D1", "OPC-2024-DEMO1"
MERGE = "/sandbox/patients/merge"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, NOW, frozen=True)


def merge(client, survivor, merged):
    response = client.post(MERGE, json={"survivor_health_id": survivor, "merged_health_id": merged})
    assert response.status_code == 200, response.json
    return response.json


def records(client, auth, health_id):
    response = client.get(f"/api/v1/connect/patient/{health_id}/records", headers=auth)
    assert response.status_code == 200, response.json
    return response.json


def test_an_ordinary_verify_says_it_was_not_resolved_via_an_alias(client, auth):
    body = client.get(f"/api/v1/connect/patients/verify/{AMARA}", headers=auth).json
    assert (body["health_id"], body["resolved_via_alias"], body["queried_health_id"]) == (AMARA, False, None)


def test_a_merged_id_verifies_as_the_survivor_via_an_alias(client, auth):
    merge(client, AMARA, JEAN)
    response = client.get(f"/api/v1/connect/patients/verify/{JEAN.lower()}", headers=auth)
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("status", "health_id", "resolved_via_alias", "queried_health_id")} == {
        "status": "valid", "health_id": AMARA, "resolved_via_alias": True, "queried_health_id": JEAN}
    assert response.json["patient"]["display_name"] == "Amara N."


def test_search_consent_and_resolve_by_the_merged_id_answer_for_the_survivor(client, auth):
    merge(client, AMARA, JEAN)
    profile = client.get("/api/v1/connect/patient/search", query_string={"health_id": JEAN}, headers=auth).json
    assert (profile["health_id"], profile["first_name"], profile["resolved_via_alias"], profile["queried_health_id"]) \
        == (AMARA, "Amara", True, JEAN)
    consent = client.get(f"/api/v1/connect/patient/{JEAN}/consent", headers=auth).json
    assert (consent["health_id"], consent["consent_status"], consent["queried_health_id"]) == (AMARA, "granted", JEAN)
    resolved = client.post("/api/v1/connect/patients/resolve", json={"health_id": JEAN}, headers=auth)
    assert (resolved.status_code, resolved.json["status"], resolved.json["health_id"]) == (200, "found", AMARA)
    by_demographics = client.post("/api/v1/connect/patients/resolve", headers=auth, json={
        "first_name": "Jean", "last_name": "Dupont", "date_of_birth": "1990-05-15", "country_code": "CM"})
    assert (by_demographics.status_code, by_demographics.json["health_id"]) == (200, AMARA)
    ordinary = client.get("/api/v1/connect/patient/search", query_string={"health_id": AMARA}, headers=auth).json
    assert "resolved_via_alias" not in ordinary and "queried_health_id" not in ordinary


def test_records_of_both_patients_are_combined_under_the_survivor(client, auth):
    before = {key: len(rows) for key, rows in records(client, auth, AMARA)["records"].items()}
    demo = {key: len(rows) for key, rows in records(client, auth, DEMO)["records"].items()}
    assert sum(demo.values()) > 0
    merge(client, AMARA, DEMO)
    after = records(client, auth, DEMO)
    assert (after["health_id"], after["resolved_via_alias"], after["queried_health_id"]) == (AMARA, True, DEMO)
    assert {key: len(rows) for key, rows in after["records"].items()} == {k: before[k] + demo[k] for k in before}
    assert records(client, auth, AMARA)["records"] == after["records"]


def test_pushed_records_move_to_the_survivor(client, auth):
    push = {"health_id": JEAN, "external_lab_order_id": "LAB-1", "test_name": "Hemoglobin", "loinc_code": "718-7",
            "result_value": "13.5", "unit": "g/dL", "occurred_at": "2026-11-20T08:00:00Z"}
    pushed = client.post("/api/v1/connect/records/lab-results", json=push, headers={**auth, "Idempotency-Key": "k1"})
    assert pushed.status_code == 200
    outcome = merge(client, AMARA, JEAN)
    assert outcome["records_moved"] == 1
    ids = [row["id"] for row in records(client, auth, AMARA)["records"]["lab_results"]]
    assert pushed.json["opescare_record_id"] in ids


def test_the_merge_fires_patient_updated(client, world):
    merge(client, AMARA, JEAN)
    fired = events.list_events(world, "patient.updated")
    assert [(e["data"]["health_id"], e["data"]["changed_fields"]) for e in fired] == [(AMARA, ["identifiers"])]


def test_consent_the_latest_decision_wins(client, auth, world):
    # Jean (later merged) grants a narrower consent after Amara's seeded grant: the patient's latest wish wins.
    clock.set_now(world, datetime(2026, 11, 21, 9, 10, tzinfo=UTC), frozen=True)
    granted = client.post(f"/api/v1/connect/patient/{JEAN}/consent/grant", json={"consent_type": "lab_results_only"},
                          headers=auth)
    assert granted.status_code == 201
    outcome = merge(client, AMARA, JEAN)
    assert outcome["consents"] == [{"client_id": "demo_dev_sandbox", "consent_status": "granted",
                                    "from_health_id": JEAN}]
    consent = client.get(f"/api/v1/connect/patient/{AMARA}/consent", headers=auth).json
    assert (consent["consent_status"], consent["consent_type"]) == ("granted", "lab_results_only")


def test_consent_a_revocation_on_either_record_after_the_grant_wins(client, auth, world):
    clock.set_now(world, datetime(2026, 11, 21, 9, 10, tzinfo=UTC), frozen=True)
    client.post(f"/api/v1/connect/patient/{JEAN}/consent/grant", json={}, headers=auth)
    clock.set_now(world, datetime(2026, 11, 21, 9, 20, tzinfo=UTC), frozen=True)
    assert client.post(f"/sandbox/patients/{JEAN}/consent/revoke", json={}).status_code == 200
    merge(client, AMARA, JEAN)
    assert client.get(f"/api/v1/connect/patient/{JEAN}/consent", headers=auth).json["consent_status"] == "revoked"


@pytest.mark.parametrize("body,status,error", [
    ({"survivor_health_id": AMARA, "merged_health_id": AMARA}, 422, "validation_failed"),
    ({"survivor_health_id": AMARA, "merged_health_id": "CM-HID-ABCD-EFGH-AUG5"}, 404, "patient_not_found"),
    ({"survivor_health_id": AMARA}, 400, "invalid_request"),
])
def test_bad_merges_are_refused(client, body, status, error):
    response = client.post(MERGE, json=body)
    assert (response.status_code, response.json["error"]) == (status, error)


def test_an_already_merged_id_cannot_be_merged_again_and_chains_collapse(client, auth):
    merge(client, DEMO, JEAN)
    again = client.post(MERGE, json={"survivor_health_id": AMARA, "merged_health_id": JEAN})
    assert (again.status_code, again.json["error"]) == (422, "validation_failed")
    merge(client, AMARA, DEMO)
    body = client.get(f"/api/v1/connect/patients/verify/{JEAN}", headers=auth).json
    assert (body["health_id"], body["queried_health_id"]) == (AMARA, JEAN)
