"""Consent per (patient, client): status, grant, revocation and expiry on the sandbox clock.

A consent row holds `status` granted | pending | denied | revoked | expired. A granted row whose
`expires_at` has passed on the sandbox clock reads as expired: the first time anyone looks at it (or
`expire_due` sweeps it) it is persisted as expired and `consent.expired` fires, exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..errors import ConsentRequired, ValidationFailed
from . import audit, clock, events
from .lookup import patient_or_404

STATUSES = ("granted", "pending", "denied", "revoked", "expired")
# What each consent type lets a client read (decision: the docs name only full_record).
CONSENT_TYPES = {
    "full_record": ("diagnoses", "prescriptions", "lab_results", "vitals"),
    "diagnostics_only": ("diagnoses", "prescriptions", "vitals"),
    "lab_results_only": ("lab_results",),
    "emergency_access": ("diagnoses", "prescriptions", "lab_results", "vitals"),
}
DEFAULT_TYPE = "full_record"


def body(health_id: str, row: dict | None) -> dict:
    """The wire form. No row at all reads as `pending` with no type: nothing was ever asked or granted."""
    row = row or {}
    return {"health_id": health_id, "consent_status": row.get("status", "pending"),
            "consent_type": row.get("consent_type"), "granted_at": row.get("granted_at"),
            "expires_at": row.get("expires_at")}


def _is_due(world, row: dict) -> bool:
    return row["status"] == "granted" and bool(row.get("expires_at")) \
        and clock.parse_iso(row["expires_at"]) <= clock.now(world)


def _facility_of(world, client_id: str) -> str | None:
    client = world["clients"].first("client_id", client_id)
    return client.get("facility_id") if client else None


def _event_data(row: dict) -> dict:
    return {"health_id": row["health_id"], "client_id": row["client_id"], "consent_status": row["status"],
            "consent_type": row.get("consent_type"), "granted_at": row.get("granted_at"),
            "expires_at": row.get("expires_at")}


def _expire(world, row: dict) -> dict:
    """Persist one due consent as expired and fire `consent.expired` (re-checked under the lock: once only)."""
    with world.transaction():
        row = world["consents"].get(row.doc_id)
        if not _is_due(world, row):
            return row
        row = world["consents"].update(row.doc_id, {"status": "expired"})
        with events.caused_by(None):  # the clock expired it, whichever request happened to notice
            audit.record(world, "consent.expire", row["client_id"], "expired", health_id=row["health_id"],
                         expires_at=row["expires_at"])
            events.record_event(world, "consent.expired", _event_data(row), _facility_of(world, row["client_id"]))
        return row


def expire_now(world, raw_health_id: str, client_id: str) -> dict:
    """The trigger's `consent.expired`: an active grant's expires_at becomes now, and it expires as the clock would."""
    health_id = patient_or_404(world, raw_health_id)["health_id"]
    with world.transaction():
        row = world["consents"].first("patient_client", (health_id, client_id))
        if row is None or row["status"] != "granted":
            raise ValidationFailed(f"{health_id} has no active consent for {client_id} to expire.")
        world["consents"].update(row.doc_id, {"expires_at": clock.isoformat(clock.now(world))})
        return body(health_id, current(world, health_id, client_id))


def expire_due(world) -> list[dict]:
    """Expire every granted consent whose expires_at has passed; the rows that changed (for controls and webhooks)."""
    with world.transaction():
        due = [row for row in world["consents"].find("status", "granted") if _is_due(world, row)]
        return [_expire(world, row) for row in due]


def _start_relative_expiry(world, row: dict) -> dict:
    """A scenario persona's grant lasts `expires_in_seconds` from the first time it is read (fixtures/scenarios.json).

    The template cannot hold an absolute time (it would change with the day it was built), so the
    clock starts on first use, and the row then reads like any other grant with an `expires_at`.
    """
    with world.transaction():
        row = world["consents"].get(row.doc_id)
        if row["status"] != "granted" or row.get("expires_at") or not row.get("expires_in_seconds"):
            return row
        expires = clock.now_ts(world) + float(row["expires_in_seconds"])
        return world["consents"].update(row.doc_id, {"expires_at": clock.isoformat(clock.from_ts(expires))})


def current(world, health_id: str, client_id: str) -> dict | None:
    """The consent row of (patient, client) as it stands now on the sandbox clock, or None."""
    row = world["consents"].first("patient_client", (health_id, client_id))
    if row is not None and row.get("expires_in_seconds") and not row.get("expires_at"):
        row = _start_relative_expiry(world, row)
    if row is not None and _is_due(world, row):
        row = _expire(world, row)
    return row


def get_consent(world, raw_health_id: str, client_id: str) -> dict:
    health_id = patient_or_404(world, raw_health_id)["health_id"]
    return body(health_id, current(world, health_id, client_id))


def grant(world, raw_health_id: str, claims: dict, consent_type: str, expires_at: datetime | None) -> dict:
    """Record the patient's consent for the calling client (a new grant replaces any earlier row)."""
    health_id = patient_or_404(world, raw_health_id)["health_id"]
    now = clock.now(world)
    if expires_at is not None:
        expires_at = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise ValidationFailed("expires_at must be in the future on the sandbox clock.",
                                   errors={"expires_at": [f"Must be after {clock.isoformat(now)}."]})
    changes = {"health_id": health_id, "client_id": claims["client_id"], "status": "granted",
               "consent_type": consent_type, "granted_at": clock.isoformat(now),
               "expires_at": clock.isoformat(expires_at) if expires_at else None, "revoked_at": None}
    with world.transaction():
        row = world["consents"].first("patient_client", (health_id, claims["client_id"]))
        row = world["consents"].update(row.doc_id, changes) if row else world["consents"].insert(changes)
        audit.record(world, "consent.grant", claims["client_id"], "granted", health_id=health_id,
                     consent_type=consent_type, expires_at=row["expires_at"])
        events.record_event(world, "consent.granted", _event_data(row), claims.get("facility_id"))
    return body(health_id, row)


