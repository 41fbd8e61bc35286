"""Seeded medical histories are clinically coherent, built only from the code tables, and deterministic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.domain import clinical
from opescare_sandbox.domain.seed import ANCHOR_DATE, template
from opescare_sandbox.domain.seeded_records import seeded_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED, SIZE = 7, 1000
VITAL_RANGES = {"temperature_c": (35.0, 41.5), "systolic_bp": (70, 200), "diastolic_bp": (40, 130),
                "pulse": (40, 180), "respiratory_rate": (8, 60), "spo2": (85, 100), "weight_kg": (2.0, 200.0),
                "height_cm": (45.0, 210.0)}


@pytest.fixture(scope="module")
def histories():
    """(patient, records) for a 1,000-patient world plus the documentation patients."""
    world = template(SEED, SIZE, FIXTURES)
    return [(p, seeded_records(SEED, p)) for p in world["patients"].all()]


def age_on(patient: dict, moment: str) -> float:
    return (date.fromisoformat(moment[:10]) - date.fromisoformat(patient["date_of_birth"])).days / 365.25


def expected_flag(value, reference_range: str) -> set[str]:
    """The flags a value may carry against a reference range, read independently of the code under test."""
    if not isinstance(value, (int, float)):
        return {"normal"} if value == reference_range else {"abnormal"}
    if match := re.fullmatch(r"<(\d+(?:\.\d+)?)", reference_range):
        return {"normal"} if value < float(match[1]) else {"high", "critical"}
    low, high = map(float, re.fullmatch(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)", reference_range).groups())
    return {"low", "critical"} if value < low else {"high", "critical"} if value > high else {"normal"}


def test_histories_are_neither_empty_nor_uniform(histories):
    with_diagnoses = sum(1 for _, r in histories if r["diagnoses"])
    assert 0.55 * len(histories) < with_diagnoses < 0.9 * len(histories)
    codes = {d["code"] for _, r in histories for d in r["diagnoses"]}
    assert codes == set(clinical.CONDITIONS), "every condition of the table occurs in 1,000 patients"


def test_diagnoses_use_the_icd10_table(histories):
    for _, records in histories:
        for dx in records["diagnoses"]:
            condition = clinical.CONDITIONS[dx["code"]]
            assert (dx["code_system"], dx["display_name"]) == ("ICD-10", condition.display)
            assert dx["status"] == ("active" if condition.chronic else "resolved")


def test_conditions_suit_the_patients_age_and_sex(histories):
    for patient, records in histories:
        for dx in records["diagnoses"]:
            condition = clinical.CONDITIONS[dx["code"]]
            if patient["source"] == "seed":
                assert condition.min_age <= age_on(patient, dx["recorded_at"]) + 0.01
                assert age_on(patient, dx["recorded_at"]) <= condition.max_age
            assert condition.sex in (None, patient["sex"])
        codes = {dx["code"] for dx in records["diagnoses"]}
        assert len(codes) == len(records["diagnoses"]) <= 4
        assert not {"E11.9", "O24.4"} <= codes


def test_prescriptions_treat_the_patients_conditions_and_respect_allergies_and_age(histories):
    for patient, records in histories:
        treated = [d for dx in records["diagnoses"] for slot in clinical.CONDITIONS[dx["code"]].regimen for d in slot]
        for rx in records["prescriptions"]:
            assert rx["status"] in ("active", "completed") and rx["items"]
            for item in rx["items"]:
                assert item["drug_name"] in clinical.DRUG_NAMES
                [drug] = {d for d in treated if d.item() == item}
                assert drug.allergen not in patient["allergies"]
                assert drug.min_age <= age_on(patient, rx["prescribed_at"]) <= drug.max_age + 1
                assert item["duration_days"] > 0 and item["quantity"] > 0 and item["route"] in ("oral", "inhalation")


def test_only_chronic_conditions_keep_an_active_prescription(histories):
    for _, records in histories:
        chronic = {dx["code"] for dx in records["diagnoses"] if clinical.CONDITIONS[dx["code"]].chronic}
        active = [rx for rx in records["prescriptions"] if rx["status"] == "active"]
        assert len(active) == len(chronic)


def test_lab_results_use_the_loinc_table_and_flags_match_the_reference_range(histories):
    flags = set()
    for _, records in histories:
        for lab in records["lab_results"]:
            test = clinical.LAB_TESTS[lab["loinc_code"]]
            assert (lab["test_name"], lab["unit"], lab["reference_range"]) == (test.name, test.unit,
                                                                             test.reference_range)
            assert lab["flag"] in expected_flag(lab["value"], lab["reference_range"]), lab
            if lab["flag"] == "critical":
                assert (test.critical_low is not None and lab["value"] < test.critical_low) or \
                    (test.critical_high is not None and lab["value"] >= test.critical_high)
            flags.add(lab["flag"])
    assert flags == {"normal", "low", "high", "critical", "abnormal"}


def test_vitals_are_physiological(histories):
    for _, records in histories:
        for vitals in records["vitals"]:
            for name, (low, high) in VITAL_RANGES.items():
                assert low <= vitals[name] <= high, (name, vitals)
            assert vitals["systolic_bp"] - vitals["diastolic_bp"] >= 20


def test_conditions_move_the_values_they_should(histories):
    """Hypertension raises every later blood pressure; diabetes every HbA1c; malaria makes the smear positive."""
    for _patient, records in histories:
        diagnosed = {dx["code"]: dx["recorded_at"][:10] for dx in records["diagnoses"]}
        if "I10" in diagnosed:
            later = [v for v in records["vitals"] if v["recorded_at"][:10] >= diagnosed["I10"]]
            assert later and all(v["systolic_bp"] >= 140 and v["diastolic_bp"] >= 90 for v in later)
        hba1c = [lab["value"] for lab in records["lab_results"] if lab["loinc_code"] == "4548-4"]
        assert all(value >= 6.5 for value in hba1c) if "E11.9" in diagnosed else all(v < 6.5 for v in hba1c)
        smears = {lab["value"] for lab in records["lab_results"] if lab["loinc_code"] == "32700-7"}
        assert smears == ({"Plasmodium falciparum detected"} if "B54" in diagnosed else set())
        if "J18.9" in diagnosed:
            [at_diagnosis] = [v for v in records["vitals"] if v["recorded_at"] == _dx_time(records, "J18.9")]
            assert at_diagnosis["temperature_c"] >= 38.0 and at_diagnosis["spo2"] <= 94


def _dx_time(records, code):
    return next(dx["recorded_at"] for dx in records["diagnoses"] if dx["code"] == code)


def test_every_record_lies_between_birth_and_the_anchor_date_newest_first(histories):
    for patient, records in histories:
        for key, when in (("diagnoses", "recorded_at"), ("prescriptions", "prescribed_at"),
                          ("lab_results", "resulted_at"), ("vitals", "recorded_at")):
            times = [r[when] for r in records[key]]
            assert times == sorted(times, reverse=True)
            assert all(patient["date_of_birth"] <= t[:10] < ANCHOR_DATE.isoformat() for t in times)


def test_record_ids_are_unique(histories):
    ids = [r["id"] for _, records in histories for rows in records.values() for r in rows]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("test_code, value, flag", [
    ("20447-9", 49, "normal"), ("20447-9", 50, "high"), ("20447-9", 1000, "critical"),
    ("2345-7", 70, "normal"), ("2345-7", 99, "normal"), ("2345-7", 69, "low"), ("2345-7", 100, "high"),
    ("2345-7", 39, "critical"), ("2345-7", 400, "critical"),
    ("32700-7", "Not detected", "normal"), ("32700-7", "Plasmodium falciparum detected", "abnormal"),
])
def test_flag_boundaries(test_code, value, flag):
    assert clinical.LAB_TESTS[test_code].flag(value) == flag


@pytest.mark.parametrize("value, reference_range, flag", [
    (5, "4.0-5.6", "normal"), ("3.9", "4.0-5.6", "low"), (5.7, "4.0 - 5.6", "high"), (49, "<50", "normal"),
    (50, "<50", "high"), (61, ">60", "normal"), (60, ">60", "low"), ("Positive", "Negative", None),
    (5, "normal", None), (True, "0-1", None), (None, "0-1", None),
])
def test_flag_against_a_pushed_reference_range(value, reference_range, flag):
    assert clinical.flag_against_range(value, reference_range) == flag


def _records_via_api(app, health_ids):
    client = app.test_client()
    token = client.post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
        "client_secret": "demo_secret_sandbox_2026"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    out = {}
    for health_id in health_ids:
        client.post(f"/api/v1/connect/patient/{health_id}/consent/grant", headers=headers)
        out[health_id] = client.get(f"/api/v1/connect/patient/{health_id}/records", headers=headers).json
    return out


SCRIPT = """
import json, sys
from opescare_sandbox import create_app
from tests.test_clinical_data import _records_via_api
app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False})
print(json.dumps(_records_via_api(app, sys.argv[1:]), sort_keys=True))
"""


def test_seeded_records_are_identical_across_fresh_apps_and_processes():
    app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False})
    health_ids = ["OPC-2024-DEMO1", "CM-HID-7KQ9-MP42-X8D1"] + [
        p["health_id"] for p in app.extensions["opescare_sandbox"].store.world()["patients"].all()[3:13]]
    here = _records_via_api(app, health_ids)
    again = _records_via_api(create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False}), health_ids)
    assert again == here
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run([sys.executable, "-c", SCRIPT, *health_ids], cwd=root, env=env, check=True,
                            capture_output=True, text=True).stdout
    assert json.loads(output) == here
    assert sum(len(v) for body in here.values() for v in body["records"].values()) > 50
