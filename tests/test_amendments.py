"""Amended lab results: the version goes up, records show the latest with the earlier ones, lab_result.amended fires."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import clock, events

DEMO = "OPC-2024-DEMO1"  # consent granted to the demo client; seeded lab results
LABS = f"/api/v1/connect/patient/{DEMO}/records?type=lab_results"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, NOW, frozen=True)


def labs(client, auth) -> list[dict]:
    response = client.get(LABS, headers=auth)
    assert response.status_code == 200, response.json
    return response.json["records"]["lab_results"]


def amend(client, lab_id, health_id=DEMO, **body):
    return client.post(f"/sandbox/patients/{health_id}/lab-results/{lab_id}/amend", json=body)


def test_an_amended_result_shows_version_2_and_fires_lab_result_amended(client, auth, world):
    before = labs(client, auth)
    original = before[0]
    response = amend(client, original["id"], value=9.9, flag="high", note="Recalibrated analyser.")
    assert response.status_code == 200, response.json
    after = labs(client, auth)
    assert [row["id"] for row in after] == [row["id"] for row in before]  # same results, same order
    assert after[1:] == before[1:]
    assert after[0] == {**original, "value": 9.9, "value_text": "9.9", "flag": "high", "version": 2,
                        "amended_at": "2026-11-21T09:00:00Z",
                        "amendment_note": "Recalibrated analyser.",
                        "previous_versions": [{"version": 1, "value": original["value"], "flag": original["flag"],
                                               "amended_at": None, "note": None}]}
    assert response.json == after[0]
    [event] = events.list_events(world, "lab_result.amended")
    assert {k: event["data"][k] for k in ("health_id", "lab_result_id", "test_name", "flagged")} == {
        "health_id": DEMO, "lab_result_id": original["id"], "test_name": original["test_name"], "flagged": True}


def test_a_second_amendment_is_version_3_with_both_earlier_versions(client, auth):
    lab_id = labs(client, auth)[0]["id"]
    assert amend(client, lab_id, value=1).status_code == 200
    clock.set_now(client.application.extensions["opescare_sandbox"].store.world("default"),
                  datetime(2026, 11, 21, 10, 0, tzinfo=UTC), frozen=True)
    third = amend(client, lab_id, flag="critical").json
    assert (third["version"], third["value"], third["flag"], third["amended_at"]) == (3, 1, "critical",
                                                                                       "2026-11-21T10:00:00Z")
    assert [v["version"] for v in third["previous_versions"]] == [2, 1]


def test_a_pushed_lab_result_can_be_amended_too(client, auth):
    push = {"health_id": DEMO, "external_lab_order_id": "LAB-9", "test_name": "Hemoglobin", "loinc_code": "718-7",
            "result_value": 13.5, "unit": "g/dL", "occurred_at": "2026-11-20T08:00:00Z"}
    record_id = client.post("/api/v1/connect/records/lab-results", json=push,
                            headers={**auth, "Idempotency-Key": "k9"}).json["opescare_record_id"]
    assert amend(client, record_id, value=12.1).json["version"] == 2
    assert [row["value"] for row in labs(client, auth) if row["id"] == record_id] == [12.1]


@pytest.mark.parametrize("lab_id,body,status,error", [
    ("lab_nope", {"value": 1}, 404, "lab_result_not_found"),
    (None, {"note": "no change"}, 422, "validation_failed"),  # a note alone amends nothing
    (None, {"flag": "purple"}, 400, "invalid_request"),
    (None, {"value": {"a": 1}}, 400, "invalid_request"),
])
def test_bad_amendments_are_refused(client, auth, lab_id, body, status, error):
    response = amend(client, lab_id or labs(client, auth)[0]["id"], **body)
    assert (response.status_code, response.json["error"]) == (status, error)


def test_an_unknown_patient_is_404(client):
    response = amend(client, "lab_x", health_id="CM-HID-ABCD-EFGH-AUG5", value=1)
    assert (response.status_code, response.json["error"]) == (404, "patient_not_found")
