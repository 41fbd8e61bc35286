"""Events: every state change an integrator can subscribe to becomes a stored event with a stable `evt_` id.

`record_event` stores the event in the caller's transaction, then calls the world's listeners (the
webhook dispatcher registers one), so an event and its pending deliveries commit together.
"""

from __future__ import annotations

import hashlib

from . import clock

EVENT_TYPES = (
    "patient.created",
    "patient.updated",
    "health_id.created",
    "health_id.verified",
    "consent.granted",
    "consent.revoked",
    "consent.expired",
    "encounter.created",
    "lab_result.released",
    "lab_result.amended",
    "prescription.issued",
    "stock.low",
)


def event_id(world, sequence: int) -> str:
    """Stable: the n-th event of a world with a given seed always has the same id."""
    digest = hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:event:{sequence}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


def record_event(world, event_type: str, data: dict, facility_id: str | None = None, request_id: str | None = None) -> dict:
    with world.transaction():
        sequence = world.next_sequence("event")
        event = world["events"].insert(
            {
                "id": event_id(world, sequence),
                "type": event_type,
                "version": "1.0",
                "created_at": clock.isoformat(clock.now(world)),
                "data": data,
                "meta": {"facility_id": facility_id, "environment": "sandbox", "request_id": request_id},
            }
        )
        for listener in world.listeners:
            listener(world, event)
    return event


def list_events(world, event_type: str | None = None) -> list[dict]:
    events = world["events"].all()
    if event_type:
        events = [e for e in events if e["type"] == event_type]
    return list(reversed(events))
