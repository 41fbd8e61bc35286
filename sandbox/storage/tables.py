"""The tables a world holds and how each is indexed. Lookups by these keys never scan."""

from __future__ import annotations

from .store import field, fields, lowered


def patient_match_key(doc: dict):
    """Resolve matching: trimmed case-insensitive names, exact date of birth, upper-cased country."""
    first, last = (doc.get("first_name") or "").strip().lower(), (doc.get("last_name") or "").strip().lower()
    if not (first and last and doc.get("date_of_birth")):
        return None
    return (first, last, doc["date_of_birth"], (doc.get("country_code") or "CM").upper())


TABLES: dict[str, dict] = {
    "meta": {},
    "clients": {"client_id": field("client_id")},
    "facilities": {"facility_id": field("facility_id")},
    "patients": {"health_id": field("health_id"), "match_key": patient_match_key},
    "lab_amendments": {"lab_result_id": field("lab_result_id"), "health_id": field("health_id")},
    "patient_aliases": {"health_id": field("health_id"), "survivor_health_id": field("survivor_health_id"),
                        "match_key": lambda doc: patient_match_key(doc["patient"])},
    "consents": {"patient_client": fields("health_id", "client_id"), "health_id": field("health_id"),
                 "status": field("status")},
    "records": {"health_id": field("health_id"), "external": fields("client_id", "kind", "external_id"),
                "record_id": field("opescare_record_id")},
    "idempotency": {"key": fields("client_id", "endpoint", "key")},
    "pharmacy_stock": {"facility_id": field("facility_id"), "item_id": field("id")},
    "blood_stock": {"facility_id": field("facility_id"), "item_id": field("id")},
    "subscriptions": {"subscription_id": field("subscription_id"), "client_id": field("client_id"),
                      "client_url": fields("client_id", "callback_url"),
                      "event_type": lambda doc: list(doc.get("subscribed_events") or ()) or None},
    "events": {"event_id": field("id"), "type": field("type")},
    "deliveries": {"event_id": field("event_id"), "status": field("status"),
                   "subscription_id": field("subscription_id")},
    "audit": {"health_id": field("health_id")},
    "reconciliation_cases": {"case_id": field("reconciliation_case_id")},
    "openeyes_patients": {
        "identifier": lambda doc: [i["value"].upper() for i in doc.get("identifiers", [])] or None,
        "last_name": ("sorted", lowered("last_name")),
        "first_name": ("sorted", lowered("first_name")),
    },
    "openeyes_users": {"username": field("username")},
    "inboxes": {"inbox_id": field("inbox_id")},
    "inbox_entries": {"inbox_id": field("inbox_id")},
}
