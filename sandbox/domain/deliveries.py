"""Webhook deliveries: the envelope, its signature, the retry schedule and each delivery's state. No network.

A delivery is one (event, subscription) pair: `pending` until an attempt gets a 2xx (`delivered`),
retried on the sandbox clock after 1 min, 5 min, 15 min, 1 h, 6 h and 24 h, then `exhausted` after the
7th failure; `cancelled` when its subscription is deleted. The HTTP calls live in `sandbox/dispatcher.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..storage.journal import redact_url
from . import chaos, clock, rotation

RETRY_DELAYS = (60, 300, 900, 3600, 6 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
STATUSES = ("pending", "delivered", "exhausted", "cancelled")
SIGNATURE_HEADER = "X-OpesCare-Signature"


@dataclass(frozen=True)
class Attempt:
    """What one HTTP attempt sends. Lives only in memory: it holds the secret, so it is never logged."""

    doc_id: int
    delivery_id: str
    event_id: str
    number: int
    url: str
    body: bytes
    started_at: float  # sandbox clock: the retry schedule counts from here
    secret: str | tuple[str, ...] | chaos.ProbeSecret = field(repr=False)  # two while a rotated secret's grace window is open


def delivery_id(world, sequence: int) -> str:
    digest = hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:delivery:{sequence}".encode()).hexdigest()
    return f"dlv_{digest[:24]}"


def _iso(ts: float | None) -> str | None:
    return None if ts is None else clock.isoformat(datetime.fromtimestamp(ts, tz=UTC))


def envelope_bytes(event: dict, attempt: int) -> bytes:
    """The request body, serialised once: the signature covers exactly these bytes."""
    meta = event.get("meta") or {}
    envelope = {
        "id": event["id"], "type": event["type"], "version": event.get("version", "1.0"),
        "created_at": event["created_at"], "data": event.get("data") or {},
        "meta": {"organization_id": meta.get("organization_id"), "facility_id": meta.get("facility_id"),
                 "environment": "sandbox", "request_id": meta.get("request_id"), "delivery_attempt": attempt},
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# Scenario "invalid_webhook_signature" (fixtures/scenarios.json): a callback URL whose query carries this
# marker gets deliveries signed with a key that is not the subscription's, so receivers can test rejection.
BAD_SIGNATURE_MARKER = "sandbox_signature=invalid"
WRONG_KEY = "whsec_" + "0" * 32


def signing_key(secret: str, url: str) -> str:
    return WRONG_KEY if BAD_SIGNATURE_MARKER in urlsplit(url).query.split("&") else secret


def signature_header(secret: str | tuple[str, ...], body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`; one `v1=` per secret during a rotation."""
    if isinstance(secret, chaos.ProbeSecret):  # a chaos probe: a wrong key, or a `t` past the tolerance
        secret, timestamp = secret.keys_and_timestamp(timestamp)
    secrets = (secret,) if isinstance(secret, str) else secret
    signatures = (hmac.new(key.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
                  for key in secrets)
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in signatures)])


def create_deliveries(world, event: dict, subscriptions: list[dict], replay: bool = False) -> list[dict]:
    """One pending delivery per subscription, due now. Call inside the caller's transaction."""
    now = clock.now_ts(world)
    created = []
    for sub in subscriptions:
        created.append(world["deliveries"].insert({
            "delivery_id": delivery_id(world, world.next_sequence("delivery")),
            "event_id": event["id"], "event_type": event["type"], "subscription_id": sub["subscription_id"],
            "client_id": sub["client_id"], "url": sub["callback_url"], "replay": replay, "status": "pending",
            "attempt_count": 0, "next_attempt_at": now, "created_at": _iso(now), "attempts": [],
        }))
    return chaos.shape(world, created, delivery_id)  # duplicates, delays, reordering, probes (domain/chaos.py)


def due(world) -> list[int]:
    """Doc ids of pending deliveries whose next attempt is due on the sandbox clock, oldest first."""
    now = clock.now_ts(world)
    return [d.doc_id for d in world["deliveries"].find("status", "pending") if d["next_attempt_at"] <= now]


def has_pending(world) -> bool:
    return bool(world["deliveries"].find("status", "pending"))


