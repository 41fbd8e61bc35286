"""Endpoints 5-6 and the revoke control: consent per (patient, client), grant, revoke, expiry on the sandbox clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import audit, clock, consent, events

from .conftest import PROD_CLIENT

JEAN, AMARA, DEMO = "OPC-2024-XK7T9", "CM-HID-7KQ9-MP42-X8D1", "OPC-2024-DEMO1"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DOCS_GRANT = {"consent_type": "full_record", "expires_at": "2026-12-31T23:59:59Z"}


def consent_url(health_id: str, action: str = "") -> str:
    return f"/api/v1/connect/patient/{health_id}/consent{action}"


@pytest.fixture(autouse=True)
def frozen_clock(world):
    """Before the docs' expiry date, and frozen so granted_at is known."""
    clock.set_now(world, NOW, frozen=True)


def a_seeded_patient(world) -> str:
    return next(p["health_id"] for p in world["patients"].all() if p["source"] == "seed")


@pytest.mark.parametrize("health_id, status", [(AMARA, "granted"), (DEMO, "granted"), (JEAN, "pending")])
def test_documentation_patients_start_with_the_documented_consent(client, auth, health_id, status):
    response = client.get(consent_url(health_id), headers=auth)
    assert response.status_code == 200
    assert (response.json["health_id"], response.json["consent_status"]) == (health_id, status)


def test_patient_without_a_consent_row_reads_pending(client, auth, world):
    health_id = a_seeded_patient(world)
    response = client.get(consent_url(health_id), headers=auth)
    assert response.json == {"health_id": health_id, "consent_status": "pending", "consent_type": None,
                             "granted_at": None, "expires_at": None}


def test_docs_grant_example_is_201_audited_and_fires_consent_granted(client, auth, world):
    response = client.post(consent_url(JEAN, "/grant"), headers=auth, json=DOCS_GRANT)
    expected = {"health_id": JEAN, "consent_status": "granted", "consent_type": "full_record",
                "granted_at": "2026-11-21T09:00:00Z", "expires_at": "2026-12-31T23:59:59Z"}
    assert (response.status_code, response.json) == (201, expected)
    assert client.get(consent_url(JEAN), headers=auth).json == expected
    [event] = events.list_events(world, "consent.granted")
    assert event["data"] == {"health_id": JEAN, "client_id": "demo_dev_sandbox", "consent_status": "granted",
                             "consent_type": "full_record", "granted_at": "2026-11-21T09:00:00Z",
                             "expires_at": "2026-12-31T23:59:59Z",
                             "facility_id": "00000000-0000-0000-0000-100000000001"}
    assert event["meta"]["facility_id"] == "00000000-0000-0000-0000-100000000001"
    assert event["meta"]["request_id"] == response.headers["X-Request-Id"]
    [entry] = audit.entries(world, action="consent.grant", health_id=JEAN)
    assert (entry["client_id"], entry["outcome"]) == ("demo_dev_sandbox", "granted")


def test_grant_without_a_body_is_a_full_record_consent_without_expiry(client, auth):
    response = client.post(consent_url(JEAN.lower(), "/grant"), headers=auth)
    assert response.status_code == 201
    assert response.json == {"health_id": JEAN, "consent_status": "granted", "consent_type": "full_record",
                             "granted_at": "2026-11-21T09:00:00Z", "expires_at": None}


@pytest.mark.parametrize("consent_type", sorted(consent.CONSENT_TYPES))
def test_every_documented_consent_type_can_be_granted(client, auth, consent_type):
    response = client.post(consent_url(JEAN, "/grant"), headers=auth, json={"consent_type": consent_type})
    assert (response.status_code, response.json["consent_type"]) == (201, consent_type)


