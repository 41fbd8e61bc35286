"""Signing-secret rotation: a new secret now, the old one still signing alongside it for a grace window. No Flask.

During the window every delivery's `X-OpesCare-Signature` carries two `v1=` values (new first, then old),
the pattern Stripe and Standard Webhooks use: a receiver that accepts any matching `v1` keeps working while
it switches secrets. The window runs on the sandbox clock, so a test advances the clock to end it.
"""

from __future__ import annotations

import hashlib

from ..errors import SubscriptionNotFound
from . import audit, clock

DEFAULT_GRACE_SECONDS = 24 * 3600
SECRET_PREFIX = "whsec_"


def rotate_secret(world, subscription_id: str, grace_seconds: int = DEFAULT_GRACE_SECONDS) -> dict:
    """Issue a new secret for the subscription (any client's: this is a sandbox control); the answer carries it."""
    with world.transaction():
        sub = world["subscriptions"].first("subscription_id", subscription_id)
        if sub is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        sequence = world.next_sequence("secret_rotation")
        digest = hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:secret-rotation:{sequence}".encode()).hexdigest()
        now = clock.now_ts(world)
        new_secret = f"{SECRET_PREFIX}{digest[:32]}"
        sub = world["subscriptions"].update(sub.doc_id, {
            "secret": new_secret, "previous_secret": sub["secret"], "rotated_at": now,
            "previous_secret_expires_at": now + grace_seconds})
        audit.record(world, "webhook.rotate_secret", sub["client_id"], "rotated", subscription_id=subscription_id,
                     grace_seconds=grace_seconds)
    return {"subscription_id": subscription_id, "webhook_secret": new_secret,
            "rotated_at": clock.isoformat(clock.from_ts(now)),
            "previous_secret_expires_at": clock.isoformat(clock.from_ts(now + grace_seconds))}


def signing_secrets(world, sub: dict, key: str) -> str | tuple[str, str]:
    """What signs a delivery now: `key` alone, or (new, old) while the rotation's grace window is open.

    `key` is the subscription's secret, unless the bad-signature scenario swapped in a wrong key: that stays alone.
    """
    expires = sub.get("previous_secret_expires_at")
    if key != sub["secret"] or not sub.get("previous_secret") or expires is None or clock.now_ts(world) >= expires:
        return key
    return (key, sub["previous_secret"])