def prepare_attempt(world, doc_id: int) -> Attempt | None:
    """The next attempt of a pending delivery, or None (settled, gone, or its subscription deleted)."""
    with world.transaction():
        doc = world["deliveries"].get(doc_id)
        if doc is None or doc["status"] != "pending":
            return None
        sub = world["subscriptions"].first("subscription_id", doc["subscription_id"])
        event = world["events"].first("event_id", doc["event_id"])
        if sub is None or event is None:
            world["deliveries"].update(doc_id, {"status": "cancelled", "next_attempt_at": None})
            return None
        number = doc["attempt_count"] + 1
        return Attempt(doc_id, doc["delivery_id"], doc["event_id"], number, doc["url"],
                       envelope_bytes(event, number), clock.now_ts(world),
                       chaos.signing(doc, rotation.signing_secrets(world, sub, signing_key(sub["secret"], doc["url"]))))


def record_attempt(world, attempt: Attempt, status_code: int | None, latency_ms: float, error: str | None,
                   signature: str, response_body: str | None = None) -> dict | None:
    """Store an attempt's outcome and move the delivery on. None if the delivery changed meanwhile (a reset)."""
    succeeded = error is None and status_code is not None and 200 <= status_code < 300
    with world.transaction():
        doc = world["deliveries"].get(attempt.doc_id)
        if (doc is None or doc["delivery_id"] != attempt.delivery_id or doc["status"] != "pending"
                or doc["attempt_count"] != attempt.number - 1):
            return None
        if succeeded:
            status, next_at = "delivered", None
        elif attempt.number >= chaos.max_attempts(doc, MAX_ATTEMPTS):
            status, next_at = "exhausted", None
        else:
            status, next_at = "pending", attempt.started_at + RETRY_DELAYS[attempt.number - 1]
        record = {"attempt": attempt.number, "url": attempt.url, "status_code": status_code,
                  "latency_ms": latency_ms, "error": error, "signature": signature,
                  "response_body": response_body, "attempted_at": _iso(attempt.started_at),
                  "next_retry_at": _iso(next_at)}
        return world["deliveries"].update(attempt.doc_id, {
            "status": status, "attempt_count": attempt.number, "next_attempt_at": next_at,
            "attempts": [*doc["attempts"], record]})


def cancel_for_subscription(world, subscription_id: str) -> None:
    with world.transaction():
        for doc in world["deliveries"].find("subscription_id", subscription_id):
            if doc["status"] == "pending":
                world["deliveries"].update(doc.doc_id, {"status": "cancelled", "next_attempt_at": None})


def cancel_pending(world) -> list[str]:
    """Cancel every pending delivery of the world (the pytest plugin's end of a test); their ids."""
    with world.transaction():
        pending = world["deliveries"].find("status", "pending")
        for doc in pending:
            world["deliveries"].update(doc.doc_id, {"status": "cancelled", "next_attempt_at": None})
    return [doc["delivery_id"] for doc in pending]


def describe(doc: dict) -> dict:
    """A delivery as the controls show it: no secret is stored in one, and one in the URL's query is hidden."""
    return {"delivery_id": doc["delivery_id"], "subscription_id": doc["subscription_id"], "url": redact_url(doc["url"]),
            "status": doc["status"], "replay": doc["replay"], "attempt_count": doc["attempt_count"],
            "created_at": doc["created_at"], "next_retry_at": _iso(doc["next_attempt_at"]),
            "attempts": [{**a, "url": redact_url(a["url"])} for a in doc["attempts"]], **chaos.marks(doc)}


def report(world, event_id: str | None = None, status: str | None = None, event_type: str | None = None,
           limit: int = 100, request_id: str | None = None) -> list[dict]:
    """Events newest first, each with its deliveries and every attempt. A status filter keeps only matches."""
    if status:  # through the status index: only events that have such a delivery
        event_ids = dict.fromkeys(d["event_id"] for d in world["deliveries"].find("status", status))
        events = [e for i in event_ids for e in world["events"].find("event_id", i)]
    elif event_id:
        events = world["events"].find("event_id", event_id)
    else:
        events = world["events"].find("type", event_type) if event_type else world["events"].all()
    found = []
    for event in sorted(events, key=lambda e: e.doc_id, reverse=True):
        if (event_id and event["id"] != event_id) or (event_type and event["type"] != event_type) or (
                request_id and (event.get("meta") or {}).get("request_id") != request_id):
            continue
        rows = [describe(d) for d in world["deliveries"].find("event_id", event["id"])]
        found.append({**dict(event), "deliveries": [r for r in rows if not status or r["status"] == status]})
        if len(found) >= limit:
            break
    return found
