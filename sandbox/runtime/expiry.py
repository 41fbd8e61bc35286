"""Idle-tenant expiry: drop tenants unused for a TTL, checked at most every few seconds. No Flask.

The sweep runs from a before-request hook rather than a timer thread: it costs one clock read per
request, needs no thread per app (tests build hundreds), and a server with no traffic has nothing
to clean up urgently. `default` never expires: it is the tenant of every README example and of a
developer who left the server running overnight.
"""

from __future__ import annotations

import threading

from ..storage.worlds import DEFAULT_TENANT, WorldStore

MAX_SWEEP_INTERVAL = 30.0


class IdleSweeper:
    """Calls `store.expire_idle(ttl)` when at least `interval` seconds passed since the last sweep."""

    def __init__(self, store: WorldStore, ttl: float, interval: float | None = None):
        self.store, self.ttl = store, float(ttl)
        self.interval = min(MAX_SWEEP_INTERVAL, self.ttl / 2) if interval is None else float(interval)
        self._last = store.monotonic()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def maybe_sweep(self) -> list[str]:
        if not self.enabled or self.store.monotonic() - self._last < self.interval:
            return []
        if not self._lock.acquire(blocking=False):  # another thread is sweeping: don't queue behind it
            return []
        try:
            self._last = self.store.monotonic()
            return self.store.expire_idle(self.ttl, keep=(DEFAULT_TENANT,))
        finally:
            self._lock.release()
