"""The other side of the integration: what patients, labs, pharmacies, clinics and the bridge agent do.

Each happening changes the world first (a consent now reads `denied`, a prescription `dispensed`) and
then records its event, exactly as the API flows do. Appointments, documents, lab orders, prescriptions,
payments and bridge-agent syncs are stored in the `records` table under their own `kind`, so a reset or a
snapshot treats them like any pushed record. Not imitated: the clinical workflow behind them (scheduling
rules, document contents, pharmacy stock being drawn down).
"""

from __future__ import annotations

from ..errors import NotFound, ValidationFailed
from . import clinical, clock, events
from .lookup import facility_or_404, patient_or_404

DEMO_CLIENT = "demo_dev_sandbox"
DEFAULT_PATIENT = "CM-HID-7KQ9-MP42-X8D1"  # Amara Ngo, the docs' patient, consent granted to the demo client
DEMO_FACILITY = "00000000-0000-0000-0000-100000000001"
PHARMACY_FACILITY = "00000000-0000-0000-0000-100000000004"
LAB_FACILITY = "00000000-0000-0000-0000-100000000005"
PREFIXES = {"appointment": "apt", "document": "doc", "lab_order": "lo", "prescription": "rx", "payment": "pay",
            "bridge_sync": "sync"}
DEFAULT_TEST = "718-7"  # hemoglobin: the lab controls' test when none is named


def now_iso(world) -> str:
    return clock.isoformat(clock.now(world))


def facility(world, picks: dict, default: str = DEMO_FACILITY) -> str:
    return facility_or_404(world, picks.get("facility_id") or default)["facility_id"]


def care_record(world, kind: str, health_id: str | None, facility_id: str, fields: dict) -> dict:
    """Insert one appointment, document, lab order, ... with a stable `<prefix>_000001` id."""
    record_id = f"{PREFIXES[kind]}_{world.next_sequence(kind):06d}"
    return world["records"].insert({"opescare_record_id": record_id, "kind": kind, "health_id": health_id,
                                    "client_id": None, "external_id": record_id, "facility_id": facility_id,
                                    "payload": dict(fields), "received_at": now_iso(world)})


def find_care_record(world, kind: str, picks: dict, id_field: str, statuses: tuple[str, ...]) -> dict:
    """The record named by `picks[id_field]`, else the patient's newest one of this kind in one of `statuses`."""
    if picks.get(id_field):
        doc = world["records"].first("record_id", picks[id_field])
        if doc is None or doc["kind"] != kind:
            raise NotFound(f"No {kind.replace('_', ' ')} {picks[id_field]}.", **{id_field: picks[id_field]})
        if doc["payload"].get("status") not in statuses:
            raise ValidationFailed(f"{picks[id_field]} is {doc['payload'].get('status')}; this needs one that is "
                                   f"{' or '.join(statuses)}.", **{id_field: picks[id_field]})
        return doc
    health_id = patient_or_404(world, picks.get("health_id") or DEFAULT_PATIENT)["health_id"]
    found = [d for d in world["records"].find("health_id", health_id)
             if d["kind"] == kind and d["payload"].get("status") in statuses]
    if not found:
        raise ValidationFailed(f"{health_id} has no {kind.replace('_', ' ')} that is {' or '.join(statuses)}; "
                               f"create one first.", health_id=health_id)
    return found[-1]


def advance(world, doc: dict, status: str, event_type: str, facts: dict) -> dict:
    """Move a care record to `status`, then fire its event."""
    updated = world["records"].update(doc.doc_id, {"payload": {**doc["payload"], "status": status, **facts}})
    return events.record_event(world, event_type, {"health_id": updated["health_id"], **updated["payload"]},
                               updated["facility_id"])


def patient_id(world, picks: dict) -> str:
    return patient_or_404(world, picks.get("health_id") or DEFAULT_PATIENT)["health_id"]


# -- appointments ------------------------------------------------------------------------------------
def create_appointment(world, picks: dict) -> dict:
    with world.transaction():
        scheduled = picks.get("scheduled_at") or clock.isoformat(clock.from_ts(clock.now_ts(world) + 86_400))
        doc = care_record(world, "appointment", patient_id(world, picks), facility(world, picks),
                          {"status": "scheduled", "scheduled_at": scheduled})
        return events.record_event(world, "appointment.created", {
            "health_id": doc["health_id"], "appointment_id": doc["opescare_record_id"], **doc["payload"]},
            doc["facility_id"])


def check_in(world, picks: dict) -> dict:
    with world.transaction():
        doc = find_care_record(world, "appointment", picks, "appointment_id", ("scheduled",))
        return advance(world, doc, "checked_in", "appointment.checked_in",
                       {"appointment_id": doc["opescare_record_id"], "checked_in_at": now_iso(world)})


def cancel_appointment(world, picks: dict) -> dict:
    with world.transaction():
        doc = find_care_record(world, "appointment", picks, "appointment_id", ("scheduled",))
        return advance(world, doc, "cancelled", "appointment.cancelled",
                       {"appointment_id": doc["opescare_record_id"], "reason": picks.get("reason") or "patient_request"})


