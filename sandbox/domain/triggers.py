"""Producing any event on demand (the trigger control): the same code as the API flows and the world controls.

`fire(world, type, picks)` changes the world the way that event's real cause would, then returns the
event it recorded. `picks` only chooses the records involved (`health_id`, `client_id`, `facility_id`,
an `appointment_id`...); it never overrides the payload, which is always built from the world.
"""

from __future__ import annotations

from ..errors import ValidationFailed
from . import amendments, consent, events, happenings, inventory, patients, pushes, records
from .event_catalogue import ALIASES, SUBSCRIBABLE
from .happenings import DEMO_CLIENT, lab_test, now_iso, patient_id
from .lookup import patient_or_404


def _claims(world, picks: dict) -> dict:
    client_id = picks.get("client_id") or DEMO_CLIENT
    client = world["clients"].first("client_id", client_id)
    if client is None:
        raise ValidationFailed("Unknown client_id.", errors={"client_id": [f"No client {client_id!r} in this world."]})
    return {"client_id": client_id, "facility_id": picks.get("facility_id") or client.get("facility_id")}


def _event_count(world) -> int:
    return int((world.meta.get("counters") or {}).get("event", 0))


def _register(world, picks: dict) -> None:
    n = world.next_sequence("triggered_patient")
    request = {"first_name": picks.get("first_name") or "Sandbox", "last_name": picks.get("last_name") or f"Patient{n}",
               "date_of_birth": picks.get("date_of_birth") or "1990-01-01", "country_code": "CM"}
    claims = _claims(world, picks)
    patients.resolve(world, request, claims["client_id"], claims["facility_id"])


def _update_patient(world, picks: dict) -> None:
    with world.transaction():
        patient = patients.patient_or_404(world, patient_id(world, picks))
        phone = picks.get("phone_number") or f"+2376{world.next_sequence('triggered_phone'):08d}"
        world["patients"].update(patient.doc_id, {"phone_number": phone})
        events.record_event(world, "patient.updated", {
            "health_id": patient["health_id"], "changed_fields": ["phone_number"]}, _claims(world, picks)["facility_id"])


def _verify(world, picks: dict) -> None:
    claims = _claims(world, picks)
    patients.verify(world, patient_id(world, picks), claims["client_id"], claims["facility_id"])


def _consent(action: str):
    def produce(world, picks: dict) -> None:
        claims, health_id = _claims(world, picks), patient_id(world, picks)
        if action == "grant":
            consent.grant(world, health_id, claims, picks.get("consent_type") or consent.DEFAULT_TYPE, None)
        elif action == "revoke":
            if not consent.revoke(world, health_id, claims["client_id"])["revoked"]:
                raise ValidationFailed(f"{health_id} has no active consent for {claims['client_id']} to revoke.")
        elif action == "expire":
            consent.expire_now(world, health_id, claims["client_id"])
        else:
            getattr(consent, action)(world, health_id, claims["client_id"])
    return produce


def _push_encounter(world, picks: dict) -> None:
    n = world.next_sequence("triggered_encounter")
    payload = {"health_id": patient_id(world, picks), "external_encounter_id": f"SBX-ENC-{n:06d}",
               "encounter_type": picks.get("encounter_type") or "outpatient", "occurred_at": now_iso(world),
               "diagnoses": [], "source_system": "sandbox"}
    pushes.store_record(world, "encounter", payload["health_id"], payload, _claims(world, picks))


def _release_result(world, picks: dict) -> None:
    """The lab releases a result: a healthy value of the test unless `result_value` is picked."""
    test, n = lab_test(picks), world.next_sequence("triggered_lab_result")
    band = test.healthy[0] if test.healthy else None
    value = picks.get("result_value", round((band[1] + band[2]) / 2, test.decimals) if band else test.results[0])
    payload = {"health_id": patient_id(world, picks), "external_lab_order_id": picks.get("lab_order_id")
               or f"SBX-LAB-{n:06d}", "test_name": test.name, "loinc_code": test.loinc, "result_value": value,
               "unit": test.unit, "reference_range": test.reference_range, "occurred_at": now_iso(world),
               "source_system": "sandbox"}
    pushes.store_record(world, "lab_result", payload["health_id"], payload, _claims(world, picks))


