"""Webhook inboxes: a receiver inside the sandbox, for visitors who have no public URL of their own. No Flask.

A subscription whose callback URL's path is `/sandbox/inbox/<inbox_id>` is delivered in process (the
dispatcher calls `receive` instead of POSTing), whatever the host: a hosted playground refuses loopback
receivers, and in a cluster the POST could land on a worker that is not the one holding the world.
Each entry records whether its signature matches the subscription's secret (or either secret while a
rotation's grace window is open), as a careful receiver would check it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from urllib.parse import urlsplit

from ..errors import CallbackUrlInvalid, InboxNotFound, LimitReached
from . import clock, rotation

INBOX_PATH = "/sandbox/inbox/"
_INBOX_ID = re.compile(r"^/sandbox/inbox/(ibx_[0-9a-f]{32})/?$")
MAX_INBOXES = 20  # per tenant: one visitor's browser tabs, not a mail server
MAX_ENTRIES = 50  # per inbox: the newest are kept
TOLERANCE_SECONDS = 300  # the documented signature tolerance: an older `t` is a replay


def inbox_id_of(url: str) -> str | None:
    """The inbox a callback URL names (by its path alone), or None for an ordinary receiver."""
    try:
        return (m := _INBOX_ID.match(urlsplit(url).path)) and m.group(1)
    except ValueError:
        return None


def create_inbox(world, base_url: str) -> dict:
    """A new inbox of this tenant; its id comes from the world's seed and sequence (stable, never uuid4)."""
    with world.transaction():
        if len(world["inboxes"]) >= MAX_INBOXES:
            raise LimitReached("inboxes_per_tenant", MAX_INBOXES, error="inbox_limit")
        sequence = world.next_sequence("inbox")
        digest = hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:inbox:{sequence}".encode()).hexdigest()
        inbox_id = f"ibx_{digest[:32]}"
        url = f"{base_url.rstrip('/')}{INBOX_PATH}{inbox_id}"
        world["inboxes"].insert({"inbox_id": inbox_id, "url": url, "created_at": clock.isoformat(clock.now(world))})
    return {"inbox_id": inbox_id, "url": url}


def check_subscribable(world, url: str) -> bool:
    """True if `url` is one of this tenant's inboxes; CallbackUrlInvalid (400) if it names another inbox."""
    inbox_id = inbox_id_of(url)
    if inbox_id is None:
        return False
    if world["inboxes"].first("inbox_id", inbox_id) is None:
        reason = "this inbox does not exist in your tenant (create one with POST /sandbox/inbox)"
        raise CallbackUrlInvalid(f"The callback URL cannot be delivered to: {reason}.", errors={"callback_url": [reason]})
    return True


def get_inbox(world, inbox_id: str) -> dict:
    doc = world["inboxes"].first("inbox_id", inbox_id)
    if doc is None:
        raise InboxNotFound(inbox_id=inbox_id)
    entries = sorted(world["inbox_entries"].find("inbox_id", inbox_id), key=lambda e: e.doc_id, reverse=True)
    return {"inbox_id": doc["inbox_id"], "url": doc["url"], "created_at": doc["created_at"],
            "entries": [{k: v for k, v in e.items() if k != "inbox_id"} for e in entries]}


def signature_valid(header: str, body: bytes, secrets: tuple[str, ...], now: int) -> bool:
    """Any `v1=` matching any current secret, with a `t` within the tolerance of `now` (real seconds)."""
    parts = [p.split("=", 1) for p in (header or "").split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > TOLERANCE_SECONDS:
        return False
    expected = {hmac.new(s.encode(), f"{stamps[0]}.".encode() + body, hashlib.sha256).hexdigest() for s in secrets}
    return any(hmac.compare_digest(v, e) for k, v in parts if k == "v1" for e in expected)


def receive(world, inbox_id: str, delivery_doc_id: int, headers: dict, body: bytes, now: int) -> int:
    """Store one delivery in its inbox; the HTTP status a receiver would answer (404: the inbox is gone)."""
    with world.transaction():
        doc = world["inboxes"].first("inbox_id", inbox_id)
        if doc is None:
            return 404
        delivery = world["deliveries"].get(delivery_doc_id) or {}
        sub = world["subscriptions"].first("subscription_id", delivery.get("subscription_id"))
        current = rotation.signing_secrets(world, sub, sub["secret"]) if sub else ()
        secrets = (current,) if isinstance(current, str) else tuple(current)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        entry = {"inbox_id": inbox_id, "received_at": clock.isoformat(clock.now(world)),
                 "delivery_id": delivery.get("delivery_id"),
                 "subscription_id": delivery.get("subscription_id"), "headers": dict(headers), "body": parsed,
                 "signature_valid": signature_valid(headers.get("X-OpesCare-Signature", ""), body, secrets, now)}
        world["inbox_entries"].insert(entry)  # one row per entry: a delivery appends one row to the write journal
        kept = sorted(world["inbox_entries"].find("inbox_id", inbox_id), key=lambda e: e.doc_id)
        for old in kept[:-MAX_ENTRIES]:
            world["inbox_entries"].remove(old.doc_id)
    return 200