# -- documents -----------------------------------------------------------------------------------------
def issue_document(world, picks: dict) -> dict:
    with world.transaction():
        doc = care_record(world, "document", patient_id(world, picks), facility(world, picks),
                          {"status": "issued", "document_type": picks.get("document_type") or "medical_certificate"})
        return events.record_event(world, "document.issued", {
            "health_id": doc["health_id"], "document_id": doc["opescare_record_id"], **doc["payload"]},
            doc["facility_id"])


def verify_document(world, picks: dict) -> dict:
    with world.transaction():
        doc = find_care_record(world, "document", picks, "document_id", ("issued",))
        return advance(world, doc, "verified", "document.verified", {"document_id": doc["opescare_record_id"]})


# -- prescriptions ---------------------------------------------------------------------------------------
def issue_prescription(world, picks: dict) -> dict:
    with world.transaction():
        items = [drug.item() for drug in clinical.PARACETAMOL[:1]]
        doc = care_record(world, "prescription", patient_id(world, picks), facility(world, picks),
                          {"status": "active", "items": items, "prescribed_at": now_iso(world)})
        return events.record_event(world, "prescription.issued", {
            "health_id": doc["health_id"], "prescription_id": doc["opescare_record_id"], "item_count": len(items)},
            doc["facility_id"])


def dispense(world, picks: dict) -> dict:
    with world.transaction():
        doc = find_care_record(world, "prescription", picks, "prescription_id", ("active",))
        pharmacy, dispensed = facility(world, picks, PHARMACY_FACILITY), now_iso(world)
        world["records"].update(doc.doc_id, {"payload": {**doc["payload"], "status": "dispensed",
                                                         "dispensed_at": dispensed, "dispensed_by": pharmacy}})
        return events.record_event(world, "prescription.dispensed", {  # it happens at the pharmacy
            "health_id": doc["health_id"], "prescription_id": doc["opescare_record_id"], "dispensed_at": dispensed},
            pharmacy)


def cancel_prescription(world, picks: dict) -> dict:
    with world.transaction():
        doc = find_care_record(world, "prescription", picks, "prescription_id", ("active",))
        return advance(world, doc, "cancelled", "prescription.cancelled",
                       {"prescription_id": doc["opescare_record_id"], "reason": picks.get("reason") or "prescriber"})


# -- lab orders and encounters ---------------------------------------------------------------------------
def create_lab_order(world, picks: dict) -> dict:
    test = lab_test(picks)
    with world.transaction():
        doc = care_record(world, "lab_order", patient_id(world, picks), facility(world, picks),
                          {"status": "ordered", "test_name": test.name, "loinc_code": test.loinc})
        return events.record_event(world, "lab_order.created", {
            "health_id": doc["health_id"], "lab_order_id": doc["opescare_record_id"], **doc["payload"]},
            doc["facility_id"])


def lab_test(picks: dict) -> clinical.LabTest:
    loinc = picks.get("loinc_code") or DEFAULT_TEST
    if loinc not in clinical.LAB_TESTS:
        raise ValidationFailed("Unknown loinc_code.", errors={"loinc_code": [f"Choose from {sorted(clinical.LAB_TESTS)}."]})
    return clinical.LAB_TESTS[loinc]


def close_encounter(world, picks: dict) -> dict:
    with world.transaction():
        if picks.get("encounter_id"):
            doc = world["records"].first("record_id", picks["encounter_id"])
            if doc is None or doc["kind"] != "encounter":
                raise NotFound(f"No encounter {picks['encounter_id']}.", encounter_id=picks["encounter_id"])
        else:
            health_id = patient_id(world, picks)
            found = [d for d in world["records"].find("health_id", health_id) if d["kind"] == "encounter"]
            if not found:
                raise ValidationFailed(f"{health_id} has no encounter; push one first.", health_id=health_id)
            doc = found[-1]
        if doc["payload"].get("closed_at"):
            raise ValidationFailed(f"Encounter {doc['opescare_record_id']} is already closed.")
        closed = now_iso(world)
        world["records"].update(doc.doc_id, {"payload": {**doc["payload"], "closed_at": closed}})
        return events.record_event(world, "encounter.closed", {
            "health_id": doc["health_id"], "encounter_id": doc["opescare_record_id"],
            "encounter_type": doc["payload"].get("encounter_type"), "closed_at": closed}, doc["facility_id"])


# -- payments and the bridge agent -----------------------------------------------------------------------
def complete_payment(world, picks: dict) -> dict:
    with world.transaction():
        health_id = patient_id(world, picks)
        fields = {"status": "completed", "amount": int(picks.get("amount") or 5000), "currency": "XAF",
                  "method": picks.get("method") or "mtn_momo", "completed_at": now_iso(world)}
        doc = care_record(world, "payment", health_id, facility(world, picks), fields)
        return events.record_event(world, "payment.completed", {
            "health_id": health_id, "payment_reference": doc["opescare_record_id"], **fields}, doc["facility_id"])


def fail_sync(world, picks: dict) -> dict:
    with world.transaction():
        facility_id = facility(world, picks)
        agent = f"agent_{facility_id[-4:]}"
        fields = {"status": "failed", "agent_id": agent, "error_code": picks.get("error_code") or "connection_timeout",
                  "message": "The bridge agent could not reach the facility system.", "failed_at": now_iso(world)}
        doc = care_record(world, "bridge_sync", None, facility_id, fields)
        return events.record_event(world, "bridge_agent.sync_failed", {
            "sync_id": doc["opescare_record_id"], **fields}, facility_id)
