"""Seeded medical histories, generated when read as a pure function of (world seed, patient) and never stored.

Keeping them out of the world keeps 100,000-patient worlds small and resets free. A history is a
few encounters over the three years before ANCHOR_DATE: one per diagnosis, follow-ups every ~3 months
for chronic conditions, and routine check-ups. Each encounter has vitals, and labs and a
prescription where the condition calls for them; chronic conditions diagnosed earlier keep moving
later labs and vitals (a hypertensive patient's blood pressure stays high).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from . import clinical
from .anchor import ANCHOR_DATE
from .clock import isoformat

SEEDED_SOURCES = ("seed", "documentation", "scenario")  # patients created through the API start with no history
HISTORY_YEARS = 3  # a scenario persona may ask for more (`history_years`)
# The documented care facilities (fixed ids in fixtures/facilities.json) where seeded encounters happen.
CARE_FACILITIES = ("00000000-0000-0000-0000-100000000001", "00000000-0000-0000-0000-100000000002",
                   "00000000-0000-0000-0000-100000000003")
FOLLOW_UPS_PER_YEAR = 4  # chronic conditions are reviewed about every three months up to the anchor date
CONDITION_COUNTS, CONDITION_COUNT_WEIGHTS = (0, 1, 2, 3, 4), (25, 35, 22, 12, 6)
EMPTY = {"diagnoses": (), "prescriptions": (), "lab_results": (), "vitals": ()}


def seeded_records(seed: int, patient: dict) -> dict[str, tuple]:
    """The patient's seeded history by record type, newest first. Shared and cached: never mutate it."""
    if patient.get("source") not in SEEDED_SOURCES:
        return EMPTY
    return _history(int(seed), patient["health_id"], patient.get("sex") or "other", patient["date_of_birth"],
                    tuple(patient.get("allergies") or ()), int(patient.get("history_years") or HISTORY_YEARS),
                    tuple(patient.get("conditions") or ()))


def years(born: date, day: date) -> float:
    return (day - born).days / 365.25


@dataclass
class Body:
    """What stays fixed about a patient's body: adult height, build, and how children track their growth curve."""

    born: date
    adult_height: float
    growth: float
    bmi: float

    def height(self, day: date) -> float:
        age = years(self.born, day)
        if age < 1:
            height = 50 + 25 * age
        elif age < 13:
            height = 75 + 6.2 * (age - 1)
        elif age < 18:
            height = 149.4 + (self.adult_height - 149.4) * (age - 13) / 5
        else:
            return self.adult_height
        return height * self.growth


@functools.lru_cache(maxsize=4096)
def _history(seed: int, health_id: str, sex: str, dob: str, allergies: tuple[str, ...],
             history_years: int = HISTORY_YEARS, conditions: tuple[str, ...] = ()) -> dict[str, tuple]:
    rng = random.Random(f"{seed}:records:{health_id}")
    born = date.fromisoformat(dob)
    start = max(born, ANCHOR_DATE - timedelta(days=history_years * 365))
    span = (ANCHOR_DATE - start).days
    if span < 2:
        return EMPTY
    codes = conditions or clinical.DOCUMENTATION_CONDITIONS.get(health_id) or _choose_conditions(rng, born, start, sex)
    body = _body(rng, born, sex, "A15.0" in codes)
    out = {key: [] for key in EMPTY}
    diagnosed = {code: start + timedelta(days=rng.randrange(1, span)) for code in codes}
    for day, code, kind in _encounters(rng, diagnosed, start, span, FOLLOW_UPS_PER_YEAR * history_years):
        chronic = [c for c, d in diagnosed.items() if clinical.CONDITIONS[c].chronic and d <= day and c != code]
        _encounter(rng, out, body, day, code, kind, chronic, allergies)
    _settle_prescriptions(out["prescriptions"])
    when = {"diagnoses": "recorded_at", "prescriptions": "prescribed_at", "lab_results": "resulted_at",
            "vitals": "recorded_at"}
    return {key: tuple(sorted(rows, key=lambda r: (r[when[key]], r["id"]), reverse=True)) for key, rows in out.items()}


def _choose_conditions(rng: random.Random, born: date, start: date, sex: str) -> tuple[str, ...]:
    """0-4 distinct conditions that suit the patient's age over the whole window and sex, by prevalence."""
    age_start, age_now = years(born, start), years(born, ANCHOR_DATE)
    pool = {c.code: c.weight * (c.male_factor if sex == "male" else 1) for c in clinical.CONDITIONS.values()
            if c.min_age <= age_start and age_now <= c.max_age and c.sex in (None, sex)}
    chosen: list[str] = []
    for _ in range(rng.choices(CONDITION_COUNTS, CONDITION_COUNT_WEIGHTS)[0]):
        if not pool:
            break
        code = rng.choices(list(pool), list(pool.values()))[0]
        chosen.append(code)
        for gone in (code, *clinical.CONDITIONS[code].excludes):
            pool.pop(gone, None)
    return tuple(chosen)


def _body(rng: random.Random, born: date, sex: str, wasted: bool) -> Body:
    mean, spread = (171, 7) if sex == "male" else (160, 6)
    height = min(max(rng.gauss(mean, spread), 150), 192)
    bmi = rng.uniform(15.5, 18.4) if wasted else rng.uniform(19, 31)
    return Body(born, round(height, 1), rng.uniform(0.95, 1.05), bmi)


