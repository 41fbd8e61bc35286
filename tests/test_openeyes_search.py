"""OpenEyes search term rules on a small controlled world: the two documentation patients plus the patients below.

The world is built with PATIENTS=0 (no generated population), so every expected id list is exact.
Order is by the numeric value of the Hospital Number, then id. Searches only read, so one app serves
the whole module (building an app and verifying the PBKDF2 password once per test would triple the time);
the one test that moves the clock puts it back.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.domain import clock

URL = "/api/v1/patient/search"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"api_user:password").decode()}
JOHN, JANE = 12345, 12346
SMITHS = [90002, JOHN, JANE]  # Smithson's hospital number 0000042 sorts before H123456 and H789012
PAGERS = list(range(91025, 91000, -1))  # their hospital numbers fall as the id rises


@pytest.fixture(scope="module")
def app():
    return create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "PATIENTS": 0})


def patient(pid, first, last, dob, hosnum=None, nhs=None, gender="F", **extra) -> dict:
    identifiers = ([{"type": "LOCAL-1-0", "value": hosnum}] if hosnum else []) + (
        [{"type": "GLOBAL-1-0", "value": nhs}] if nhs else [])
    return {"id": pid, "title": None, "first_name": first, "last_name": last, "gender": gender, "dob": dob,
            "date_of_death": None, "deleted": False, "merged_into": None, "identifiers": identifiers,
            "source": "test", **extra}


EXTRA_PATIENTS = [
    patient(90001, "Anne", "O'Brien", "1980-01-05", "0012345", "9434765919"),
    patient(90002, "Annabel", "Smithson", "1980-01-05", "0000042"),
    patient(90003, "Percy", "Under_score", "1990-12-31", "0000100", gender="M"),
    patient(90004, "Ron", "Mc%Test", "1960-02-29", "0000200", gender="M"),
    patient(90005, "Ronald", "McDonald", "1955-06-01", "1234567", "4010232137", gender="M",
            date_of_death="2020-01-01"),
    patient(90006, "Anne", "Brown", "1970-03-15", "0000777", deleted=True),
    patient(90007, "Anne", "Brown", "1970-03-15", "0000778", merged_into=90008),
    patient(90008, "Anne", "Browne", "1970-03-15", "0000779"),
    patient(90009, "Harry", "Nohosp", "2001-09-09", None, "9876543210", gender=None),
    patient(90010, "Zara", "Zimmer", "1999-09-09", "H000042"),
] + [patient(91000 + i, "Paige", "Pager", "2000-01-01", f"{200000 - i:07d}") for i in range(1, 26)]


@pytest.fixture(scope="module")
def world(app):
    world = app.extensions["opescare_sandbox"].store.world("default")
    for doc in EXTRA_PATIENTS:
        world["openeyes_patients"].insert(doc)
    return world


@pytest.fixture
def moved_clock(world):
    saved = world.meta.get("clock")
    yield
    world.set_meta(clock=saved)


def search(client, **params):
    response = client.get(URL, query_string=params, headers=AUTH)
    assert response.status_code == 200 and isinstance(response.json, list), response.data
    return [p["id"] for p in response.json]


TERMS = [
    # names: one word is a last-name prefix, case-insensitive
    ({"term": "Smith"}, SMITHS),
    ({"term": "smith"}, SMITHS),
    ({"term": "  SMITH  "}, SMITHS),
    ({"term": "Smi"}, SMITHS),
    ({"term": "Smithson"}, [90002]),
    ({"term": "Anne"}, []),                                  # one word is a last name, never a first name
    ({"term": "O'Brien"}, [90001]),
    ({"term": "o'b"}, [90001]),
    ({"term": "Brown"}, [90008]),                            # Brown deleted and Brown merged are excluded
    # First Rest-is-last, no swapping
    ({"term": "John Smith"}, [JOHN]),
    ({"term": "jo  sm"}, [JOHN]),
    ({"term": "J Smith"}, [JOHN, JANE]),
    ({"term": "Smith John"}, []),
    # Last, First
    ({"term": "Smith, John"}, [JOHN]),
    ({"term": "smith,jane"}, [JANE]),
    ({"term": "Smith , J"}, [JOHN, JANE]),
    ({"term": "Smith,"}, SMITHS),
    ({"term": ", Anne"}, [90008, 90001]),                    # first name only
    ({"term": ","}, []),
    # day-first date suffix
    ({"term": "Smith 15/03/1970"}, [JOHN]),
    ({"term": "Smith 15-3-1970"}, [JOHN]),
    ({"term": "John Smith 15/03/1970"}, [JOHN]),
    ({"term": "Smith, John 15/3/1970"}, [JOHN]),
    ({"term": "Smith 22/07/1945"}, [JANE]),
    ({"term": "Smith 16/03/1970"}, []),
    ({"term": "Smith 03/15/1970"}, []),                      # month-first is no date
    ({"term": "Smith 31/02/1970"}, []),
    ({"term": "Smith 15/03-1970"}, []),                      # mixed separators: digits in a name
    ({"term": "15/03/1970"}, []),                            # a date needs a name before it
    # % and _ are literal characters, never wildcards
    ({"term": "Mc"}, [90004, 90005]),
    ({"term": "Mc%"}, [90004]),
    ({"term": "%"}, []),
    ({"term": "Sm%"}, []),
    ({"term": "Under_"}, [90003]),
    ({"term": "Unde_"}, []),
    ({"term": "_"}, []),
    # digits in names match no identifier format
    ({"term": "Smith2"}, []),
    ({"term": "Smith 1980"}, []),
    ({"term": "2Smith"}, []),
    # numbers: exact, case-insensitive, spaces and dashes dropped
    ({"term": "H123456"}, [JOHN]),
    ({"term": "h123456"}, [JOHN]),
    ({"term": "H123"}, []),                                  # identifiers are exact, never prefixes
    ({"term": "1234567890"}, [JOHN]),                        # fails modulus 11: no checksum test
    ({"term": "123 456 7890"}, [JOHN]),
    ({"term": "123-456-7890"}, [JOHN]),
    ({"term": "9434765919"}, [90001]),
    ({"term": "943 476 5919"}, [90001]),
    ({"term": "943-476-5919"}, [90001]),
    ({"term": "9876543210"}, [90009]),
    # short numbers also match the Hospital Number zero-padded to 7
    ({"term": "12345"}, [90001]),
    ({"term": "012345"}, [90001]),
    ({"term": "0012345"}, [90001]),
    ({"term": "42"}, [90002]),
    ({"term": "H000042"}, [90010]),
    ({"term": "123456"}, []),                                # H123456 is not 0123456
    ({"term": "1234567"}, [90005]),                          # deceased patients are found
    ({"term": "777"}, []),                                   # deleted
    ({"term": "778"}, []),                                   # merged away
    ({"term": "779"}, [90008]),
    ({"term": "12345678901"}, []),
    ({"term": "1234567890123"}, []),
    # patient_identifier_type: id or key; no padding when given; names ignore it; unknown -> []
    ({"term": "9434765919", "patient_identifier_type": "2"}, [90001]),
    ({"term": "9434765919", "patient_identifier_type": "GLOBAL-1-0"}, [90001]),
    ({"term": "9434765919", "patient_identifier_type": "global-1-0"}, [90001]),
    ({"term": "9434765919", "patient_identifier_type": "1"}, []),
    ({"term": "0012345", "patient_identifier_type": "1"}, [90001]),
    ({"term": "0012345", "patient_identifier_type": "LOCAL-1-0"}, [90001]),
    ({"term": "12345", "patient_identifier_type": "1"}, []),
    ({"term": "123456", "patient_identifier_type": "2"}, []),
    ({"term": "Smith", "patient_identifier_type": "2"}, SMITHS),
    ({"term": "Smith", "patient_identifier_type": "3"}, []),
    ({"term": "H123456", "patient_identifier_type": "abc"}, []),
    ({"term": "H123456", "patient_identifier_type": ""}, [JOHN]),
    # protocol prefixes: exactly one ':' drops what comes before it
    ({"term": "hosnum:H123456"}, [JOHN]),
    ({"term": "nhs: 943 476 5919"}, [90001]),
    ({"term": "name:Smith, John"}, [JOHN]),
    ({"term": ":Smith"}, SMITHS),
    ({"term": "a:b:Smith"}, []),
    ({"term": "H123456:"}, []),
    # empty and oversized
    ({"term": ""}, []),
    ({"term": "   "}, []),
    ({}, []),
    ({"term": "a" * 300}, []),
    # paging: pageSize default 20, <= 0 -> 10, cap 100; Patient_page 1-based, past the end -> last page
    ({"term": "Pager"}, PAGERS[:20]),
    ({"term": "Pager", "pageSize": "5", "Patient_page": "2"}, PAGERS[5:10]),
    ({"term": "Pager", "pageSize": " 5 "}, PAGERS[:5]),
    ({"term": "Pager", "pageSize": "0"}, PAGERS[:10]),
    ({"term": "Pager", "pageSize": "-3"}, PAGERS[:10]),
    ({"term": "Pager", "pageSize": "500"}, PAGERS),
    ({"term": "Pager", "pageSize": "10", "Patient_page": "99"}, PAGERS[20:]),
    ({"term": "Pager", "pageSize": "10", "Patient_page": "0"}, PAGERS[:10]),
    ({"term": "Pager", "pageSize": "10", "Patient_page": "-2"}, PAGERS[:10]),
    ({"term": "Pager", "pageSize": "abc"}, []),
    ({"term": "Pager", "Patient_page": "2.5"}, []),
]


@pytest.mark.parametrize("params,expected", TERMS, ids=[repr(p)[:60] for p, _ in TERMS])
def test_search_term(client, world, params, expected):
    assert search(client, **params) == expected


def test_post_takes_the_same_params_from_a_form_body(client, world):
    response = client.post(URL, data={"term": "Smith, John"}, headers=AUTH)
    assert [p["id"] for p in response.json] == [JOHN]


def test_post_query_string_wins_over_the_form(client, world):
    response = client.post(URL + "?term=H789012", data={"term": "H123456", "pageSize": "1"}, headers=AUTH)
    assert [p["id"] for p in response.json] == [JANE]


def test_a_patient_without_hospital_number_has_no_primary(client, world):
    assert client.get(URL, query_string={"term": "Nohosp"}, headers=AUTH).json == [{
        "id": 90009, "first_name": "Harry", "last_name": "Nohosp", "age": age_on_clock(world, "2001-09-09"),
        "genderletter": None, "dob": "2001-09-09", "is_deceased": False,
        "patient_identifiers": [{"title": "NHS Number", "value": "9876543210"}],
        "primary_patient_identifiers": {"title": "N/A", "value": "None"}}]


def test_a_given_identifier_type_makes_the_primary_not_applicable(client, world):
    body = client.get(URL, query_string={"term": "9434765919", "patient_identifier_type": "2"}, headers=AUTH).json
    assert [(p["primary_patient_identifiers"], len(p["patient_identifiers"])) for p in body] == [
        ({"title": "N/A", "value": "None"}, 2)]


def age_on_clock(world, dob: str) -> str:
    today, born = clock.today(world), datetime.fromisoformat(dob).date()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


@pytest.mark.parametrize("today,age", [("2024-03-14", "53"), ("2024-03-15", "54"), ("2024-06-01", "54"),
                                       ("2025-03-15", "55")])
def test_age_is_whole_years_on_the_sandbox_clock(client, world, moved_clock, today, age):
    clock.set_now(world, datetime.fromisoformat(today).replace(hour=12, tzinfo=UTC), frozen=True)
    body = client.get(URL, query_string={"term": "John Smith"}, headers=AUTH).json
    assert [(p["age"], p["is_deceased"]) for p in body] == [(age, False)]


def test_deceased_patients_say_so_whatever_the_date(client, world):
    body = client.get(URL, query_string={"term": "Mc"}, headers=AUTH).json
    assert [(p["id"], p["age"], p["is_deceased"]) for p in body] == [
        (90004, age_on_clock(world, "1960-02-29"), False), (90005, "Deceased", True)]
