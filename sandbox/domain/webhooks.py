"""Webhook subscriptions: which client wants which event types at which URL, signed with which secret.

Not imitated: production's secrets are random. Here a generated `subscription_id` and `webhook_secret`
are a hash of (seed, tenant, sequence), so a fresh sandbox issues the same ones in every run; anyone
who knows those three can compute the secret, which is fine for a sandbox and wrong for anything else.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import urlsplit

from ..errors import (
    CallbackUrlInvalid,
    DuplicateSubscription,
    EventNotFound,
    LimitReached,
    SubscriptionNotFound,
    ValidationFailed,
)
from . import clock, deliveries
from .event_catalogue import ALIASES, SUBSCRIBABLE

SECRET_PREFIX = "whsec_"
PUBLIC_FIELDS = ("subscription_id", "status", "callback_url", "subscribed_events", "description", "created_at")


def _digest(world, kind: str, sequence: int) -> str:
    return hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:{kind}:{sequence}".encode()).hexdigest()


def subscription_id(world, sequence: int) -> str:
    return f"sub_{_digest(world, 'subscription', sequence)[:24]}"


def generated_secret(world, sequence: int) -> str:
    return f"{SECRET_PREFIX}{_digest(world, 'webhook-secret', sequence)[:32]}"


def unknown_event_types(types) -> list[str]:
    return [t for t in types if t not in SUBSCRIBABLE]


def public(doc: dict) -> dict:
    """A subscription as the API shows it: never the secret, never the owner."""
    return {name: doc.get(name) for name in PUBLIC_FIELDS}


def _check_event_types(types) -> None:
    unknown = unknown_event_types(types)
    if unknown:
        raise ValidationFailed(f"Unknown event types: {', '.join(unknown)}.", unknown_events=unknown,
                               allowed_events=list(SUBSCRIBABLE))


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def check_callback_url(url: str) -> tuple[str, int]:
    """(host, port) of a URL a POST can reach; CallbackUrlInvalid otherwise. Both modes: such a URL was
    accepted and then retried for 31 hours, and credentials in it were echoed by every listing."""
    def invalid(reason: str):
        return CallbackUrlInvalid(f"The callback URL cannot be delivered to: {reason}.", errors={"callback_url": [reason]})

    if not url.isascii() or any(ord(c) <= 0x20 or c == "\x7f" for c in url):
        raise invalid("use ASCII without spaces or control characters (percent-encode the rest)")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise invalid("the URL does not parse") from None
    if parts.scheme not in ("http", "https"):
        raise invalid("the scheme must be http or https")
    if "@" in parts.netloc:
        raise invalid("no user name or password in the URL (sign with the webhook secret instead)")
    try:
        port = parts.port
        port = (443 if parts.scheme == "https" else 80) if port is None else port
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise invalid("the port must be 1-65535")
    try:
        host = parts.hostname or ""
        if ":" in host:
            ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        host = ""
    if not (":" in host or _valid_hostname(host)):
        raise invalid("the host must be a DNS name or an IP address")
    return host, port


def _valid_hostname(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    return 0 < len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def _check_bounds(world, client_id: str, per_client: int, per_tenant: int) -> None:
    if per_client and len(world["subscriptions"].find("client_id", client_id)) >= per_client:
        raise LimitReached("subscriptions_per_client", per_client)
    if per_tenant and len(world["subscriptions"]) >= per_tenant:
        raise LimitReached("subscriptions_per_tenant", per_tenant)


def create_subscription(world, client_id: str, callback_url: str, subscribed_events: list[str],
                        description: str | None = None, secret: str | None = None,
                        per_client: int = 0, per_tenant: int = 0) -> dict:
    """Subscribe; the only answer that ever carries the `webhook_secret`. Bounds of 0 mean none."""
    events = list(dict.fromkeys(subscribed_events))  # keep the caller's order, drop repeats
    _check_event_types(events)
    check_callback_url(callback_url)
    with world.transaction():
        existing = world["subscriptions"].first("client_url", (client_id, callback_url))
        if existing is not None:
            raise DuplicateSubscription(callback_url=callback_url, subscription_id=existing["subscription_id"])
        _check_bounds(world, client_id, per_client, per_tenant)
        sequence = world.next_sequence("subscription")
        doc = world["subscriptions"].insert({
            "subscription_id": subscription_id(world, sequence),
            "client_id": client_id,
            "status": "active",
            "callback_url": callback_url,
            "subscribed_events": events,
            "description": description,
            "secret": secret or generated_secret(world, sequence),
            "created_at": clock.isoformat(clock.now(world)),
        })
    return {**public(doc), "webhook_secret": doc["secret"]}


def list_subscriptions(world, client_id: str) -> list[dict]:
    return [public(doc) for doc in world["subscriptions"].find("client_id", client_id)]


def delete_subscription(world, client_id: str, sub_id: str) -> None:
    """Unsubscribe; its pending deliveries are cancelled. Another client's subscription is simply unknown."""
    with world.transaction():
        doc = world["subscriptions"].first("subscription_id", sub_id)
        if doc is None or doc["client_id"] != client_id:
            raise SubscriptionNotFound(subscription_id=sub_id)
        world["subscriptions"].remove(doc.doc_id)
        deliveries.cancel_for_subscription(world, sub_id)


def matching_subscriptions(world, event_type: str, client_id: str | None = None) -> list[dict]:
    """Active subscriptions of this world (optionally one client's) that want `event_type`."""
    names = [event_type, *(alias for alias, types in ALIASES.items() if event_type in types)]
    found = {s["subscription_id"]: s for name in names for s in world["subscriptions"].find("event_type", name)}
    return [s for s in sorted(found.values(), key=lambda s: s.doc_id)
            if s["status"] == "active" and (client_id is None or s["client_id"] == client_id)]


def schedule_deliveries(world, event: dict) -> list[dict]:
    """The event listener's work: one pending delivery per matching subscription, in the event's transaction."""
    return deliveries.create_deliveries(world, event, matching_subscriptions(world, event["type"]))


def replay_event(world, client_id: str, event_id: str) -> dict:
    """Deliver a stored event again to the caller's active subscriptions for its type."""
    event = world["events"].first("event_id", event_id)
    if event is None:
        raise EventNotFound(event_id=event_id)
    with world.transaction():
        created = deliveries.create_deliveries(world, event, matching_subscriptions(world, event["type"], client_id),
                                               replay=True)
    return {"status": "replayed", "event_id": event["id"], "type": event["type"],
            "replayed_at": clock.isoformat(clock.now(world)), "deliveries": len(created)}

