"""Finding the resources that most endpoints start from: a patient by Health ID, a facility by id."""

from __future__ import annotations

from ..errors import FacilityNotFound, PatientNotFound
from . import health_ids


def find_patient(world, raw_health_id: str) -> dict | None:
    """The registered patient with this Health ID (trimmed, upper-cased; both ID formats), or None.

    A Health ID merged into another patient (domain/merges.py) finds the survivor."""
    health_id = health_ids.normalise(raw_health_id)
    patient = world["patients"].first("health_id", health_id)
    if patient is None:
        alias = world["patient_aliases"].first("health_id", health_id)
        patient = alias and world["patients"].first("health_id", alias["survivor_health_id"])
    return patient


def patient_or_404(world, raw_health_id: str) -> dict:
    patient = find_patient(world, raw_health_id)
    if patient is None:
        raise PatientNotFound(health_id=health_ids.normalise(raw_health_id))
    return patient


def facility_or_404(world, facility_id: str) -> dict:
    """Malformed ids are simply unknown: 404, never a 400 that would leak which ids look valid."""
    facility = world["facilities"].first("facility_id", (facility_id or "").strip().lower())
    if facility is None:
        raise FacilityNotFound(facility_id=facility_id)
    return facility
