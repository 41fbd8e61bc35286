"""Amending a released lab result: a new version of its value, flag and note, the earlier ones kept. No Flask.

Seeded lab results are computed, never stored, so an amendment cannot edit them in place: each amended
result gets a row in `lab_amendments` holding every version, and `history.amended` lays the latest over
what the records endpoint reads. Pushed results are amended the same way, so both read alike.
"""

from __future__ import annotations

from ..errors import LabResultNotFound, ValidationFailed
from . import audit, clock, records
from .events import record_event
from .history import amended_row
from .lookup import patient_or_404

AMENDABLE = ("value", "flag")


def amend_lab_result(world, raw_health_id: str, lab_result_id: str, changes: dict) -> dict:
    """Version n+1 of the result (value, flag, note); fires `lab_result.amended`. The amended result as read."""
    if not any(k in changes for k in AMENDABLE):
        raise ValidationFailed("An amendment changes the value, the flag or both (a note alone amends nothing).")
    with world.transaction():
        patient = patient_or_404(world, raw_health_id)
        current = next((row for row in records.patient_records(world, patient, ("lab_results",))["lab_results"]
                        if row["id"] == lab_result_id), None)
        if current is None:
            raise LabResultNotFound(health_id=patient["health_id"], lab_result_id=lab_result_id)
        now = clock.isoformat(clock.now(world))
        stored = world["lab_amendments"].first("lab_result_id", lab_result_id)
        versions = list(stored["versions"]) if stored else [_version(current, 1, None, None)]
        latest = versions[-1]
        version = _version({**latest, **{k: changes[k] for k in AMENDABLE if k in changes}}, len(versions) + 1, now,
                           changes.get("note"))
        versions.append(version)
        doc = {"lab_result_id": lab_result_id, "health_id": patient["health_id"], "versions": versions}
        if stored:
            world["lab_amendments"].update(stored.doc_id, doc)
        else:
            world["lab_amendments"].insert(doc)
        audit.record(world, "lab_result.amend", None, "amended", health_id=patient["health_id"],
                     lab_result_id=lab_result_id, version=version["version"])
        pushed = world["records"].first("record_id", lab_result_id)  # a pushed result keeps its facility there
        facility_id = current.get("facility_id") or (pushed or {}).get("facility_id")
        record_event(world, "lab_result.amended", {
            "health_id": patient["health_id"], "lab_result_id": lab_result_id, "test_name": current.get("test_name"),
            "flagged": version["flag"] not in (None, "normal"), "facility_id": facility_id,
            "version": version["version"], "amended_at": now}, facility_id)
        return amended_row(current, versions)


def _version(row: dict, number: int, amended_at: str | None, note: str | None) -> dict:
    return {"version": number, "value": row.get("value"), "flag": row.get("flag"), "amended_at": amended_at,
            "note": note}
