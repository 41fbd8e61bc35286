"""The documented event catalogue end to end: every type produced by something real, delivered signed, schema-valid."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import jsonschema_rs
import pytest

from opescare_sandbox.domain.event_catalogue import ALIASES, CATALOGUE, EVENT_TYPES, SANDBOX_TYPES

from .conftest import DEMO_CLIENT

SCHEMAS = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "event_schemas.json").read_text())["events"]
CONNECT, CONTROLS = "/api/v1/connect", "/sandbox"
AMARA, JEAN = "CM-HID-7KQ9-MP42-X8D1", "OPC-2024-XK7T9"
OLDER_NAMES = ("patient.registered", "lab_result.ready", "appointment.updated", "prescription.ready",
               "payment.completed")


def test_the_catalogue_is_the_documented_one():
    assert len(CATALOGUE) == 22 and set(SANDBOX_TYPES) == {"consent.expired", "stock.low", "payment.completed"}
    assert set(SCHEMAS) == set(EVENT_TYPES)
    assert set(OLDER_NAMES) == set(ALIASES) | {"payment.completed"}


def produce_every_type(client, auth) -> dict[str, str]:
    """Drive the API flows and the world controls until every type has fired once; {step: X-Request-Id}."""
    seen = {}

    def call(method, path, **kwargs):
        response = getattr(client, method)(path, **kwargs)
        assert response.status_code in (200, 201), (path, response.status_code, response.json)
        seen[path] = response.headers["X-Request-Id"]
        return response.json

    call("post", f"{CONNECT}/patients/resolve", headers={**auth, "X-Request-Id": "his-42:resolve"},
         json={"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"})
    call("get", f"{CONNECT}/patients/verify/{AMARA}", headers=auth)
    call("post", f"{CONTROLS}/webhooks/trigger", json={"type": "patient.updated", "data": {"health_id": AMARA}})
    call("post", f"{CONTROLS}/patients/{JEAN}/consent/request")
    call("post", f"{CONNECT}/patient/{JEAN}/consent/grant", headers=auth)
    call("post", f"{CONTROLS}/patients/{JEAN}/consent/revoke")
    call("post", f"{CONTROLS}/patients/{JEAN}/consent/deny")
    call("post", f"{CONTROLS}/webhooks/trigger", json={"type": "consent.expired", "data": {"health_id": AMARA}})
    push = {**auth, "Idempotency-Key": "enc-1"}
    encounter = call("post", f"{CONNECT}/records/encounters", headers=push, json={
        "health_id": AMARA, "external_encounter_id": "HIS-ENC-1", "encounter_type": "outpatient"})
    call("post", f"{CONTROLS}/encounters/{encounter['opescare_record_id']}/close")
    call("post", f"{CONTROLS}/patients/{AMARA}/lab-orders", json={"loinc_code": "718-7"})
    lab = call("post", f"{CONNECT}/records/lab-results", headers={**auth, "Idempotency-Key": "lab-1"}, json={
        "health_id": AMARA, "external_lab_order_id": "LAB-1", "test_name": "Complete Blood Count",
        "result_value": "12.1", "reference_range": "12.0-17.5"})
    call("post", f"{CONTROLS}/patients/{AMARA}/lab-results/{lab['opescare_record_id']}/amend", json={"value": 11.2})
    for then in ("dispense", "cancel"):
        rx = call("post", f"{CONTROLS}/patients/{AMARA}/prescriptions")["data"]["prescription_id"]
        call("post", f"{CONTROLS}/prescriptions/{rx}/{then}")
    for then in ("check-in", "cancel"):
        apt = call("post", f"{CONTROLS}/patients/{AMARA}/appointments")["data"]["appointment_id"]
        call("post", f"{CONTROLS}/appointments/{apt}/{then}")
    doc = call("post", f"{CONTROLS}/patients/{AMARA}/documents")["data"]["document_id"]
    call("post", f"{CONTROLS}/documents/{doc}/verify")
    call("post", f"{CONTROLS}/bridge-agent/sync-failures", json={"facility_id": "00000000-0000-0000-0000-100000000002"})
    call("post", f"{CONTROLS}/patients/{AMARA}/payments", json={"amount": 7500, "method": "orange_money"})
    call("post", f"{CONTROLS}/webhooks/trigger", json={"type": "stock.low"})
    return seen


def assert_signed(request, secret: str) -> None:
    t, v1 = (part.split("=", 1)[1] for part in request.headers["X-OpesCare-Signature"].split(","))
    assert hmac.compare_digest(v1, hmac.new(secret.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest())


def test_every_type_is_produced_and_delivered_signed_and_schema_valid_also_under_older_names(
        client, auth, receiver, subscribe):
    everything = subscribe(receiver.url("/all"), events=list(EVENT_TYPES))["webhook_secret"]
    older = {name: subscribe(receiver.url(f"/old/{name}"), events=[name])["webhook_secret"] for name in OLDER_NAMES}
    produce_every_type(client, auth)
    fired = client.get(f"{CONTROLS}/webhooks/deliveries", query_string={"limit": 1000}).json["data"]
    assert {e["type"] for e in fired} == set(EVENT_TYPES)
    wanted = {name: [e["type"] for e in fired if e["type"] in ALIASES.get(name, (name,))] for name in OLDER_NAMES}
    received = receiver.wait(len(fired) + sum(len(types) for types in wanted.values()))
    assert receiver.requests.empty()
    validators = {t: jsonschema_rs.validator_for(schema) for t, schema in SCHEMAS.items()}
    for request in received:
        name = request.path.removeprefix("/old/")
        assert_signed(request, older.get(name, everything))
        body = request.json
        errors = [e.message for e in validators[body["type"]].iter_errors(body)]
        assert not errors, (body["type"], errors, body)
    by_path = {}
    for request in received:
        by_path.setdefault(request.path, []).append(request.json["type"])
    assert sorted(by_path["/all"]) == sorted(e["type"] for e in fired)
    for name, types in wanted.items():
        assert sorted(by_path[f"/old/{name}"]) == sorted(types), name  # catalogue names in `type`


def test_a_resolve_names_its_request_in_the_patient_created_delivery_and_the_journal(client, auth, receiver,
                                                                                     subscribe):
    subscribe(receiver.url(), events=["patient.registered"])
    response = client.post(f"{CONNECT}/patients/resolve", headers=auth,
                           json={"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"})
    assert response.status_code == 201
    request_id = response.headers["X-Request-Id"]
    (delivery,) = receiver.wait()
    assert (delivery.json["type"], delivery.json["meta"]["request_id"]) == ("patient.created", request_id)
    (entry,) = client.get(f"{CONTROLS}/requests", query_string={"request_id": request_id}).json["data"]
    assert (entry["path"], entry["status"], entry["request_id"]) == (f"{CONNECT}/patients/resolve", 201, request_id)
    events = client.get(f"{CONTROLS}/webhooks/deliveries", query_string={"request_id": request_id}).json["data"]
    assert sorted(e["type"] for e in events) == ["health_id.created", "patient.created"]


def test_a_denied_consent_then_reads_denied_and_records_stay_closed(client, auth):
    response = client.post(f"{CONTROLS}/patients/{AMARA}/consent/deny", json={"client_id": "demo_dev_sandbox"})
    assert (response.status_code, response.json["type"], response.json["data"]["consent_status"]) == (
        201, "consent.denied", "denied")
    assert client.get(f"{CONNECT}/patient/{AMARA}/consent", headers=auth).json["consent_status"] == "denied"
    records = client.get(f"{CONNECT}/patient/{AMARA}/records", headers=auth)
    assert (records.status_code, records.json["consent_status"]) == (403, "denied")


def test_a_released_result_is_in_the_records_with_a_numeric_value_and_its_text(client, auth):
    event = client.post(f"{CONTROLS}/patients/{AMARA}/lab-results", json={"loinc_code": "718-7", "result_value": 9.5})
    assert event.status_code == 201
    lab_id = event.json["data"]["lab_result_id"]
    labs = client.get(f"{CONNECT}/patient/{AMARA}/records?type=lab_results", headers=auth).json["records"]
    (row,) = [r for r in labs["lab_results"] if r["id"] == lab_id]
    assert (row["value"], row["value_text"], row["flag"]) == (9.5, "9.5", "low")
    assert event.json["data"]["flagged"] is True


@pytest.mark.parametrize("event_type, picks, status", [
    ("appointment.checked_in", {}, 422),  # nothing scheduled yet
    ("prescription.dispensed", {"prescription_id": "rx_999999"}, 404),
    ("consent.revoked", {"health_id": JEAN}, 422),  # Jean's consent is pending: nothing to revoke
    ("patient.created", {"health_id": "CM-HID-AAAA-AAAA-AAAA"}, 201),  # picks name records; unknown ones unused
    ("no.such_type", {}, 422),
])
def test_the_trigger_refuses_what_the_world_cannot_do(client, event_type, picks, status):
    response = client.post(f"{CONTROLS}/webhooks/trigger", json={"type": event_type, "data": picks})
    assert response.status_code == status, response.json


def test_the_trigger_no_longer_overrides_the_payload(client):
    response = client.post(f"{CONTROLS}/webhooks/trigger",
                           json={"type": "lab_result.released", "data": {"test_name": "Forged", "flagged": "yes"}})
    assert response.status_code == 201
    assert response.json["data"]["test_name"] == "Hemoglobin [Mass/volume] in Blood"
    assert "flagged" in response.json["data"] and response.json["data"]["flagged"] is False


def test_a_token_with_only_the_diagnostics_scope_reads_all_without_lab_results(client, get_token):
    token = get_token(scope="patient:diagnostics:read", creds=DEMO_CLIENT)
    response = client.get(f"{CONNECT}/patient/{AMARA}/records", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert sorted(response.json["records"]) == ["diagnoses", "prescriptions", "vitals"]
    assert response.json["omitted"] == [{"section": "lab_results", "reason": "missing_scope",
                                         "required_scopes": ["lab:results:read"]}]
    labs = client.get(f"{CONNECT}/patient/{AMARA}/records?type=lab_results", headers={"Authorization": f"Bearer {token}"})
    assert (labs.status_code, labs.json["error"]) == (403, "invalid_scope")


def test_with_the_lab_scope_all_has_lab_results_and_no_omissions(client, auth):
    response = client.get(f"{CONNECT}/patient/{AMARA}/records", headers=auth)
    assert "lab_results" in response.json["records"] and "omitted" not in response.json
    values = [r["value"] for r in response.json["records"]["lab_results"]]
    assert values and all(v is None or isinstance(v, (int, float)) for v in values)


def test_an_issued_prescription_is_in_the_records_and_follows_the_pharmacy(client, auth):
    issued = client.post(f"{CONTROLS}/patients/{AMARA}/prescriptions").json["data"]
    dispensed = client.post(f"{CONTROLS}/prescriptions/{issued['prescription_id']}/dispense")
    assert dispensed.json["data"]["facility_id"] == "00000000-0000-0000-0000-100000000004"  # DemoCare Pharmacy
    rows = client.get(f"{CONNECT}/patient/{AMARA}/records?type=prescriptions", headers=auth).json["records"]
    (row,) = [r for r in rows["prescriptions"] if r["id"] == issued["prescription_id"]]
    assert (row["status"], row["facility_id"], len(row["items"])) == (
        "dispensed", issued["facility_id"], issued["item_count"])
    again = client.post(f"{CONTROLS}/prescriptions/{issued['prescription_id']}/cancel")
    assert (again.status_code, again.json["error"]) == (422, "validation_failed")  # dispensed: too late to cancel
