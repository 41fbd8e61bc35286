"""Patients of the Connect API: resolve (find or register), verify a Health ID, search by Health ID. No Flask.

Every call is written to the audit trail, whatever its outcome: the request's `purpose` and
`external_reference` go there and nowhere else.
"""

from __future__ import annotations

from datetime import date

from ..errors import (
    HealthIdInvalid,
    MissingLookupCriteria,
    MultiplePatientMatches,
    PatientNotFound,
    SandboxError,
    ValidationFailed,
)
from ..storage.tables import patient_match_key
from . import audit, clock, health_ids
from .events import record_event
from .lookup import find_patient, patient_or_404
from .merges import alias_fields, survivors_matching

DEMOGRAPHICS = ("first_name", "last_name", "date_of_birth")
CREATED_MESSAGE = "New patient registered. Store this health_id in your system and use it for all future calls."


def seed_legacy_health_ids(world, seed: int, patients: int, fixtures: dict) -> None:
    """The docs' example IDs fail the checksum; the world remembers which of them verify accepts."""
    world.set_meta(legacy_health_ids=sorted(fixtures["documentation_patients"]["legacy_health_ids"]))


# -- views of a patient ------------------------------------------------------------------------------
def display_name(patient: dict) -> str:
    """First name and last initial ("Marie F."): enough to confirm the person, not enough to identify them."""
    first, last = patient["first_name"].strip(), patient["last_name"].strip()
    return f"{first} {last[0].upper()}." if last else first


def summary(patient: dict) -> dict:
    return {
        "display_name": display_name(patient),
        "sex": patient.get("sex"),
        "year_of_birth": int(patient["date_of_birth"][:4]),
        "country_code": patient["country_code"],
        "verification_status": patient["verification_status"],
        "identity_status": patient["identity_status"],
    }


def profile(patient: dict) -> dict:
    return {
        "health_id": patient["health_id"],
        "name": f"{patient['first_name']} {patient['last_name']}",
        "first_name": patient["first_name"],
        "last_name": patient["last_name"],
        "date_of_birth": patient["date_of_birth"],
        "sex": patient.get("sex"),
        "blood_type": patient.get("blood_type"),
        "allergies": list(patient.get("allergies") or []),
        "country_code": patient["country_code"],
    }


# -- resolve ---------------------------------------------------------------------------------------
def resolve(world, request: dict, client_id: str, facility_id: str | None = None) -> dict:
    """Find the patient by Health ID or demographics, or register them: one transaction, so never twice."""
    trail = {"client_id": client_id, "purpose": request.get("purpose"),
             "external_reference": request.get("external_reference")}
    try:
        with world.transaction():
            status, patient = _find_or_create(world, request, client_id, facility_id)
            audit.record(world, "patient.resolve", outcome=status, health_id=patient["health_id"], **trail)
    except SandboxError as error:
        _audit_failure(world, "patient.resolve", error, trail)
        raise
    body = {"status": status, "health_id": patient["health_id"], "patient": summary(patient),
            "next_action": "push_records" if status == "created" else "use_health_id"}
    if status == "created":
        body["message"] = CREATED_MESSAGE
    return body


def _find_or_create(world, request: dict, client_id: str, facility_id: str | None) -> tuple[str, dict]:
    raw_id = request.get("health_id")
    if raw_id:
        patient = find_patient(world, raw_id)
        if patient is not None:
            return "found", patient
    if not all(request.get(name) for name in DEMOGRAPHICS):
        if raw_id:
            raise PatientNotFound("This Health ID is not registered; supply first_name, last_name and "
                                  "date_of_birth to register the patient.", status="not_found",
                                  health_id=health_ids.normalise(raw_id))
        raise MissingLookupCriteria(missing=[name for name in DEMOGRAPHICS if not request.get(name)])
    _check_not_future(world, request["date_of_birth"])
    matches = world["patients"].find("match_key", patient_match_key(request)) \
        or survivors_matching(world, patient_match_key(request))  # a merged record's demographics find its survivor
    if len(matches) > 1:
        raise MultiplePatientMatches(candidates=[p["health_id"] for p in matches])
    if matches:
        return "found", matches[0]
    return "created", _create(world, request, client_id, facility_id)


