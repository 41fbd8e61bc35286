"""What each client did, kept for grading its integration: a bounded record per (tenant, client). No Flask.

Separate from the request journal's ring on purpose: a busy tenant's journal forgets old requests, and the
integration report must still be able to cite what it judged. Each exchange keeps only what the checks
read (no bodies, no secrets), with a monotonic timestamp in milliseconds: `Retry-After` and back-off are
judged in real seconds, whatever the sandbox clock says.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

MAX_EXCHANGES = 2000  # per client and tenant; the oldest go first


@dataclass
class Exchange:
    """One request of one client, as the report's checks see it."""

    id: str  # the request journal's id (GET /sandbox/requests)
    at_ms: float  # monotonic milliseconds when the request arrived
    at: str  # the sandbox clock, for the report's window
    method: str
    path: str
    route: str  # the URL rule, e.g. /api/v1/connect/patient/<health_id>/records
    status: int
    error: str | None = None  # the envelope's `error`
    retry_after: float | None = None
    fault: bool = False  # an armed fault or a `Prefer` answered it, not the world
    jti: str | None = None  # the token the request carried
    scopes: tuple[str, ...] = ()  # that token's scopes
    required_scopes: tuple[str, ...] = ()  # what the endpoint needed
    issued: dict | None = None  # for a token request answered 200: {"jti", "exp", "scopes"}
    token_exp: float | None = None  # the carried token's expiry (sandbox seconds)
    now: float | None = None  # the sandbox clock then (seconds)
    idempotency_key: str | None = None
    body_sha256: str | None = None
    health_id: str | None = None  # the patient the request is about (path or body)
    details: dict = field(default_factory=dict)  # resolve: names, purpose, outcome, candidates; records: type


class ExchangeLog:
    """Every tenant's clients' exchanges, bounded per client; safe from any request thread."""

    def __init__(self, size: int = MAX_EXCHANGES):
        self.size = size
        self._by_tenant: dict[str, dict[str, deque[Exchange]]] = {}
        self._lock = threading.Lock()

    def record(self, tenant: str, client_id: str | None, exchange: Exchange) -> None:
        if not client_id:
            return  # nobody to grade: no token, no client credentials
        with self._lock:
            clients = self._by_tenant.setdefault(tenant, {})
            clients.setdefault(client_id, deque(maxlen=self.size)).append(exchange)

    def of(self, tenant: str, client_id: str) -> list[Exchange]:
        with self._lock:
            return list(self._by_tenant.get(tenant, {}).get(client_id, ()))

    def busiest(self, tenant: str) -> str | None:
        """The client with the most exchanges; ties broken by name."""
        with self._lock:
            counts = {client: len(found) for client, found in self._by_tenant.get(tenant, {}).items() if found}
        return min(counts, key=lambda client: (-counts[client], client)) if counts else None

    def forget(self, tenant: str) -> None:
        with self._lock:
            self._by_tenant.pop(tenant, None)
