"""The certification run: make every check of the integration report exercisable against an unchanged client.

It adds no mechanism of its own: it arms the faults issue's faults (one 429, one 503 on any Connect call of
the client, one consent refusal on its next records read), marks the client's current token expired (nothing
else on the clock moves), and sends signature probes to its subscriptions through the adversarial-delivery
setting (a copy of its latest event signed wrongly, one with a stale timestamp, and the real one). Then the
client runs as it always does, and GET /sandbox/report judges it. No Flask.
"""

from __future__ import annotations

from ..domain import chaos, deliveries, tokens
from ..errors import NotFound
from .exchanges import ExchangeLog
from .faults import FaultBoard

ANY_CONNECT_CALL = "/api/v1/connect/**"
RECORDS = "/api/v1/connect/patient/*/records"
PROBING = {"bad_signature_every": 1, "stale_timestamp_every": 1}


def certify(board: FaultBoard, log: ExchangeLog, world, tenant: str, client_id: str | None, now: str) -> dict:
    """Arm everything for `client_id` (default: the busiest client of the tenant); what was armed."""
    client_id = client_id or log.busiest(tenant)
    if client_id is None or world["clients"].first("client_id", client_id) is None:
        raise NotFound(f"No client {client_id!r} in this tenant: run your client once first, or name it.")
    mine = {"client_id": client_id, "times": 1, "method": "*"}
    faults = [board.arm(tenant, {**mine, "path": ANY_CONNECT_CALL, "status": 429}, now),
              board.arm(tenant, {**mine, "path": ANY_CONNECT_CALL, "status": 503}, now),
              board.arm(tenant, {**mine, "method": "GET", "path": RECORDS, "status": 403, "error": "consent_required"},
                        now)]
    return {"client_id": client_id, "faults": [fault.to_dict() for fault in faults],
            "expired_token": _expire_current_token(log, world, tenant, client_id),
            "probes": probe_subscriptions(world, client_id)}


def _expire_current_token(log: ExchangeLog, world, tenant: str, client_id: str) -> str | None:
    issued = [x.issued["jti"] for x in log.of(tenant, client_id) if x.issued and x.issued.get("jti")]
    if not issued:
        return None
    tokens.mark_expired(world, issued[-1])
    return issued[-1]


def probe_subscriptions(world, client_id: str) -> list[dict]:
    """Replay the client's latest event to each of its subscriptions with probing on: a probe signed with a wrong
    key, one with a stale timestamp, and the real delivery. The subscription's own chaos setting is put back."""
    sent = []
    for sub in [s for s in world["subscriptions"].find("client_id", client_id) if s["status"] == "active"]:
        event = _latest_event(world, sub)
        if event is None:
            continue
        before = {k: v for k, v in (sub.get("chaos") or chaos.OFF).items() if k in chaos.SETTINGS}
        chaos.set_chaos(world, sub["subscription_id"], PROBING)
        try:
            with world.transaction():
                created = deliveries.create_deliveries(world, event, [world["subscriptions"].get(sub.doc_id)],
                                                       replay=True)
        finally:
            chaos.set_chaos(world, sub["subscription_id"], before)
        sent.append({"subscription_id": sub["subscription_id"], "event_id": event["id"],
                     "delivery_ids": [d["delivery_id"] for d in created]})
    return sent


def _latest_event(world, sub: dict) -> dict | None:
    wanted = set(sub.get("subscribed_events") or ())
    events = [e for e in world["events"].all() if e["type"] in wanted]
    return max(events, key=lambda e: e.doc_id) if events else None
