"""Endpoints 15-16: record pushes with Idempotency-Key, reconciliation for unknown Health IDs, and their read side."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.domain import clock, events, pushes

from .conftest import DEMO_CLIENT, PROD_CLIENT

DEMO = "OPC-2024-DEMO1"
LAB_URL, ENCOUNTER_URL = "/api/v1/connect/records/lab-results", "/api/v1/connect/records/encounters"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
LAB = {"health_id": DEMO, "external_lab_order_id": "LAB-ORD-0001", "test_name": "Hemoglobin [Mass/volume] in Blood",
       "loinc_code": "718-7", "result_value": 10.9, "unit": "g/dL", "reference_range": "12.0-17.5", "flagged": True,
       "flag_level": "low", "interpretation": "Mild anaemia", "occurred_at": "2026-11-20T10:00:00+01:00",
       "source_system": "OpesHIS"}
ENCOUNTER = {"health_id": DEMO, "external_encounter_id": "HIS-ENC-0001", "encounter_type": "outpatient",
             "occurred_at": "2026-11-20T08:30:00Z", "chief_complaint": "Fever for three days",
             "clinical_note": "Febrile, RDT positive.", "source_system": "OpesHIS",
             "diagnoses": [{"code_system": "ICD-10", "code": "B54", "display": "Unspecified malaria"}]}


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, NOW, frozen=True)


@pytest.fixture
def push(client, auth):
    def _push(url, body, key="key-1", headers=None):
        extra = {"Idempotency-Key": key} if key is not None else {}
        return client.post(url, json=body, headers={**auth, **extra, **(headers or {})})
    return _push


def lab_results(client, auth, health_id=DEMO):
    return client.get(f"/api/v1/connect/patient/{health_id}/records?type=lab_results", headers=auth).json[
        "records"]["lab_results"]


def state(world) -> tuple:
    return tuple(len(world[name]) for name in ("records", "idempotency", "events", "reconciliation_cases"))


def test_pushed_lab_result_appears_and_a_replay_does_not_duplicate_it(client, auth, world, push):
    first = push(LAB_URL, LAB)
    accepted = {"status": "accepted", "opescare_record_id": "opc_lab_000001", "sync_status": "synced"}
    assert (first.status_code, first.json) == (200, accepted)
    assert "X-Idempotent-Replay" not in first.headers
    assert lab_results(client, auth)[0] == {
        "id": "opc_lab_000001", "test_name": "Hemoglobin [Mass/volume] in Blood", "loinc_code": "718-7",
        "value": 10.9, "value_text": "10.9", "unit": "g/dL", "reference_range": "12.0-17.5", "flag": "low",
        "resulted_at": "2026-11-20T09:00:00Z"}
    before = lab_results(client, auth)
    replay = push(LAB_URL, LAB)
    assert (replay.status_code, replay.json, replay.headers["X-Idempotent-Replay"]) == (200, accepted, "true")
    assert lab_results(client, auth) == before
    [event] = events.list_events(world, "lab_result.released")
    assert event["data"] == {"health_id": DEMO, "lab_result_id": "opc_lab_000001",  # exactly the docs' fields
                             "test_name": "Hemoglobin [Mass/volume] in Blood", "flagged": True,
                             "facility_id": "00000000-0000-0000-0000-100000000001"}


def test_replay_ignores_key_order_and_whitespace(client, auth, world):
    headers = {**auth, "Idempotency-Key": "k", "Content-Type": "application/json"}
    client.post(LAB_URL, data=json.dumps(LAB), headers=headers)
    reordered = json.dumps(dict(reversed(list(LAB.items()))), indent=4)
    replay = client.post(LAB_URL, data=reordered, headers=headers)
    assert replay.headers["X-Idempotent-Replay"] == "true"
    assert len(world["records"]) == 1


def test_pushed_encounter_diagnoses_appear_in_records(client, auth, world, push):
    response = push(ENCOUNTER_URL, ENCOUNTER)
    assert response.json == {"status": "accepted", "opescare_record_id": "opc_enc_000001", "sync_status": "synced"}
    diagnoses = client.get(f"/api/v1/connect/patient/{DEMO}/records?type=diagnoses", headers=auth).json
    assert diagnoses["records"]["diagnoses"][0] == {
        "id": "opc_enc_000001_dx1", "code_system": "ICD-10", "code": "B54", "display_name": "Unspecified malaria",
        "status": "active", "recorded_at": "2026-11-20T08:30:00Z",
        "facility_id": "00000000-0000-0000-0000-100000000001"}
    [event] = events.list_events(world, "encounter.created")
    assert event["data"] == {"health_id": DEMO, "encounter_id": "opc_enc_000001", "encounter_type": "outpatient",
                             "occurred_at": "2026-11-20T08:30:00Z",
                             "facility_id": "00000000-0000-0000-0000-100000000001"}


def test_same_key_with_another_body_is_409_and_changes_nothing(world, push):
    push(LAB_URL, LAB)
    before = state(world)
    response = push(LAB_URL, {**LAB, "result_value": 6.1})
    assert (response.status_code, response.json["error"], response.json["error_code"]) == (
        409, "idempotency_conflict", "IDEMPOTENCY_CONFLICT")
    assert state(world) == before


@pytest.mark.parametrize("url, body", [(LAB_URL, LAB), (ENCOUNTER_URL, ENCOUNTER)])
@pytest.mark.parametrize("key", [None, "", "   "])
def test_push_without_idempotency_key_is_400_and_stores_nothing(world, push, url, body, key):
    before = state(world)
    response = push(url, body, key=key)
    assert (response.status_code, response.json["error"]) == (400, "idempotency_key_required")
    assert state(world) == before


def test_overlong_idempotency_key_is_400(push):
    response = push(LAB_URL, LAB, key="k" * 256)
    assert (response.status_code, response.json["errors"]) == (400, {"Idempotency-Key": ["At most 255 characters."]})


def test_keys_are_scoped_per_client_and_endpoint(client, get_token, push):
    assert push(LAB_URL, LAB).json["opescare_record_id"] == "opc_lab_000001"
    encounter = push(ENCOUNTER_URL, ENCOUNTER)
    assert (encounter.status_code, encounter.json["opescare_record_id"]) == (200, "opc_enc_000001")
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}", "Idempotency-Key": "key-1"}
    other = client.post(LAB_URL, json=LAB, headers=prod)
    assert (other.status_code, other.json["opescare_record_id"]) == (200, "opc_lab_000002")
    assert "X-Idempotent-Replay" not in other.headers


@pytest.mark.parametrize("url, body", [(LAB_URL, LAB), (ENCOUNTER_URL, ENCOUNTER)])
def test_unknown_health_id_is_202_pending_reconciliation(world, push, url, body):
    response = push(url, {**body, "health_id": "cm-hid-aaaa-aaaa-aaaa"})
    assert (response.status_code, response.json) == (202, {
        "status": "pending_reconciliation", "error_code": "RECONCILIATION_REQUIRED",
        "reconciliation_case_id": "rc_000001",
        "message": "Health ID CM-HID-AAAA-AAAA-AAAA is not registered in OpesCare; the record is held for "
                   "reconciliation. Resolve the patient with POST /patients/resolve and push again."})
    case = world["reconciliation_cases"].first("case_id", "rc_000001")
    assert (case["status"], case["health_id"], case["client_id"]) == ("open", "CM-HID-AAAA-AAAA-AAAA",
                                                                      "demo_dev_sandbox")
    replay = push(url, {**body, "health_id": "cm-hid-aaaa-aaaa-aaaa"})
    assert (replay.status_code, replay.json["reconciliation_case_id"], replay.headers["X-Idempotent-Replay"]) == (
        202, "rc_000001", "true")
    assert (len(world["records"]), len(world["reconciliation_cases"]), events.list_events(world)) == (0, 1, [])


@pytest.mark.parametrize("url, body, field", [
    (LAB_URL, {k: v for k, v in LAB.items() if k != "health_id"}, "health_id"),
    (LAB_URL, {k: v for k, v in LAB.items() if k != "external_lab_order_id"}, "external_lab_order_id"),
    (ENCOUNTER_URL, {k: v for k, v in ENCOUNTER.items() if k != "external_encounter_id"}, "external_encounter_id"),
    (LAB_URL, {**LAB, "result_value": {"value": 1}}, "result_value"),
    (LAB_URL, {**LAB, "result_value": True}, "result_value"),
    (LAB_URL, {**LAB, "occurred_at": "yesterday"}, "occurred_at"),
    (LAB_URL, {**LAB, "flagged": "sometimes"}, "flagged"),
    (ENCOUNTER_URL, {**ENCOUNTER, "diagnoses": [{"display": "no code"}]}, "diagnoses.0.code"),
    (ENCOUNTER_URL, {**ENCOUNTER, "diagnoses": "B54"}, "diagnoses"),
])
def test_invalid_push_is_400_with_field_errors_and_stores_nothing(world, push, url, body, field):
    before = state(world)
    response = push(url, body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert field in response.json["errors"]
    assert state(world) == before


def test_non_json_body_is_400(client, auth):
    response = client.post(LAB_URL, data="{not json", headers={**auth, "Idempotency-Key": "k",
                                                               "Content-Type": "application/json"})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_pushes_need_a_token(client):
    response = client.post(LAB_URL, json=LAB, headers={"Idempotency-Key": "k"})
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


def test_repushing_an_external_id_with_a_new_key_amends_the_same_record(client, auth, world, push):
    push(LAB_URL, LAB, key="first")
    response = push(LAB_URL, {**LAB, "result_value": 11.8, "flag_level": None}, key="second")
    assert response.json["opescare_record_id"] == "opc_lab_000001"
    pushed = [r for r in lab_results(client, auth) if r["id"] == "opc_lab_000001"]
    assert [(r["value"], r["flag"]) for r in pushed] == [(11.8, "low")]
    assert [e["type"] for e in events.list_events(world)][::-1] == ["lab_result.released", "lab_result.amended"]


def test_a_push_is_all_or_nothing(client, auth, world, push, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(events, "record_event", broken)
    before = state(world)
    assert push(LAB_URL, LAB).status_code == 500
    assert state(world) == before
    monkeypatch.undo()
    assert push(LAB_URL, LAB).json["opescare_record_id"] == "opc_lab_000001"


@pytest.mark.parametrize("payload, flag", [
    ({"flag_level": "Critical", "result_value": 5.0, "reference_range": "12.0-17.5"}, "critical"),
    ({"result_value": 5.0, "reference_range": "12.0-17.5"}, "low"),
    ({"result_value": "190", "reference_range": "<200"}, "normal"),
    ({"result_value": 200, "reference_range": "<200"}, "high"),
    ({"result_value": "Positive", "reference_range": "Negative", "flagged": True}, "abnormal"),
    ({"result_value": "Negative", "flagged": False}, "normal"),
    ({"result_value": "Negative"}, None),
])
def test_lab_flag_of_a_push(payload, flag):
    assert pushes.lab_flag(payload) == flag


def test_pushes_and_their_keys_survive_a_restart(tmp_path):
    settings = {"TESTING": True, "IN_MEMORY": False, "DATA_DIR": str(tmp_path), "RATE_LIMIT_ENABLED": False}

    def post(app, key):
        client = app.test_client()
        token = client.post("/api/v1/connect/auth/token", json={"grant_type": "client_credentials", **DEMO_CLIENT})
        headers = {"Authorization": f"Bearer {token.json['access_token']}", "Idempotency-Key": key}
        return client.post(LAB_URL, json=LAB, headers=headers)

    first = create_app(settings)
    assert post(first, "k").json["opescare_record_id"] == "opc_lab_000001"
    first.extensions["opescare_sandbox"].store.close()
    again = create_app(settings)
    replay = post(again, "k")
    assert (replay.json["opescare_record_id"], replay.headers["X-Idempotent-Replay"]) == ("opc_lab_000001", "true")
    assert post(again, "other-key").json["opescare_record_id"] == "opc_lab_000001"
    assert len(again.extensions["opescare_sandbox"].store.world()["records"]) == 1