def _encounters(rng: random.Random, diagnosed: dict[str, date], start: date, span: int,
                max_follow_ups: int) -> list[tuple]:
    """(day, condition code or None, kind) in date order: diagnoses, chronic follow-ups, routine check-ups."""
    visits = []
    for code, day in diagnosed.items():
        visits.append((day, code, "diagnosis"))
        follow = day
        for _ in range(max_follow_ups if clinical.CONDITIONS[code].chronic else 0):
            follow += timedelta(days=rng.randint(70, 110))
            if follow >= ANCHOR_DATE:
                break
            visits.append((follow, code, "follow_up"))
    for _ in range(rng.choice((0, 1, 1, 2))):
        visits.append((start + timedelta(days=rng.randrange(1, span)), None, "checkup"))
    return sorted(visits, key=lambda v: (v[0], v[1] or "", v[2]))


def _record_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{rng.getrandbits(48):012x}"


def _encounter(rng, out, body, day, code, kind, chronic, allergies) -> None:
    seen = datetime.combine(day, time(7, 30), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 10 * 3600))
    facility = rng.choice(CARE_FACILITIES)
    condition = clinical.CONDITIONS.get(code)
    moving = [clinical.CONDITIONS[c] for c in chronic] + ([condition] if condition else [])
    out["vitals"].append(_vitals(rng, body, day, seen, moving))
    if kind == "diagnosis":
        out["diagnoses"].append({"id": _record_id(rng, "dx"), "code_system": "ICD-10", "code": condition.code,
                                 "display_name": condition.display,
                                 "status": "active" if condition.chronic else "resolved",
                                 "recorded_at": isoformat(seen), "facility_id": facility})
    if condition is None:
        wanted = clinical.ROUTINE_LABS if years(body.born, day) >= 12 else clinical.ROUTINE_LABS_CHILD
    else:
        wanted = [t for t in condition.labs if kind == "diagnosis" or rng.random() < 0.6]
    resulted = seen + timedelta(seconds=rng.randint(3600, 6 * 3600))
    for loinc in wanted:
        out["lab_results"].append(_lab(rng, clinical.LAB_TESTS[loinc], moving[::-1], resulted))
    if condition is not None:
        _prescribe(rng, out, condition, years(body.born, day), allergies, seen, facility)


def _lab(rng: random.Random, test: clinical.LabTest, moving: list, resulted: datetime) -> dict:
    """A result drawn from the first condition that moves this test (the encounter's own first), else healthy."""
    spec = next((c.labs[test.loinc] for c in moving if test.loinc in c.labs), test.healthy)
    if test.results:
        value = test.results[1] if spec == clinical.ABNORMAL else test.results[0]
    else:
        _, low, high = rng.choices(spec, [band[0] for band in spec])[0]
        value = round(rng.uniform(low, high), test.decimals)
        value = int(value) if test.decimals == 0 else value
    return {"id": _record_id(rng, "lab"), "test_name": test.name, "loinc_code": test.loinc, "value": value,
            "unit": test.unit, "reference_range": test.reference_range, "flag": test.flag(value),
            "resulted_at": isoformat(resulted)}


def _baseline(age: float) -> dict[str, tuple[float, float]]:
    if age < 1:
        pulse, breaths, systolic, diastolic = (110, 150), (30, 48), (72, 95), (40, 60)
    elif age < 6:
        pulse, breaths, systolic, diastolic = (85, 125), (22, 32), (85, 105), (50, 65)
    elif age < 13:
        pulse, breaths, systolic, diastolic = (70, 110), (18, 26), (95, 115), (55, 75)
    else:
        pulse, breaths, systolic, diastolic = (60, 95), (12, 20), (105, 132), (65, 85)
    return {"temperature_c": (36.2, 37.2), "pulse": pulse, "respiratory_rate": breaths, "systolic_bp": systolic,
            "diastolic_bp": diastolic, "spo2": (96, 100)}


def _vitals(rng, body: Body, day: date, seen: datetime, moving: list) -> dict:
    values = {name: rng.uniform(*bounds) for name, bounds in _baseline(years(body.born, day)).items()}
    for condition in moving:
        for name, bounds in condition.vitals.items():
            pushed = rng.uniform(*bounds)
            values[name] = max(values[name], pushed) if name in clinical.RAISED else min(values[name], pushed)
    height = body.height(day)
    bmi = body.bmi if years(body.born, day) >= 18 else rng.uniform(14, 18.5)
    systolic = round(values["systolic_bp"])
    return {"id": _record_id(rng, "vit"), "temperature_c": round(values["temperature_c"], 1),
            "systolic_bp": systolic, "diastolic_bp": min(round(values["diastolic_bp"]), systolic - 25),
            "pulse": round(values["pulse"]), "respiratory_rate": round(values["respiratory_rate"]),
            "spo2": round(values["spo2"]), "weight_kg": round(bmi * rng.uniform(0.97, 1.03) * (height / 100) ** 2, 1),
            "height_cm": round(height, 1), "recorded_at": isoformat(seen)}


def _prescribe(rng, out, condition, age: float, allergies, seen: datetime, facility: str) -> None:
    drugs = [clinical.pick_drug(slot, age, list(allergies)) for slot in condition.regimen]
    items = [drug.item() for drug in drugs if drug is not None]
    if items:
        out["prescriptions"].append({"id": _record_id(rng, "rx"), "status": "completed", "prescribed_at":
                                     isoformat(seen + timedelta(minutes=rng.randint(5, 40))),
                                     "facility_id": facility, "items": items, "_code": condition.code})


def _settle_prescriptions(prescriptions: list[dict]) -> None:
    """The latest prescription of each chronic condition is still active; the rest are completed."""
    latest: dict[str, dict] = {}
    for rx in prescriptions:
        code = rx.pop("_code")
        newer = code not in latest or rx["prescribed_at"] > latest[code]["prescribed_at"]
        if clinical.CONDITIONS[code].chronic and newer:
            latest[code] = rx
    for rx in latest.values():
        rx["status"] = "active"
