"""Endpoint 2, resolve: found, created, not_found, missing criteria, multiple matches, and bad input."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.domain import clock, health_ids

from .conftest import DEMO_CLIENT

URL = "/api/v1/connect/patients/resolve"
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
# The seed's Case A body, exactly as printed.
CASE_A = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM",
          "sex": "female", "purpose": "his_registration", "external_reference": "HIS-PAT-00341"}
MARIE_ID = "CM-HID-DTLM-H42E-WFYC"  # health_ids.derive(42, "Marie", "Fouda", "1990-07-22", "CM")
MARIE = {"display_name": "Marie F.", "sex": "female", "year_of_birth": 1990, "country_code": "CM",
         "verification_status": "unverified", "identity_status": "provisional"}


@pytest.fixture(autouse=True)
def frozen_clock(world):
    clock.set_now(world, NOW, frozen=True)


def without_audit(world) -> dict:
    """The world minus the audit trail, which records failed calls too."""
    state = world.export()
    state.pop("audit")
    state["meta"]["1"]["counters"].pop("audit", None)
    return state


def resolve(client, auth, body):
    return client.post(URL, json=body, headers=auth)


def test_case_a_creates_marie_with_a_checksum_valid_id(client, auth):
    response = resolve(client, auth, CASE_A)
    assert response.status_code == 201
    assert response.json == {
        "status": "created", "health_id": MARIE_ID, "patient": MARIE, "next_action": "push_records",
        "message": "New patient registered. Store this health_id in your system and use it for all future calls.",
    }
    assert health_ids.is_valid(MARIE_ID)


def test_case_a_twice_finds_marie_on_the_second_call(client, auth):
    first = resolve(client, auth, CASE_A).json["health_id"]
    response = resolve(client, auth, CASE_A)
    assert response.status_code == 200
    assert response.json == {"status": "found", "health_id": first, "patient": MARIE, "next_action": "use_health_id"}


def test_same_id_in_fresh_apps_with_the_same_seed_whatever_happened_before():
    ids = []
    for unrelated in ([], [{"first_name": "Ada", "last_name": "Obi", "date_of_birth": "1980-01-01"},
                           {"first_name": "Paul", "last_name": "Ekane", "date_of_birth": "1975-03-09"}]):
        app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "SEED": 42})
        client = app.test_client()
        token = client.post("/api/v1/connect/auth/token", json={"grant_type": "client_credentials", **DEMO_CLIENT})
        headers = {"Authorization": f"Bearer {token.json['access_token']}"}
        for body in unrelated:
            assert client.post(URL, json=body, headers=headers).status_code == 201
        response = client.post(URL, json=CASE_A, headers=headers)
        assert response.status_code == 201
        ids.append(response.json["health_id"])
    assert ids == [MARIE_ID, MARIE_ID]


def test_another_seed_gives_another_id():
    app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "SEED": 7, "PATIENTS": 20})
    client = app.test_client()
    token = client.post("/api/v1/connect/auth/token", json={"grant_type": "client_credentials", **DEMO_CLIENT})
    response = client.post(URL, json=CASE_A, headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert response.json["health_id"] == health_ids.derive(7, "Marie", "Fouda", "1990-07-22", "CM") != MARIE_ID


def test_case_b_finds_the_documentation_patient(client, auth):
    response = resolve(client, auth, {"health_id": "CM-HID-7KQ9-MP42-X8D1"})
    assert response.status_code == 200
    assert response.json == {
        "status": "found", "health_id": "CM-HID-7KQ9-MP42-X8D1", "next_action": "use_health_id",
        "patient": {"display_name": "Amara N.", "sex": "female", "year_of_birth": 1990, "country_code": "CM",
                    "verification_status": "verified", "identity_status": "confirmed"},
    }


def test_health_id_is_trimmed_and_upper_cased(client, auth):
    assert resolve(client, auth, {"health_id": "  opc-2024-xk7t9 "}).json["health_id"] == "OPC-2024-XK7T9"


def test_registered_health_id_wins_over_demographics(client, auth):
    body = {"health_id": "OPC-2024-XK7T9", "first_name": "Someone", "last_name": "Else", "date_of_birth": "2001-01-01"}
    response = resolve(client, auth, body)
    assert (response.status_code, response.json["health_id"]) == (200, "OPC-2024-XK7T9")


def test_unknown_health_id_with_demographics_matches_by_demographics(client, auth):
    body = {"health_id": "CM-HID-7KQ9-MP42-WZFB", "first_name": " amara ", "last_name": "NGO",
            "date_of_birth": "1990-04-15"}
    response = resolve(client, auth, body)
    assert (response.status_code, response.json["health_id"]) == (200, "CM-HID-7KQ9-MP42-X8D1")


@pytest.mark.parametrize("variant", [
    {"first_name": "  MARIE", "last_name": "fouda  "},
    {"country_code": "cm"},
    {"country_code": None, "sex": "other", "phone_number": "+237600000000"},  # country defaults to CM
])
def test_matching_ignores_case_spaces_sex_and_phone(client, auth, variant):
    created = resolve(client, auth, CASE_A).json["health_id"]
    body = {k: v for k, v in {**CASE_A, **variant}.items() if v is not None}
    assert resolve(client, auth, body).json == {"status": "found", "health_id": created, "patient": MARIE,
                                                "next_action": "use_health_id"}


@pytest.mark.parametrize("variant", [{"date_of_birth": "1990-07-23"}, {"country_code": "NG"},
                                     {"last_name": "Foudah"}])
def test_different_demographics_create_another_patient(client, auth, variant):
    created = resolve(client, auth, CASE_A).json["health_id"]
    response = resolve(client, auth, {**CASE_A, **variant})
    assert response.status_code == 201 and response.json["health_id"] != created


def test_created_patient_is_stored_without_purpose_or_reference(client, auth, world):
    body = {**CASE_A, "phone_number": "+237677123456", "last_name": "  Fouda "}
    resolve(client, auth, body)
    patient = world["patients"].first("health_id", MARIE_ID)
    assert dict(patient) == {
        "health_id": MARIE_ID, "first_name": "Marie", "last_name": "Fouda", "sex": "female",
        "date_of_birth": "1990-07-22", "country_code": "CM", "phone_number": "+237677123456", "blood_type": None,
        "allergies": [], "verification_status": "unverified", "identity_status": "provisional",
        "created_at": "2026-03-01T08:30:00Z", "source": "resolve", "created_by": "demo_dev_sandbox",
    }


def test_creating_fires_patient_and_health_id_events_without_phone(client, auth, world):
    resolve(client, auth, {**CASE_A, "phone_number": "+237677123456"})
    events = world["events"].all()
    assert [e["type"] for e in events] == ["patient.created", "health_id.created"]
    assert [e["data"] for e in events] == [
        {"health_id": MARIE_ID, "display_name": MARIE["display_name"], "country_code": "CM",
         "identity_status": MARIE["identity_status"], "facility_id": "00000000-0000-0000-0000-100000000001"},
        {"health_id": MARIE_ID, "country_code": "CM", "facility_id": "00000000-0000-0000-0000-100000000001"}]
    for event in events:
        assert event["meta"]["facility_id"] == "00000000-0000-0000-0000-100000000001"
        assert event["created_at"] == "2026-03-01T08:30:00Z"
    assert "+237677123456" not in str(events) and "HIS-PAT-00341" not in str(events)


def test_finding_fires_no_event(client, auth, world):
    resolve(client, auth, {"health_id": "OPC-2024-XK7T9"})
    assert world["events"].all() == []


def test_new_id_skips_a_taken_candidate(client, auth, world):
    taken = health_ids.derive(42, "Marie", "Fouda", "1990-07-22", "CM")
    world["patients"].insert({"health_id": taken, "first_name": "Other", "last_name": "Person",
                              "date_of_birth": "1950-01-01", "country_code": "CM"})
    response = resolve(client, auth, CASE_A)
    assert response.json["health_id"] == health_ids.derive(42, "Marie", "Fouda", "1990-07-22", "CM", attempt=1)
    assert health_ids.is_valid(response.json["health_id"])


def test_other_country_gets_an_id_of_its_country(client, auth):
    body = {"first_name": "Ada", "last_name": "Obi", "date_of_birth": "1980-01-01", "country_code": "ng"}
    response = resolve(client, auth, body)
    assert response.json["health_id"].startswith("NG-HID-") and response.json["patient"]["country_code"] == "NG"


def test_concurrent_identical_resolves_create_one_patient(app, auth, world):
    barrier = threading.Barrier(32)

    def call(_):
        client = app.test_client()
        barrier.wait()
        return client.post(URL, json=CASE_A, headers=auth)

    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(call, range(32)))
    assert sorted(r.status_code for r in responses) == [200] * 31 + [201]
    assert {r.json["health_id"] for r in responses} == {MARIE_ID}
    assert len(world["patients"].find("match_key", ("marie", "fouda", "1990-07-22", "CM"))) == 1
    assert len(world["events"].all()) == 2


def test_requires_a_token(client, world):
    before = world.export()
    assert client.post(URL, json=CASE_A).json["error"] == "missing_token"
    assert world.export() == before


# -- errors: nothing is created ----------------------------------------------------------------------
@pytest.mark.parametrize("body, status, error", [
    ({}, 422, "missing_lookup_criteria"),
    ({"first_name": "Marie", "last_name": "Fouda"}, 422, "missing_lookup_criteria"),
    ({"purpose": "his_registration", "sex": "female"}, 422, "missing_lookup_criteria"),
    ({"health_id": "CM-HID-7KQ9-MP42-WZFB"}, 404, "patient_not_found"),
    ({"health_id": "nonsense", "first_name": "Marie"}, 404, "patient_not_found"),
])
def test_lookup_without_enough_to_go_on_creates_nothing(client, auth, world, body, status, error):
    before = without_audit(world)
    response = resolve(client, auth, body)
    assert (response.status_code, response.json["error"]) == (status, error)
    assert without_audit(world) == before


def test_missing_criteria_names_what_is_missing(client, auth):
    body = resolve(client, auth, {"first_name": "Marie"}).json
    assert body == {"error": "missing_lookup_criteria", "error_code": "MISSING_LOOKUP_CRITERIA",
                    "message": "Send a health_id, or first_name, last_name and date_of_birth.", "status": 422,
                    "missing": ["last_name", "date_of_birth"]}


def test_unknown_health_id_alone_is_404_with_status_not_found(client, auth):
    response = resolve(client, auth, {"health_id": "cm-hid-7kq9-mp42-wzfb"})
    assert response.status_code == 404
    assert response.json == {
        "error": "patient_not_found", "error_code": "PATIENT_NOT_FOUND", "status": "not_found",
        "health_id": "CM-HID-7KQ9-MP42-WZFB",
        "message": "This Health ID is not registered; supply first_name, last_name and date_of_birth to register "
                   "the patient.",
    }


def test_two_matching_patients_is_409_with_candidates(client, auth, world):
    twins = [{"health_id": hid, "first_name": "Marie", "last_name": "FOUDA", "date_of_birth": "1990-07-22",
              "country_code": "CM"} for hid in ("CM-HID-ABCD-EFGH-AUG5", "CM-HID-7KQ9-MP42-WZFB")]
    for twin in twins:
        world["patients"].insert(twin)
    before = without_audit(world)
    response = resolve(client, auth, CASE_A)
    assert response.status_code == 409
    assert response.json == {"error": "multiple_patient_matches", "error_code": "MULTIPLE_PATIENT_MATCHES",
                             "message": "Several registered patients match these demographics.", "status": 409,
                             "candidates": ["CM-HID-ABCD-EFGH-AUG5", "CM-HID-7KQ9-MP42-WZFB"]}
    assert without_audit(world) == before


def test_date_of_birth_after_today_on_the_sandbox_clock_is_422(client, auth, world):
    before = without_audit(world)
    response = resolve(client, auth, {**CASE_A, "date_of_birth": "2026-03-02"})
    assert response.status_code == 422
    assert response.json["error"] == "validation_failed"
    assert response.json["errors"] == {"date_of_birth": ["Must not be in the future."]}
    assert without_audit(world) == before


def test_date_of_birth_today_on_the_sandbox_clock_is_accepted(client, auth):
    assert resolve(client, auth, {**CASE_A, "date_of_birth": "2026-03-01"}).status_code == 201


LONG = "x" * 101


@pytest.mark.parametrize("changes, field", [
    ({"first_name": 5}, "first_name"),
    ({"first_name": None}, "first_name"),
    ({"last_name": ["Fouda"]}, "last_name"),
    ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
    ({"date_of_birth": "22/07/1990"}, "date_of_birth"),
    ({"date_of_birth": "19900722"}, "date_of_birth"),
    ({"date_of_birth": "1990-07-22T10:00:00"}, "date_of_birth"),
    ({"date_of_birth": 19900722}, "date_of_birth"),
    ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
    ({"sex": "f"}, "sex"),
    ({"sex": "FEMALE"}, "sex"),
    ({"first_name": LONG}, "first_name"),
    ({"last_name": "   "}, "last_name"),
    ({"country_code": "CMR"}, "country_code"),
    ({"country_code": 237}, "country_code"),
    ({"phone_number": "call me"}, "phone_number"),
    ({"purpose": LONG}, "purpose"),
    ({"external_reference": "x" * 129}, "external_reference"),
    ({"health_id": 12345}, "health_id"),
    ({"health_id": "X" * 65}, "health_id"),
    ({"health_id": ""}, "health_id"),
])
def test_bad_field_is_400_with_its_message_and_creates_nothing(client, auth, world, changes, field):
    before = world.export()
    response = resolve(client, auth, {**CASE_A, **changes})
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert list(response.json["errors"]) == [field] and response.json["errors"][field][0]
    assert world.export() == before


def test_several_bad_fields_are_all_reported(client, auth):
    body = {"first_name": 5, "date_of_birth": "1990-02-30", "sex": "unknown", "last_name": LONG}
    errors = resolve(client, auth, body).json["errors"]
    assert errors == {"first_name": ["Not a valid string."], "last_name": ["Longer than maximum length 100."],
                      "date_of_birth": ["Not a valid date: use an existing date written YYYY-MM-DD."],
                      "sex": ["Must be one of: male, female, other."]}


@pytest.mark.parametrize("data, content_type, message", [
    ("", "application/json", "The request body is empty."),
    ("", None, "The request body is empty."),
    ("first_name=Marie", "application/x-www-form-urlencoded", "The body must be JSON."),
    ("Marie Fouda", "text/plain", "The body must be JSON."),
    ("{", "application/json", "The body is not valid JSON."),
    ("[]", "application/json", "The body must be a JSON object."),
    ('[{"health_id": "CM-HID-7KQ9-MP42-X8D1"}]', "application/json", "The body must be a JSON object."),
    ('"Marie"', "application/json", "The body must be a JSON object."),
    ("null", "application/json", "The body must be a JSON object."),
])
def test_unusable_body_is_400_and_creates_nothing(client, auth, world, data, content_type, message):
    before = world.export()
    response = client.post(URL, data=data, content_type=content_type, headers=auth)
    assert response.status_code == 400
    assert (response.json["error"], response.json["message"]) == ("invalid_request", message)
    assert list(response.json["errors"]) == ["body"]
    assert world.export() == before