def revoke(world, raw_health_id: str, client_id: str | None = None) -> dict:
    """The patient withdraws consent in the app: one client's active grant, or (no client_id) every active grant."""
    health_id = patient_or_404(world, raw_health_id)["health_id"]
    if client_id is not None and world["clients"].first("client_id", client_id) is None:
        raise ValidationFailed("Unknown client_id.", errors={"client_id": [f"No client {client_id!r} in this world."]})
    with world.transaction():
        expire_due(world)
        rows = world["consents"].find("health_id", health_id)
        active = [r for r in rows if r["status"] == "granted" and client_id in (None, r["client_id"])]
        revoked_at = clock.isoformat(clock.now(world))
        revoked = []
        for row in active:
            row = world["consents"].update(row.doc_id, {"status": "revoked", "revoked_at": revoked_at})
            audit.record(world, "consent.revoke", row["client_id"], "revoked", health_id=health_id,
                         actor="patient_app")
            events.record_event(world, "consent.revoked", _event_data(row), _facility_of(world, row["client_id"]))
            revoked.append({**body(health_id, row), "client_id": row["client_id"], "revoked_at": revoked_at})
    return {"health_id": health_id, "revoked": revoked}


def _patient_answers(world, raw_health_id: str, client_id: str, status: str, consent_type: str | None) -> dict:
    """The patient's side of the app: a consent request is shown (`pending`), or refused (`denied`)."""
    health_id = patient_or_404(world, raw_health_id)["health_id"]
    if world["clients"].first("client_id", client_id) is None:
        raise ValidationFailed("Unknown client_id.", errors={"client_id": [f"No client {client_id!r} in this world."]})
    changes = {"health_id": health_id, "client_id": client_id, "status": status,
               "consent_type": consent_type or DEFAULT_TYPE, "granted_at": None, "expires_at": None,
               "revoked_at": None, f"{status}_at": clock.isoformat(clock.now(world))}
    with world.transaction():
        row = world["consents"].first("patient_client", (health_id, client_id))
        row = world["consents"].update(row.doc_id, changes) if row else world["consents"].insert(changes)
        audit.record(world, f"consent.{'request' if status == 'pending' else 'deny'}", client_id, status,
                     health_id=health_id, actor="patient_app")
        events.record_event(world, "consent.requested" if status == "pending" else "consent.denied",
                            _event_data(row), _facility_of(world, client_id))
    return body(health_id, row)


def request(world, raw_health_id: str, client_id: str, consent_type: str | None = None) -> dict:
    """A facility asks the patient for consent: the row reads `pending` until the patient answers."""
    return _patient_answers(world, raw_health_id, client_id, "pending", consent_type)


def deny(world, raw_health_id: str, client_id: str, consent_type: str | None = None) -> dict:
    """The patient refuses consent in the app: the row then reads `denied` (records stay 403)."""
    return _patient_answers(world, raw_health_id, client_id, "denied", consent_type)


def require_active(world, health_id: str, client_id: str, record_types: tuple[str, ...]) -> dict:
    """The client's active consent covering `record_types`, or 403 consent_required."""
    row = current(world, health_id, client_id)
    status = row["status"] if row else "pending"
    if status != "granted":
        raise ConsentRequired(f"Consent is {status}; ask the patient to grant it.", health_id=health_id,
                              consent_status=status, required_action="request_consent")
    uncovered = [t for t in record_types if t not in CONSENT_TYPES.get(row["consent_type"], ())]
    if uncovered:
        raise ConsentRequired(f"A {row['consent_type']} consent does not cover {', '.join(uncovered)}.",
                              health_id=health_id, consent_status=status, consent_type=row["consent_type"],
                              required_action="request_consent")
    return row
