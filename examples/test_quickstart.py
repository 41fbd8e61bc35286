"""A vendor's first tests against the OpesCare Sandbox fixtures (pip install opescare-sandbox; nothing to configure)."""

import pytest
import requests

MARIE = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM"}


def test_resolve_registers_a_new_patient(sandbox):
    response = sandbox.post("/api/v1/connect/patients/resolve", json=MARIE)  # the demo client's token is attached
    assert response.status_code == 201
    assert response.json["health_id"] == "CM-HID-DTLM-H42E-WFYC"  # the same in every fresh world of seed 42


def test_every_test_starts_from_the_seeded_world(sandbox):
    response = sandbox.post("/api/v1/connect/patients/resolve", json=MARIE)
    assert response.status_code == 201  # created again: the previous test's patient is gone


@pytest.mark.sandbox(scenario="multiple_patient_matches")
def test_ambiguous_demographics_are_a_409(sandbox):
    response = sandbox.post("/api/v1/connect/patients/resolve", json=sandbox.scenario["input"])
    assert response.status_code == 409
    assert response.json["error"] == "multiple_patient_matches"


@pytest.mark.sandbox(scenario="consent_expiring")
def test_records_need_a_live_consent(sandbox):
    records = f"/api/v1/connect/patient/{sandbox.scenario['input']['health_id']}/records"
    assert sandbox.get(records).status_code == 200  # the first read starts the persona's 60-second consent
    sandbox.advance_clock(61)  # the sandbox clock, not a sleep
    assert sandbox.get(records).json["error"] == "consent_required"


def test_code_that_makes_real_http_calls(sandbox_server):
    response = requests.get(f"{sandbox_server.url}/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1",
                            headers={"Authorization": f"Bearer {sandbox_server.token()}"}, timeout=10)
    assert response.status_code == 200