@pytest.mark.parametrize("body, field", [
    ({"consent_type": "everything"}, "consent_type"),
    ({"consent_type": 5}, "consent_type"),
    ({"expires_at": "next tuesday"}, "expires_at"),
    ({"expires_at": "2026-13-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": 1798761599}, "expires_at"),
])
def test_malformed_grant_is_400_and_changes_nothing(client, auth, world, body, field):
    response = client.post(consent_url(JEAN, "/grant"), headers=auth, json=body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert field in response.json["errors"]
    assert client.get(consent_url(JEAN), headers=auth).json["consent_status"] == "pending"
    assert events.list_events(world) == []


@pytest.mark.parametrize("expires_at", ["2026-11-21T09:00:00Z", "2026-11-21T08:59:59Z", "2020-01-01T00:00:00"])
def test_expiry_not_in_the_future_is_422_and_changes_nothing(client, auth, world, expires_at):
    response = client.post(consent_url(JEAN, "/grant"), headers=auth, json={"expires_at": expires_at})
    assert (response.status_code, response.json["error"]) == (422, "validation_failed")
    assert response.json["errors"] == {"expires_at": ["Must be after 2026-11-21T09:00:00Z."]}
    assert client.get(consent_url(JEAN), headers=auth).json["consent_status"] == "pending"
    assert events.list_events(world) == []


@pytest.mark.parametrize("method, action", [("get", ""), ("post", "/grant")])
def test_unknown_patient_is_404(client, auth, method, action):
    response = getattr(client, method)(consent_url("CM-HID-AAAA-AAAA-AAAA", action), headers=auth)
    assert (response.status_code, response.json["error"]) == (404, "patient_not_found")


@pytest.mark.parametrize("method, action", [("get", ""), ("post", "/grant")])
def test_consent_endpoints_need_a_token(client, method, action):
    response = getattr(client, method)(consent_url(JEAN, action))
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


def test_consent_is_per_client(client, auth, get_token):
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"}
    client.post(consent_url(JEAN, "/grant"), headers=auth)
    assert client.get(consent_url(JEAN), headers=prod).json["consent_status"] == "pending"
    assert client.get(consent_url(JEAN), headers=auth).json["consent_status"] == "granted"


def test_granted_consent_expires_on_the_sandbox_clock_and_fires_once(client, auth, world):
    client.post(consent_url(JEAN, "/grant"), headers=auth, json={"expires_at": "2026-11-21T09:01:00Z"})
    clock.advance(world, 59)
    assert client.get(consent_url(JEAN), headers=auth).json["consent_status"] == "granted"
    clock.advance(world, 1)
    for _ in range(2):
        body = client.get(consent_url(JEAN), headers=auth).json
        assert (body["consent_status"], body["expires_at"]) == ("expired", "2026-11-21T09:01:00Z")
    [event] = events.list_events(world, "consent.expired")
    assert event["data"]["consent_status"] == "expired"
    assert consent.expire_due(world) == []


def test_expire_due_sweeps_every_due_consent(client, auth, world, get_token):
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"}
    soon = {"expires_at": "2026-11-21T09:30:00Z"}
    client.post(consent_url(JEAN, "/grant"), headers=auth, json=soon)
    client.post(consent_url(DEMO, "/grant"), headers=prod, json=soon)
    client.post(consent_url(AMARA, "/grant"), headers=prod, json={"expires_at": "2026-11-22T00:00:00Z"})
    clock.advance(world, 1800)
    expired = consent.expire_due(world)
    assert sorted((r["health_id"], r["client_id"], r["status"]) for r in expired) == [
        (DEMO, "opeshisos_production", "expired"), (JEAN, "demo_dev_sandbox", "expired")]
    assert consent.expire_due(world) == []
    assert len(events.list_events(world, "consent.expired")) == 2
    assert client.get(consent_url(AMARA), headers=prod).json["consent_status"] == "granted"


def test_regrant_after_expiry_is_granted_again(client, auth, world):
    client.post(consent_url(JEAN, "/grant"), headers=auth, json={"expires_at": "2026-11-21T09:00:01Z"})
    clock.advance(world, 5)
    assert client.get(consent_url(JEAN), headers=auth).json["consent_status"] == "expired"
    assert client.post(consent_url(JEAN, "/grant"), headers=auth).json["consent_status"] == "granted"


def test_revoke_control_revokes_audits_and_fires_consent_revoked(client, auth, world):
    client.post(consent_url(JEAN, "/grant"), headers=auth, json=DOCS_GRANT)
    response = client.post(f"/sandbox/patients/{JEAN}/consent/revoke")
    assert (response.status_code, response.json) == (200, {"health_id": JEAN, "revoked": [
        {"health_id": JEAN, "client_id": "demo_dev_sandbox", "consent_status": "revoked",
         "consent_type": "full_record", "granted_at": "2026-11-21T09:00:00Z", "expires_at": "2026-12-31T23:59:59Z",
         "revoked_at": "2026-11-21T09:00:00Z"}]})
    assert client.get(consent_url(JEAN), headers=auth).json["consent_status"] == "revoked"
    assert [e["data"]["client_id"] for e in events.list_events(world, "consent.revoked")] == ["demo_dev_sandbox"]
    assert [e["outcome"] for e in audit.entries(world, action="consent.revoke", health_id=JEAN)] == ["revoked"]
    again = client.post(f"/sandbox/patients/{JEAN}/consent/revoke")
    assert again.json == {"health_id": JEAN, "revoked": []}
    assert len(events.list_events(world, "consent.revoked")) == 1


def test_revoke_with_a_client_id_leaves_other_clients_granted(client, auth, get_token):
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"}
    client.post(consent_url(AMARA, "/grant"), headers=prod)
    response = client.post(f"/sandbox/patients/{AMARA}/consent/revoke", json={"client_id": "opeshisos_production"})
    assert [r["client_id"] for r in response.json["revoked"]] == ["opeshisos_production"]
    assert client.get(consent_url(AMARA), headers=prod).json["consent_status"] == "revoked"
    assert client.get(consent_url(AMARA), headers=auth).json["consent_status"] == "granted"


def test_revoke_without_a_client_id_revokes_every_active_consent(client, auth, get_token):
    prod = {"Authorization": f"Bearer {get_token(creds=PROD_CLIENT)}"}
    client.post(consent_url(AMARA, "/grant"), headers=prod)
    response = client.post(f"/sandbox/patients/{AMARA}/consent/revoke", json={})
    assert sorted(r["client_id"] for r in response.json["revoked"]) == ["demo_dev_sandbox", "opeshisos_production"]


@pytest.mark.parametrize("health_id, body, status, error", [
    ("CM-HID-AAAA-AAAA-AAAA", None, 404, "patient_not_found"),
    (AMARA, {"client_id": "nobody"}, 422, "validation_failed"),
    (AMARA, {"client_id": ""}, 400, "invalid_request"),
])
def test_bad_revoke_is_an_error_and_changes_nothing(client, auth, world, health_id, body, status, error):
    response = client.post(f"/sandbox/patients/{health_id}/consent/revoke", json=body)
    assert (response.status_code, response.json["error"]) == (status, error)
    assert client.get(consent_url(AMARA), headers=auth).json["consent_status"] == "granted"
    assert events.list_events(world) == []
