"""Endpoints 3 and 4: verify a Health ID (format, checksum, registration) and search a patient by Health ID."""

from __future__ import annotations

from urllib.parse import quote

import pytest

VERIFY = "/api/v1/connect/patients/verify/"
SEARCH = "/api/v1/connect/patient/search"
AMARA = {"display_name": "Amara N.", "sex": "female", "year_of_birth": 1990, "country_code": "CM",
         "verification_status": "verified", "identity_status": "confirmed"}


def test_verify_docs_example_as_printed(client, auth):
    response = client.get(VERIFY + "CM-HID-7KQ9-MP42-X8D1", headers=auth)
    assert response.status_code == 200
    assert response.json == {"status": "valid", "health_id": "CM-HID-7KQ9-MP42-X8D1", "resolved_via_alias": False,
                             "queried_health_id": None, "patient": AMARA}


@pytest.mark.parametrize("raw", ["cm-hid-7kq9-mp42-x8d1", "  CM-HID-7KQ9-MP42-X8D1 ", "Cm-Hid-7kQ9-Mp42-X8d1"])
def test_verify_trims_and_upper_cases(client, auth, raw):
    response = client.get(VERIFY + quote(raw), headers=auth)
    assert (response.status_code, response.json["health_id"]) == (200, "CM-HID-7KQ9-MP42-X8D1")


@pytest.mark.parametrize("legacy, name", [("OPC-2024-XK7T9", "Jean D."), ("OPC-2024-DEMO1", "Paul M.")])
def test_verify_accepts_the_docs_legacy_ids(client, auth, legacy, name):
    response = client.get(VERIFY + legacy, headers=auth)
    assert (response.status_code, response.json["patient"]["display_name"]) == (200, name)


def test_verify_a_seeded_patient(client, auth, world):
    patient = next(p for p in world["patients"].all() if p["source"] == "seed")
    response = client.get(VERIFY + patient["health_id"], headers=auth)
    assert response.status_code == 200 and response.json["health_id"] == patient["health_id"]


def test_verify_a_patient_created_by_resolve(client, auth):
    body = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"}
    created = client.post("/api/v1/connect/patients/resolve", json=body, headers=auth).json["health_id"]
    response = client.get(VERIFY + created, headers=auth)
    assert response.json == {"status": "valid", "health_id": created, "resolved_via_alias": False,
                             "queried_health_id": None, "patient": {
        "display_name": "Marie F.", "sex": None, "year_of_birth": 1990, "country_code": "CM",
        "verification_status": "unverified", "identity_status": "provisional"}}


@pytest.mark.parametrize("bad", [
    "CM-HID-7KQ9-MP42-AAAA",  # well-formed, wrong check block
    "CM-HID-7KQ9-MP42-X8D2",  # a near miss of the legacy ID
    "OPC-2024-ZZZZZ",  # legacy shape, but not a listed legacy ID
    "garbage",
    "CM-HID-7KQ9-MP42",
])
def test_verify_bad_format_or_checksum_is_422(client, auth, world, bad):
    response = client.get(VERIFY + bad, headers=auth)
    assert response.status_code == 422
    assert response.json == {"error": "health_id_invalid", "error_code": "HEALTH_ID_INVALID",
                             "message": "The Health ID fails the format or checksum test.", "status": 422,
                             "health_id": bad.upper()}
    assert world["events"].all() == []


@pytest.mark.parametrize("unknown", ["CM-HID-7KQ9-MP42-WZFB", "ng-hid-8r2a-qk93-4lzc"])
def test_verify_well_formed_unknown_is_404(client, auth, unknown):
    response = client.get(VERIFY + unknown, headers=auth)
    assert response.status_code == 404
    assert response.json == {"error": "patient_not_found", "error_code": "PATIENT_NOT_FOUND",
                             "message": "No patient is registered with this Health ID.", "status": 404,
                             "health_id": unknown.upper()}


def test_verify_fires_health_id_verified_on_success_only(client, auth, world):
    client.get(VERIFY + "CM-HID-7KQ9-MP42-WZFB", headers=auth)
    client.get(VERIFY + "CM-HID-7KQ9-MP42-X8D1", headers=auth)
    events = world["events"].all()
    assert [(e["type"], e["data"]) for e in events] == [
        ("health_id.verified", {"health_id": "CM-HID-7KQ9-MP42-X8D1",
                                "verification_status": AMARA["verification_status"],
                                "facility_id": "00000000-0000-0000-0000-100000000001"})]


def test_verify_needs_a_token(client):
    assert client.get(VERIFY + "CM-HID-7KQ9-MP42-X8D1").json["error"] == "missing_token"


def test_verify_needs_no_scope(client, get_token):
    headers = {"Authorization": f"Bearer {get_token(scope='pharmacy:stock:read')}"}
    assert client.get(VERIFY + "CM-HID-7KQ9-MP42-X8D1", headers=headers).status_code == 200


# -- search ----------------------------------------------------------------------------------------
def test_search_docs_example_as_printed(client, auth):
    response = client.get(SEARCH + "?health_id=OPC-2024-XK7T9", headers=auth)
    assert response.status_code == 200
    assert response.json == {"health_id": "OPC-2024-XK7T9", "name": "Jean Dupont", "first_name": "Jean",
                             "last_name": "Dupont", "date_of_birth": "1990-05-15", "sex": "male", "blood_type": "O+",
                             "allergies": ["Penicillin", "Aspirin"], "country_code": "CM"}


@pytest.mark.parametrize("health_id", ["CM-HID-7KQ9-MP42-X8D1", " cm-hid-7kq9-mp42-x8d1 "])
def test_search_by_new_format_id(client, auth, health_id):
    response = client.get(SEARCH, query_string={"health_id": health_id}, headers=auth)
    assert response.status_code == 200
    assert (response.json["health_id"], response.json["name"]) == ("CM-HID-7KQ9-MP42-X8D1", "Amara Ngo")


def test_search_a_patient_created_by_resolve(client, auth):
    body = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "sex": "female"}
    created = client.post("/api/v1/connect/patients/resolve", json=body, headers=auth).json["health_id"]
    response = client.get(SEARCH, query_string={"health_id": created}, headers=auth)
    assert response.json == {"health_id": created, "name": "Marie Fouda", "first_name": "Marie",
                             "last_name": "Fouda", "date_of_birth": "1990-07-22", "sex": "female", "blood_type": None,
                             "allergies": [], "country_code": "CM"}


@pytest.mark.parametrize("query", ["", "?health_id=", "?health_id=%20%20", "?id=OPC-2024-XK7T9"])
def test_search_without_health_id_is_400(client, auth, query):
    response = client.get(SEARCH + query, headers=auth)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request" and list(response.json["errors"]) == ["health_id"]


@pytest.mark.parametrize("unknown", ["CM-HID-7KQ9-MP42-WZFB", "OPC-2024-ZZZZZ", "nonsense"])
def test_search_unknown_is_404(client, auth, unknown):
    response = client.get(SEARCH, query_string={"health_id": unknown}, headers=auth)
    assert (response.status_code, response.json["error"]) == (404, "patient_not_found")


def test_search_needs_patient_profile_read(client, get_token):
    headers = {"Authorization": f"Bearer {get_token(scope='pharmacy:stock:read')}"}
    response = client.get(SEARCH + "?health_id=OPC-2024-XK7T9", headers=headers)
    assert (response.status_code, response.json["error"]) == (403, "invalid_scope")
    assert response.json["required_scopes"] == ["patient:profile:read"]
