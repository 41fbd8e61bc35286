"""Events: every state change an integrator can subscribe to becomes a stored event with a stable `evt_` id.

`record_event` stores the event in the caller's transaction, then calls the world's listeners (the
webhook dispatcher registers one), so an event and its pending deliveries commit together. The request
that caused it (if any) is named by `request_id`, which the HTTP layer sets for the request's duration.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib

from . import clock, event_catalogue
from .event_catalogue import EVENT_TYPES  # noqa: F401 (re-exported: callers know the types from here)

# The X-Request-Id of the request being served on this thread; None for the clock's and background work.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


@contextlib.contextmanager
def caused_by(value: str | None):
    """Events and audit entries recorded inside carry this request id (None: not caused by a request)."""
    token = request_id.set(value)
    try:
        yield
    finally:
        request_id.reset(token)


def event_id(world, sequence: int) -> str:
    """Stable: the n-th event of a world with a given seed always has the same id."""
    digest = hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:event:{sequence}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


def record_event(world, event_type: str, facts: dict, facility_id: str | None = None) -> dict:
    """Store an event whose `data` is the documented payload built from `facts` (see event_catalogue)."""
    data = event_catalogue.payload(event_type, facts, facility_id)
    facility_id = data.get("facility_id") or facility_id
    with world.transaction():
        sequence = world.next_sequence("event")
        event = world["events"].insert(
            {
                "id": event_id(world, sequence),
                "type": event_type,
                "version": "1.0",
                "created_at": clock.isoformat(clock.now(world)),
                "data": data,
                "meta": {"organization_id": event_catalogue.organization_id(facility_id), "facility_id": facility_id,
                         "environment": "sandbox", "request_id": request_id.get()},
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
