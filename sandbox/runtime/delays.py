"""How many `Prefer: delay=` requests of each tenant wait right now, bounded per tenant (429 delay_limit). No Flask."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from ..errors import LimitReached


class DelayedRequests:
    """How many `Prefer: delay=` requests of each tenant sleep right now; at most `limit` (0: no bound)."""

    def __init__(self, limit: int):
        self.limit, self._counts, self._lock = limit, {}, threading.Lock()

    def acquire(self, tenant_name: str) -> None:
        with self._lock:
            if self.limit and self._counts.get(tenant_name, 0) >= self.limit:
                raise LimitReached("delayed_requests_per_tenant", self.limit, status=429, error="delay_limit",
                                   headers={"Retry-After": "1"})
            self._counts[tenant_name] = self._counts.get(tenant_name, 0) + 1

    def release(self, tenant_name: str) -> None:
        with self._lock:
            self._counts[tenant_name] -= 1
            if not self._counts[tenant_name]:
                del self._counts[tenant_name]

    @contextmanager
    def slot(self, tenant_name: str):
        self.acquire(tenant_name)
        try:
            yield
        finally:
            self.release(tenant_name)
