"""The events the other resources record reach a real receiver, signed, without the API call waiting for it."""

from __future__ import annotations

import hashlib
import hmac

CONNECT = "/api/v1/connect"
CASE_A = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM",
          "sex": "female"}


def verified(received, secret: str) -> bool:
    parts = dict(p.split("=", 1) for p in received.headers["X-OpesCare-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def subscribe(client, auth, url, events):
    response = client.post(f"{CONNECT}/webhooks/subscriptions", headers=auth,
                           json={"callback_url": url, "subscribed_events": events})
    assert response.status_code == 201
    return response.json["webhook_secret"]


def test_resolving_a_new_patient_delivers_patient_created_with_a_valid_signature(client, auth, receiver):
    secret = subscribe(client, auth, receiver.url(), ["patient.created"])
    created = client.post(f"{CONNECT}/patients/resolve", json=CASE_A, headers=auth)
    assert created.status_code == 201
    (received,) = receiver.wait(1)
    assert verified(received, secret)
    assert received.json["type"] == "patient.created"
    assert received.json["data"]["health_id"] == created.json["health_id"]
    assert received.headers["X-OpesCare-Event-Id"] == received.json["id"]


def test_every_recorded_event_type_is_delivered(client, auth, receiver):
    types = ["patient.created", "health_id.created", "consent.granted", "consent.revoked", "lab_result.released",
             "encounter.created", "stock.low"]
    secret = subscribe(client, auth, receiver.url(), types)
    health_id = client.post(f"{CONNECT}/patients/resolve", json=CASE_A, headers=auth).json["health_id"]
    client.post(f"{CONNECT}/patient/{health_id}/consent/grant", json={}, headers=auth)
    push = {"health_id": health_id, "occurred_at": "2026-01-05T10:00:00Z"}
    client.post(f"{CONNECT}/records/lab-results", headers={**auth, "Idempotency-Key": "k1"},
                json={**push, "external_lab_order_id": "LAB-1", "test_name": "Glucose", "loinc_code": "2345-7",
                      "result_value": "180", "unit": "mg/dL", "reference_range": "70-99"})
    client.post(f"{CONNECT}/records/encounters", headers={**auth, "Idempotency-Key": "k2"},
                json={**push, "external_encounter_id": "ENC-1", "encounter_type": "outpatient",
                      "diagnoses": [{"code_system": "ICD-10", "code": "E11.9", "display": "Type 2 diabetes"}]})
    client.post(f"/sandbox/patients/{health_id}/consent/revoke", json={})
    client.post("/sandbox/inventory/00000000-0000-0000-0000-100000000001/pharmacy",
                json={"item_id": "med_amoxicillin_500_cap", "available_quantity": 0})
    received = receiver.wait(len(types))
    assert sorted(r.json["type"] for r in received) == sorted(types)
    assert all(verified(r, secret) for r in received)
