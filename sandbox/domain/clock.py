"""The sandbox clock: real time plus a per-world offset, or frozen at a chosen instant.

Consent expiry, token expiry, webhook retries, OpenEyes ages and the reconciliation default date all
read this clock, so tests can move time instead of sleeping. The state lives in the world's meta
(`clock: {"offset_seconds": float, "frozen_at": iso | null}`), so it resets with the world.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def _wall() -> float:
    return time.time()


def now_ts(world) -> float:
    """Seconds since the epoch on this world's clock."""
    clock = world.meta.get("clock") or {}
    frozen = clock.get("frozen_at")
    if frozen is not None:
        return float(frozen)
    return _wall() + float(clock.get("offset_seconds", 0.0))


def now(world) -> datetime:
    return from_ts(now_ts(world))


def now_iso(world) -> str:
    """The world's time as the wire's ISO-8601 text."""
    return isoformat(now(world))


def from_ts(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def today(world):
    return now(world).date()


def advance(world, seconds: float) -> datetime:
    """Move the clock forward (or back, with a negative value)."""
    clock = dict(world.meta.get("clock") or {})
    if clock.get("frozen_at") is not None:
        clock["frozen_at"] = float(clock["frozen_at"]) + seconds
    else:
        clock["offset_seconds"] = float(clock.get("offset_seconds", 0.0)) + seconds
    world.set_meta(clock=clock)
    return now(world)


def set_now(world, instant: datetime, frozen: bool = False) -> datetime:
    """Make the clock read `instant` now; it keeps running unless `frozen`."""
    target = instant.timestamp()
    clock = {"frozen_at": target} if frozen else {"offset_seconds": target - _wall(), "frozen_at": None}
    world.set_meta(clock=clock)
    return now(world)


def isoformat(moment: datetime) -> str:
    """`2026-11-21T09:14:00Z`: UTC, whole seconds, as the API writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(raw: str) -> datetime:
    """An ISO-8601 instant; a naive value is taken as UTC. Raises ValueError when malformed."""
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def state(world) -> dict:
    """What `GET /sandbox/clock` shows: the time, whether it is frozen, how far it is from real time."""
    frozen = (world.meta.get("clock") or {}).get("frozen_at") is not None
    current = now_ts(world)
    return {"now": isoformat(now(world)), "frozen": frozen, "offset_seconds": round(current - _wall(), 3)}


def change(world, advance_seconds: float | None = None, instant: datetime | None = None,
           frozen: bool | None = None) -> dict:
    """Advance or set the clock; `frozen` (when given) freezes or releases it, otherwise the mode is kept."""
    clock = world.meta.get("clock") or {}
    keep_frozen = clock.get("frozen_at") is not None if frozen is None else frozen
    with world.transaction():
        if instant is None:
            instant = from_ts(now_ts(world) + (advance_seconds or 0))
        set_now(world, instant, frozen=keep_frozen)
    return state(world)