def _amend_result(world, picks: dict) -> None:
    """The lab corrects a released result: a new version of it (domain/amendments.py), which fires the event."""
    health_id = patient_id(world, picks)
    rows = records.patient_records(world, patient_or_404(world, health_id), ("lab_results",))["lab_results"]
    current = next((r for r in rows if r["id"] == picks["lab_result_id"]), None) if picks.get("lab_result_id") \
        else (rows[0] if rows else None)
    if current is None:
        raise ValidationFailed("No released lab result to amend; release one first.")
    old = current.get("value")
    new = picks.get("result_value", round(old * 1.1, 2) if isinstance(old, (int, float)) else None)
    amendments.amend_lab_result(world, health_id, current["id"], {"value": new, "note": "amended by the lab"})


def _low_stock(world, picks: dict) -> None:
    facility_id = happenings.facility(world, picks, happenings.PHARMACY_FACILITY)
    items = inventory.pharmacy_inventory(world, facility_id)["items"]
    if picks.get("item_id"):
        items = [i for i in items if i["id"] == picks["item_id"]]
    item = next((i for i in items if i["stock_status"] != "out_of_stock"), None)
    if item is None:
        raise ValidationFailed("Nothing left to run low: every chosen item is out of stock.", facility_id=facility_id)
    quantity = 0 if item["stock_status"] == "low_stock" else inventory.LOW_STOCK_THRESHOLD // 2
    inventory.set_pharmacy_stock(world, facility_id, item["id"], quantity)


PRODUCERS = {
    "patient.created": _register, "health_id.created": _register, "patient.updated": _update_patient,
    "health_id.verified": _verify,
    "consent.requested": _consent("request"), "consent.granted": _consent("grant"),
    "consent.denied": _consent("deny"), "consent.revoked": _consent("revoke"), "consent.expired": _consent("expire"),
    "encounter.created": _push_encounter, "encounter.closed": happenings.close_encounter,
    "lab_order.created": happenings.create_lab_order, "lab_result.released": _release_result,
    "lab_result.amended": _amend_result,
    "prescription.issued": happenings.issue_prescription, "prescription.cancelled": happenings.cancel_prescription,
    "prescription.dispensed": happenings.dispense,
    "appointment.created": happenings.create_appointment, "appointment.checked_in": happenings.check_in,
    "appointment.cancelled": happenings.cancel_appointment,
    "document.issued": happenings.issue_document, "document.verified": happenings.verify_document,
    "bridge_agent.sync_failed": happenings.fail_sync, "stock.low": _low_stock,
    "payment.completed": happenings.complete_payment,
}


def fire(world, event_type: str, picks: dict) -> dict:
    """Produce `event_type` (an older name: the first type it stands for) as its real cause would; the event."""
    if event_type not in SUBSCRIBABLE:
        raise ValidationFailed(f"Unknown event type: {event_type}.", unknown_events=[event_type],
                               allowed_events=list(SUBSCRIBABLE))
    event_type = ALIASES.get(event_type, (event_type,))[0]
    with world.transaction():
        before = _event_count(world)
        PRODUCERS[event_type](world, picks)
        fired = [e for e in world["events"].find("type", event_type) if e["id"] in _ids_since(world, before)]
        if not fired:  # e.g. resolving demographics that are already registered finds, and creates nothing
            raise ValidationFailed(f"The records picked produced no {event_type}.")
        return fired[-1]


def _ids_since(world, before: int) -> set[str]:
    return {events.event_id(world, n) for n in range(before + 1, _event_count(world) + 1)}
