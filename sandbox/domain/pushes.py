"""Record pushes (encounters, lab results) with Idempotency-Key semantics, and their read-side view.

One push is one transaction: the stored record (or reconciliation case), its event and the stored
response under the idempotency key commit together or not at all. A replay (same client, endpoint,
key and body) returns the stored response; the same key with another body is a conflict. A push
with a new key but an `external_*_id` this client already pushed updates that record in place (same
`opescare_record_id`), so retries without the header's discipline still do not duplicate records.
"""

from __future__ import annotations

import hashlib
import json

from ..errors import IdempotencyConflict, IdempotencyKeyRequired, InvalidRequest, LimitReached
from . import clinical, clock, events
from .lookup import find_patient

MAX_KEY_LENGTH = 255
KINDS = {
    # kind: (endpoint, external id field, record id prefix, event on creation)
    "encounter": ("records/encounters", "external_encounter_id", "opc_enc", "encounter.created"),
    "lab_result": ("records/lab-results", "external_lab_order_id", "opc_lab", "lab_result.released"),
}


def fingerprint(raw_body) -> str:
    """Same JSON value, whatever the key order or whitespace, gives the same fingerprint."""
    canonical = json.dumps(raw_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _checked_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise IdempotencyKeyRequired()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(errors={"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]})
    return key


def push(world, kind: str, payload: dict, raw_body, key: str | None, claims: dict,
         max_keys: int = 0) -> tuple[int, dict, bool]:
    """(HTTP status, response body, replayed?) for one push. `payload` is the validated body, wire-ready.
    `max_keys`: at most this many stored keys per tenant (0: no bound); a replay still answers."""
    key = _checked_key(key)
    endpoint = KINDS[kind][0]
    digest = fingerprint(raw_body)
    with world.transaction():
        stored = world["idempotency"].first("key", (claims["client_id"], endpoint, key))
        if stored is not None:
            if stored["fingerprint"] != digest:
                raise IdempotencyConflict(idempotency_key=key)
            return stored["status"], stored["response"], True
        if max_keys and len(world["idempotency"]) >= max_keys:
            raise LimitReached("idempotency_keys_per_tenant", max_keys)
        patient = find_patient(world, payload["health_id"])
        if patient is None:
            status, response = 202, _open_case(world, kind, payload, claims)
        else:
            status, response = 200, store_record(world, kind, patient["health_id"], payload, claims)
        world["idempotency"].insert({"client_id": claims["client_id"], "endpoint": endpoint, "key": key,
                                     "fingerprint": digest, "status": status, "response": response,
                                     "created_at": clock.isoformat(clock.now(world))})
    return status, response, False


def _open_case(world, kind: str, payload: dict, claims: dict) -> dict:
    case_id = f"rc_{world.next_sequence('reconciliation_case'):06d}"
    health_id = payload["health_id"].strip().upper()
    world["reconciliation_cases"].insert({
        "reconciliation_case_id": case_id, "status": "open", "record_type": kind, "health_id": health_id,
        "external_id": payload[KINDS[kind][1]], "client_id": claims["client_id"],
        "facility_id": claims.get("facility_id"), "payload": payload,
        "created_at": clock.isoformat(clock.now(world))})
    return {"status": "pending_reconciliation", "error_code": "RECONCILIATION_REQUIRED",
            "reconciliation_case_id": case_id,
            "message": f"Health ID {health_id} is not registered in OpesCare; the record is held for "
                       "reconciliation. Resolve the patient with POST /patients/resolve and push again."}


def store_record(world, kind: str, health_id: str, payload: dict, claims: dict) -> dict:
    """Store (or update in place) one pushed record and fire its event; also how the lab controls release results."""
    _, external_field, prefix, created_event = KINDS[kind]
    now = clock.isoformat(clock.now(world))
    payload = {**payload, "occurred_at": payload.get("occurred_at") or now}
    doc = {"health_id": health_id, "kind": kind, "client_id": claims["client_id"],
           "external_id": payload[external_field], "facility_id": claims.get("facility_id"),
           "payload": payload, "received_at": now}
    existing = world["records"].first("external", (claims["client_id"], kind, payload[external_field]))
    if existing is None:
        record_id = f"{prefix}_{world.next_sequence(kind):06d}"
        world["records"].insert({**doc, "opescare_record_id": record_id})
        event = created_event
    else:
        record_id = existing["opescare_record_id"]
        world["records"].update(existing.doc_id, doc)
        changed = existing["payload"] != payload or existing["health_id"] != health_id
        event = "lab_result.amended" if kind == "lab_result" and changed else None
    if event:
        events.record_event(world, event, _event_data(kind, record_id, health_id, payload), claims.get("facility_id"))
    return {"status": "accepted", "opescare_record_id": record_id, "sync_status": "synced"}


def _event_data(kind: str, record_id: str, health_id: str, payload: dict) -> dict:
    """The facts the event payload is built from (event_catalogue picks the documented fields)."""
    if kind == "encounter":
        return {"health_id": health_id, "encounter_id": record_id, "encounter_type": payload.get("encounter_type"),
                "occurred_at": payload["occurred_at"]}
    flag = lab_flag(payload)
    flagged = payload.get("flagged") if payload.get("flagged") is not None else flag not in (None, "normal")
    return {"health_id": health_id, "lab_result_id": record_id, "test_name": payload.get("test_name"),
            "flagged": bool(flagged)}


def lab_value(raw) -> tuple[float | int | None, str | None]:
    """(value, value_text): a number when the result reads as one (`"12.1"` -> 12.1), else None; the text as sent."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, str(raw).lower()
    if isinstance(raw, (int, float)):
        return raw, format(raw, "g") if isinstance(raw, float) else str(raw)
    text = str(raw)
    try:
        number = float(text.strip())
    except ValueError:
        return None, text
    if number != number or number in (float("inf"), float("-inf")):  # "nan", "inf": text, not a value
        return None, text
    return (int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number), text


def lab_flag(payload: dict) -> str | None:
    """The sender's flag_level; else judged from value and reference range; else from `flagged`."""
    if payload.get("flag_level"):
        return payload["flag_level"].strip().lower()
    judged = clinical.flag_against_range(payload.get("result_value"), payload.get("reference_range"))
    if judged is not None:
        return judged
    flagged = payload.get("flagged")
    return None if flagged is None else ("abnormal" if flagged else "normal")


def pushed_records(world, health_id: str) -> dict[str, list]:
    """Pushed encounters' diagnoses, pushed lab results and issued prescriptions of a patient, as records show them."""
    out = {"diagnoses": [], "lab_results": [], "prescriptions": []}
    for doc in world["records"].find("health_id", health_id):
        payload, record_id = doc["payload"], doc["opescare_record_id"]
        if doc["kind"] == "prescription":  # issued by the prescriber control (domain/happenings.py)
            out["prescriptions"].append({"id": record_id, "status": payload["status"], "items": payload["items"],
                                         "prescribed_at": payload["prescribed_at"], "facility_id": doc["facility_id"]})
        if doc["kind"] not in KINDS:
            continue  # appointments, documents, lab orders...: the other controls' records are not medical records
        if doc["kind"] == "encounter":
            for n, dx in enumerate(payload.get("diagnoses") or (), 1):
                out["diagnoses"].append({"id": f"{record_id}_dx{n}", "code_system": dx.get("code_system") or "ICD-10",
                                         "code": dx["code"], "display_name": dx.get("display"), "status": "active",
                                         "recorded_at": payload["occurred_at"], "facility_id": doc["facility_id"]})
        else:
            value, text = lab_value(payload.get("result_value"))
            out["lab_results"].append({"id": record_id, "test_name": payload.get("test_name"),
                                       "loinc_code": payload.get("loinc_code"), "value": value, "value_text": text,
                                       "unit": payload.get("unit"), "reference_range": payload.get("reference_range"),
                                       "flag": lab_flag(payload), "resulted_at": payload["occurred_at"]})
    return out
