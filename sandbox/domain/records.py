"""Reading a patient's medical records: scopes, active consent, seeded history merged with pushed records."""

from __future__ import annotations

from . import audit, clinical, consent, history, tokens
from .lookup import patient_or_404
from .pushes import pushed_records

RECORD_TYPES = ("diagnoses", "prescriptions", "lab_results", "vitals")
TYPES = (*RECORD_TYPES, "all")
DEFAULT_TYPE = "all"
BASE_SCOPE = "patient:diagnostics:read"
LAB_SCOPE = "lab:results:read"
# The timestamp each record type is ordered by (newest first).
WHEN = {"diagnoses": "recorded_at", "prescriptions": "prescribed_at", "lab_results": "resulted_at",
        "vitals": "recorded_at"}
LAB_OMITTED = {"section": "lab_results", "reason": "missing_scope", "required_scopes": [LAB_SCOPE]}


def required_scopes(record_type: str) -> tuple[str, ...]:
    """`all` needs only the base scope (the docs' rule); lab results in it are then left out, and said so."""
    return (BASE_SCOPE, LAB_SCOPE) if record_type == "lab_results" else (BASE_SCOPE,)


def read_records(world, raw_health_id: str, record_type: str, claims: dict) -> dict:
    """Scope check, then the patient (404), then consent (403), then the records; the read is audited."""
    tokens.require_scopes(claims, required_scopes(record_type))
    patient = patient_or_404(world, raw_health_id)
    health_id = patient["health_id"]
    wanted = RECORD_TYPES if record_type == "all" else (record_type,)
    omitted = []
    if LAB_SCOPE not in (claims.get("scopes") or ()) and "lab_results" in wanted:
        wanted, omitted = tuple(t for t in wanted if t != "lab_results"), [dict(LAB_OMITTED)]
    consent.require_active(world, health_id, claims["client_id"], wanted)
    records = patient_records(world, patient, wanted)
    audit.record(world, "records.read", claims["client_id"], "ok", health_id=health_id, record_type=record_type,
                 counts={k: len(v) for k, v in records.items()})
    body = {"health_id": health_id, "type": record_type, "records": records}
    if omitted:
        body["omitted"] = omitted
    return body


def patient_records(world, patient: dict, wanted: tuple[str, ...] = RECORD_TYPES) -> dict[str, list]:
    """Seeded history and pushed records, merged and ordered newest first."""
    seeded = history.seeded_history(world, patient)  # own history, and that of patients merged into this one
    pushed = pushed_records(world, patient["health_id"])
    merged = {}
    for key in wanted:
        own = [_seeded_lab(r) for r in seeded[key]] if key == "lab_results" else seeded[key]
        rows = [*own, *pushed.get(key, ())]
        merged[key] = sorted(rows, key=lambda r: (r[WHEN[key]] or "", r["id"]), reverse=True)
    return history.amended(world, merged)  # amended lab results at their latest version (domain/amendments.py)


def _seeded_lab(row: dict) -> dict:
    """One type per field: `value` a number or null, `value_text` the result as the lab reported it."""
    value = row["value"]
    if isinstance(value, str):
        return {**row, "value": None, "value_text": value}
    test = clinical.LAB_TESTS.get(row["loinc_code"])
    text = f"{value:.{test.decimals}f}" if test is not None else str(value)
    return {**row, "value_text": text}
