"""The webhook event catalogue: the documented types, the older names kept as aliases, and each type's payload.

The domain records an event with the facts it has at hand (a patient summary, a stored record, a consent
row); `payload` shapes those facts into the documented `data`: mostly identifiers and a few display
fields, never whole records (the docs' `lab_result.released` example is the model). Every shape has a
JSON Schema in `fixtures/event_schemas.json`, which the suite validates each delivered payload against.
"""

from __future__ import annotations

# The public webhooks page's catalogue, in its order.
CATALOGUE = (
    "patient.created", "patient.updated", "health_id.created", "health_id.verified",
    "consent.requested", "consent.granted", "consent.denied", "consent.revoked",
    "encounter.created", "encounter.closed", "lab_order.created", "lab_result.released", "lab_result.amended",
    "prescription.issued", "prescription.cancelled", "prescription.dispensed",
    "appointment.created", "appointment.checked_in", "appointment.cancelled",
    "document.issued", "document.verified", "bridge_agent.sync_failed",
)
# The sandbox's own: consent expiry and low stock, and payments (the catalogue has no payment event, so the
# changelog's `payment.completed` cannot stand for one of its types: it is delivered under its own name).
SANDBOX_TYPES = ("consent.expired", "stock.low", "payment.completed")
EVENT_TYPES = (*CATALOGUE, *SANDBOX_TYPES)
# Older names (changelog, playground spec) -> the catalogue types a subscription to them receives.
ALIASES = {
    "patient.registered": ("patient.created",),
    "lab_result.ready": ("lab_result.released",),
    "prescription.ready": ("prescription.issued",),
    "appointment.updated": ("appointment.checked_in", "appointment.cancelled"),
}
SUBSCRIBABLE = (*EVENT_TYPES, *ALIASES)


def canonical(names) -> list[str]:
    """The event types a subscription to `names` receives (aliases expanded, order kept, no repeats)."""
    found: list[str] = []
    for name in names:
        for event_type in ALIASES.get(name, (name,)):
            if event_type not in found:
                found.append(event_type)
    return found


def organization_id(facility_id: str | None) -> str | None:
    """Decision: each demo facility is its own organisation, `…-2xxxxxxxxxxx` beside the facility's `…-1xxxxxxxxxxx`."""
    if not facility_id or len(facility_id) != 36:
        return None
    return facility_id[:24] + "2" + facility_id[25:]


def _pick(facts: dict, *names: str) -> dict:
    return {name: facts.get(name) for name in names}


def _patient(facts: dict) -> dict:
    summary = facts.get("patient") or {}
    return {"health_id": facts.get("health_id"), "display_name": summary.get("display_name"),
            "country_code": summary.get("country_code"), "identity_status": summary.get("identity_status")}


def _consent(facts: dict) -> dict:
    return _pick(facts, "health_id", "client_id", "consent_type", "consent_status", "granted_at", "expires_at")


def _lab_result(facts: dict) -> dict:
    return _pick(facts, "health_id", "lab_result_id", "test_name", "flagged")


def _stock(facts: dict) -> dict:
    item = facts.get("item") or {}
    blood_line = f"bld_{item.get('blood_group')}_{item.get('component')}"  # as inventory.blood_item_id names it
    return {"inventory": facts.get("inventory"), "item_id": item.get("id") or blood_line,
            "item_name": item.get("medicine_name") or (f"{item.get('blood_group')} {item.get('component')}"
                                                         if item.get("blood_group") else None),
            "available_quantity": facts.get("quantity"), "stock_status": facts.get("status")}


SHAPES = {
    "patient.created": _patient,
    "patient.updated": lambda f: _pick(f, "health_id", "changed_fields"),
    "health_id.created": lambda f: {"health_id": f.get("health_id"),
                                    "country_code": (f.get("patient") or {}).get("country_code")},
    "health_id.verified": lambda f: {"health_id": f.get("health_id"),
                                     "verification_status": (f.get("patient") or {}).get("verification_status")},
    "consent.requested": _consent, "consent.granted": _consent, "consent.denied": _consent,
    "consent.revoked": _consent, "consent.expired": _consent,
    "encounter.created": lambda f: _pick(f, "health_id", "encounter_id", "encounter_type", "occurred_at"),
    "encounter.closed": lambda f: _pick(f, "health_id", "encounter_id", "encounter_type", "closed_at"),
    "lab_order.created": lambda f: _pick(f, "health_id", "lab_order_id", "test_name", "loinc_code"),
    "lab_result.released": _lab_result,
    "lab_result.amended": _lab_result,
    "prescription.issued": lambda f: _pick(f, "health_id", "prescription_id", "item_count"),
    "prescription.cancelled": lambda f: _pick(f, "health_id", "prescription_id", "reason"),
    "prescription.dispensed": lambda f: _pick(f, "health_id", "prescription_id", "dispensed_at"),
    "appointment.created": lambda f: _pick(f, "health_id", "appointment_id", "scheduled_at"),
    "appointment.checked_in": lambda f: _pick(f, "health_id", "appointment_id", "checked_in_at"),
    "appointment.cancelled": lambda f: _pick(f, "health_id", "appointment_id", "reason"),
    "document.issued": lambda f: _pick(f, "health_id", "document_id", "document_type"),
    "document.verified": lambda f: _pick(f, "health_id", "document_id", "document_type"),
    "bridge_agent.sync_failed": lambda f: _pick(f, "agent_id", "sync_id", "error_code", "message"),
    "stock.low": _stock,
    "payment.completed": lambda f: _pick(f, "health_id", "payment_reference", "amount", "currency", "method"),
}


def payload(event_type: str, facts: dict, facility_id: str | None) -> dict:
    """The documented `data` of an event: its shape's fields, then the facility it happened at."""
    return {**SHAPES[event_type](facts), "facility_id": facts.get("facility_id") or facility_id}
