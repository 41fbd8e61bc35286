"""Adversarial deliveries, per subscription: duplicates, reordering, delays and signature probes. No network.

`PUT /sandbox/webhooks/subscriptions/{id}/chaos` stores a setting on the subscription; `shape` then bends
each new delivery of it as it is created (inside the event's transaction), on the sandbox clock:

- `delay_seconds`: the first attempt is due that much later;
- `reorder_window_seconds`: deliveries created within one window are held until it closes, then released
  newest first, one per sandbox second, so they arrive in the reverse of the order the events happened;
- `duplicate`: a second delivery of the same event (same event id, its own delivery id);
- `bad_signature_every` / `stale_timestamp_every` N: every Nth delivery is followed by a probe, a copy signed
  with a wrong key or with a `t` older than the documented 300 s tolerance. A probe is attempted once (never
  retried) and the deliveries log marks it with what a correct receiver answers: a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SubscriptionNotFound
from . import clock

SETTINGS = ("duplicate", "reorder_window_seconds", "delay_seconds", "bad_signature_every", "stale_timestamp_every")
OFF = {"duplicate": False, "reorder_window_seconds": 0, "delay_seconds": 0, "bad_signature_every": 0,
       "stale_timestamp_every": 0}
STALE_BY_SECONDS = 600  # a stale probe's `t` is this far in the past: well beyond the 300 s tolerance
PROBE_KINDS = {"bad_signature_every": "bad_signature", "stale_timestamp_every": "stale_timestamp"}
PROBE_EXPECTED = "4xx"
PROBE_WRONG_KEY = "whsec_" + "f" * 32


@dataclass(frozen=True)
class ProbeSecret:
    """What signs a probe: `signature_header` signs with a wrong key, or backdates `t` (see deliveries)."""

    secret: str | tuple[str, ...]
    kind: str

    def keys_and_timestamp(self, timestamp: int) -> tuple[tuple[str, ...], int]:
        if self.kind == "bad_signature":
            return (PROBE_WRONG_KEY,), timestamp
        keys = (self.secret,) if isinstance(self.secret, str) else self.secret
        return keys, timestamp - STALE_BY_SECONDS


def set_chaos(world, subscription_id: str, settings: dict) -> dict:
    """Replace the subscription's chaos setting (absent fields are off); the delivery counter starts again."""
    with world.transaction():
        sub = world["subscriptions"].first("subscription_id", subscription_id)
        if sub is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        chaos = {**OFF, **{k: settings[k] for k in SETTINGS if k in settings}}
        world["subscriptions"].update(sub.doc_id, {"chaos": {**chaos, "count": 0, "window_end": None}})
    return {"subscription_id": subscription_id, **chaos}


def shape(world, created: list, new_delivery_id) -> list:
    """Bend the just-created deliveries of subscriptions that have chaos on; returns them plus any extra rows.

    `new_delivery_id(world, sequence)` names the extra rows (deliveries passes its own: no import circle)."""
    extra = []
    for doc in created:
        sub = world["subscriptions"].first("subscription_id", doc["subscription_id"])
        chaos = (sub or {}).get("chaos")
        if not chaos or not any(chaos.get(k) for k in SETTINGS):
            continue
        count = chaos["count"] + 1
        due = doc["next_attempt_at"] + chaos["delay_seconds"]
        rows = [world["deliveries"].update(doc.doc_id, {"next_attempt_at": due})]
        if chaos["duplicate"]:
            rows.append(_copy(world, doc, due, new_delivery_id, duplicate_of=doc["delivery_id"]))
        for setting, kind in PROBE_KINDS.items():
            if chaos[setting] and count % chaos[setting] == 0:
                rows.append(_copy(world, doc, due, new_delivery_id, probe={"kind": kind, "expected": PROBE_EXPECTED}))
        window_end = chaos["window_end"]
        if chaos["reorder_window_seconds"]:
            now = clock.now_ts(world)
            if window_end is None or window_end <= now:
                window_end = now + chaos["reorder_window_seconds"]
            for row in rows:
                world["deliveries"].update(row.doc_id, {"held_until": window_end})
            _release_newest_first(world, sub["subscription_id"], window_end)
        world["subscriptions"].update(sub.doc_id, {"chaos": {**chaos, "count": count, "window_end": window_end}})
        extra += rows[1:]
    return [*created, *extra]


def _copy(world, doc, due: float, new_delivery_id, **marks):
    fields = {k: v for k, v in doc.items() if k not in ("delivery_id", "next_attempt_at")}
    return world["deliveries"].insert({**fields, "delivery_id": new_delivery_id(world, world.next_sequence("delivery")),
                                       "next_attempt_at": due, **marks})


def _release_newest_first(world, subscription_id: str, window_end: float) -> None:
    """Every delivery held in this window: the newest due at the window's end, each older one a second later."""
    held = [d for d in world["deliveries"].find("subscription_id", subscription_id)
            if d.get("held_until") == window_end and d["status"] == "pending" and d["attempt_count"] == 0]
    for offset, row in enumerate(sorted(held, key=lambda d: d.doc_id, reverse=True)):
        world["deliveries"].update(row.doc_id, {"next_attempt_at": window_end + offset})


def signing(doc: dict, secret):
    """What signs this delivery's attempt: a probe's `ProbeSecret`, else the subscription's secret(s)."""
    probe = doc.get("probe")
    return ProbeSecret(secret, probe["kind"]) if probe else secret


def max_attempts(doc: dict, default: int) -> int:
    """A probe is attempted once: a receiver that rightly refuses it must not be retried at."""
    return 1 if doc.get("probe") else default


def marks(doc: dict) -> dict:
    """What the deliveries log shows of chaos on a delivery: a probe and its expected answer, a duplicate."""
    shown = {}
    if doc.get("probe"):
        answered = [a["status_code"] for a in doc.get("attempts") or () if a.get("status_code") is not None]
        # did the receiver do what a correct one does? None until it answered
        shown["probe"] = {**doc["probe"], "receiver_refused": (400 <= answered[-1] < 500) if answered else None}
    if doc.get("duplicate_of"):
        shown["duplicate_of"] = doc["duplicate_of"]
    if doc.get("held_until") is not None:
        shown["held_until"] = clock.isoformat(clock.from_ts(doc["held_until"]))
    return shown
