"""The audit trail: who looked up or changed which patient, why, and with what outcome."""

from __future__ import annotations

from ..storage.journal import redact
from . import clock, events


def record(world, action: str, client_id: str | None, outcome: str, health_id: str | None = None,
           purpose: str | None = None, external_reference: str | None = None, **details) -> dict:
    with world.transaction():
        sequence = world.next_sequence("audit")
        return world["audit"].insert(
            {
                "id": f"aud_{sequence:06d}",
                "at": clock.isoformat(clock.now(world)),
                "action": action,
                "client_id": client_id,
                "health_id": health_id,
                "purpose": redact(purpose),  # free text from the caller: a `token=...` in it stays out
                "external_reference": redact(external_reference),
                "outcome": outcome,
                "details": redact(details),
                "request_id": events.request_id.get(),
            }
        )


def entries(world, action: str | None = None, health_id: str | None = None, client_id: str | None = None,
            limit: int = 100) -> list[dict]:
    """Newest first, optionally filtered."""
    found = world["audit"].find("health_id", health_id) if health_id else world["audit"].all()
    found = [e for e in found if (not action or e["action"] == action) and (not client_id or e["client_id"] == client_id)]
    return list(reversed(found))[:limit]