def _check_not_future(world, date_of_birth: str) -> None:
    if date.fromisoformat(date_of_birth) > clock.today(world):
        raise ValidationFailed("date_of_birth is in the future.",
                               errors={"date_of_birth": ["Must not be in the future."]})


def _create(world, request: dict, client_id: str, facility_id: str | None) -> dict:
    first, last = request["first_name"].strip(), request["last_name"].strip()
    country, dob = request.get("country_code", "CM").upper(), request["date_of_birth"]
    doc = {
        "health_id": _unused_health_id(world, first, last, dob, country),
        "first_name": first, "last_name": last, "sex": request.get("sex"), "date_of_birth": dob,
        "country_code": country, "blood_type": None, "allergies": [],
        # Nobody has checked an identity document yet: the record stands until a facility confirms it.
        "verification_status": "unverified", "identity_status": "provisional",
        "created_at": clock.isoformat(clock.now(world)), "source": "resolve", "created_by": client_id,
    }
    if request.get("phone_number"):
        doc["phone_number"] = request["phone_number"].strip()
    patient = world["patients"].insert(doc)
    data = {"health_id": patient["health_id"], "patient": summary(patient)}
    record_event(world, "patient.created", data, facility_id)
    record_event(world, "health_id.created", data, facility_id)
    return patient


def _unused_health_id(world, first: str, last: str, dob: str, country: str) -> str:
    seed, attempt = world.meta.get("seed", 0), 0
    while True:
        candidate = health_ids.derive(seed, first, last, dob, country, attempt)
        if world["patients"].first("health_id", candidate) is None:
            return candidate
        attempt += 1


# -- verify and search -----------------------------------------------------------------------------
def is_accepted(world, health_id: str) -> bool:
    """A normalised ID passes: checksum-valid new format, or one of the docs' legacy IDs."""
    return health_ids.is_valid(health_id) or health_id in world.meta.get("legacy_health_ids", ())


def verify(world, raw_health_id: str, client_id: str, facility_id: str | None = None) -> dict:
    health_id, trail = health_ids.normalise(raw_health_id), {"client_id": client_id}
    try:
        with world.transaction():
            if not is_accepted(world, health_id):
                raise HealthIdInvalid(health_id=health_id)
            patient = patient_or_404(world, health_id)
            body = {"status": "valid", "health_id": patient["health_id"], "patient": summary(patient)}
            body.update(alias_fields(health_id, body))  # a merged ID answers for its survivor (domain/merges.py)
            record_event(world, "health_id.verified", {"health_id": health_id, "patient": body["patient"]},
                         facility_id)
            audit.record(world, "patient.verify", outcome="valid", health_id=health_id, **trail)
    except SandboxError as error:
        _audit_failure(world, "patient.verify", error, {**trail, "health_id": health_id})
        raise
    return body


def search(world, raw_health_id: str, client_id: str) -> dict:
    trail = {"client_id": client_id, "health_id": health_ids.normalise(raw_health_id)}
    try:
        patient = patient_or_404(world, raw_health_id)
    except SandboxError as error:
        _audit_failure(world, "patient.search", error, trail)
        raise
    audit.record(world, "patient.search", outcome="found", **trail)
    return profile(patient)


def _audit_failure(world, action: str, error: SandboxError, trail: dict) -> None:
    """Failed calls are audited too, after their own writes rolled back; the outcome is the error code."""
    outcome = error.extra.get("status") if isinstance(error.extra.get("status"), str) else error.error
    details = {"http_status": error.status}
    if "candidates" in error.extra:
        details["candidates"] = error.extra["candidates"]
    trail = {"health_id": error.extra.get("health_id"), **trail}
    audit.record(world, action, outcome=outcome, **trail, **details)
