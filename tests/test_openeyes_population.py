"""The seeded OpenEyes population: size, identifiers, deceased/deleted/merged patients, and index-only searches."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from opescare_sandbox.domain import nhs
from opescare_sandbox.domain.openeyes import search_patients
from opescare_sandbox.domain.seed import ANCHOR_DATE, build_world
from opescare_sandbox.storage.store import Table

FIXTURES = "fixtures"


@pytest.fixture(scope="module")
def world():
    return build_world(42, 300, FIXTURES)


@pytest.fixture(scope="module")
def generated(world):
    return [p for p in world["openeyes_patients"].all() if p["source"] == "seed"]


def numbers(patient, key):
    return [i["value"] for i in patient["identifiers"] if i["type"] == key]


def test_population_is_the_connect_size_after_the_documentation_patients(world, generated):
    assert len(generated) == 300
    assert [p["id"] for p in generated] == list(range(20001, 20301))
    assert {p["id"] for p in world["openeyes_patients"].all()} - {p["id"] for p in generated} == {12345, 12346}
    assert [p["source"] for p in build_world(42, 0, FIXTURES)["openeyes_patients"].all()] == ["documentation"] * 2


def test_identifiers_are_unique_padded_hospital_numbers_and_valid_nhs_numbers(generated):
    hospital = [n for p in generated for n in numbers(p, "LOCAL-1-0")]
    nhs_numbers = [n for p in generated for n in numbers(p, "GLOBAL-1-0")]
    assert all(len(n) == 7 and n.isdigit() for n in hospital) and len(set(hospital)) == len(hospital)
    assert all(nhs.is_valid(n) for n in nhs_numbers) and len(set(nhs_numbers)) == len(nhs_numbers)
    assert all(p["identifiers"] for p in generated)
    assert 0 < sum(not numbers(p, "LOCAL-1-0") for p in generated) < 30


def test_population_has_deceased_deleted_merged_and_every_gender(generated):
    by_id = {p["id"]: p for p in generated}
    assert sum(bool(p["date_of_death"]) for p in generated) > 5
    assert sum(p["deleted"] for p in generated) > 0
    merged = [p for p in generated if p["merged_into"] is not None]
    assert merged and all(not by_id[p["merged_into"]]["deleted"] and by_id[p["merged_into"]]["merged_into"] is None
                          for p in merged)
    assert set(Counter(p["gender"] for p in generated)) >= {"M", "F"}
    assert {p["gender"] for p in build_world(42, 2000, FIXTURES)["openeyes_patients"].all()} == {"M", "F", "U", "O",
                                                                                                   None}


def test_dates_hang_off_the_anchor_date(generated):
    for p in generated:
        born = date.fromisoformat(p["dob"])
        assert born <= ANCHOR_DATE
        assert p["date_of_death"] is None or born <= date.fromisoformat(p["date_of_death"]) <= ANCHOR_DATE


def test_no_generated_surname_competes_with_the_docs_smiths():
    people = build_world(7, 3000, FIXTURES)["openeyes_patients"].all()
    assert [p["id"] for p in people if p["last_name"].lower().startswith("smith")] == [12345, 12346]


def test_same_seed_same_population_other_seed_another():
    def people(seed):
        return [dict(p) for p in build_world(seed, 50, FIXTURES)["openeyes_patients"].all()]
    assert people(42) == people(42) and people(42) != people(43)


def test_deleted_and_merged_patients_are_never_found(world, generated):
    hidden = [p for p in generated if p["deleted"] or p["merged_into"] is not None]
    for p in hidden:
        for value in [i["value"] for i in p["identifiers"]]:
            assert p["id"] not in [r["id"] for r in search_patients(world, {"term": value})]
        assert p["id"] not in [r["id"] for r in search_patients(world, {"term": p["last_name"], "pageSize": "100"})]


def test_generated_patients_are_found_by_each_form_of_their_numbers(world, generated):
    shown = next(p for p in generated if not p["deleted"] and p["merged_into"] is None
                 and numbers(p, "GLOBAL-1-0") and numbers(p, "LOCAL-1-0"))
    nhs_number, hospital = numbers(shown, "GLOBAL-1-0")[0], numbers(shown, "LOCAL-1-0")[0]
    for term in (nhs_number, f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}", hospital,
                 str(int(hospital))):
        assert shown["id"] in [r["id"] for r in search_patients(world, {"term": term})], term


def test_name_and_number_searches_use_indexes_not_a_scan(world, generated, monkeypatch):
    visible = [p for p in generated if not p["deleted"] and p["merged_into"] is None and numbers(p, "LOCAL-1-0")]
    target = visible[0]
    prefix = target["last_name"][:2]
    expected = sorted(p["id"] for p in world["openeyes_patients"].all()
                      if p["last_name"].lower().startswith(prefix.lower()) and not p["deleted"]
                      and p["merged_into"] is None)

    def no_scan(*args, **kwargs):
        raise AssertionError("the search scanned the table")

    monkeypatch.setattr(Table, "all", no_scan)
    monkeypatch.setattr(Table, "ids", no_scan)
    assert sorted(r["id"] for r in search_patients(world, {"term": prefix, "pageSize": "100"})) == expected
    assert [r["id"] for r in search_patients(world, {"term": numbers(target, "LOCAL-1-0")[0]})] == [target["id"]]


def test_results_are_ordered_by_hospital_number_then_id(world):
    body = search_patients(world, {"term": "B", "pageSize": "100"})
    keys = [int(p["primary_patient_identifiers"]["value"]) for p in body
            if p["primary_patient_identifiers"]["title"] != "N/A"]
    assert len(body) > 5 and keys == sorted(keys)
