"""The public profile's bounds on tenants and world sizes (docs/hosted.md). No Flask.

A new tenant name creates a world; at the cap, tenants idle past their TTL make room, and when none is
idle the newcomer gets 429 `tenant_limit`. The admission holds a lock only while it counts and opens the
world (from the shared, already built template), so it never waits on another tenant's work.
"""

from __future__ import annotations

import threading

from ..errors import LimitReached
from ..storage.worlds import DEFAULT_TENANT, WorldStore


class TenantAdmission:
    """`admit(name)` before a request of `name` starts: a known tenant passes; a new one needs room."""

    def __init__(self, store: WorldStore, cap: int, ttl: float):
        self.store, self.cap, self.ttl = store, int(cap), float(ttl)
        self._lock = threading.Lock()

    def admit(self, name: str) -> None:
        if not self.cap or self.store.known(name):
            return
        with self._lock:
            if self.store.known(name):
                return
            if len(self.store.tenants()) >= self.cap and self.ttl > 0:
                self.store.expire_idle(self.ttl, keep=(DEFAULT_TENANT,))
            if len(self.store.tenants()) >= self.cap:
                raise LimitReached("tenants", self.cap, status=429, error="tenant_limit",
                                   message=f"This server holds at most {self.cap} tenants and none is idle; "
                                           "try again later.", headers={"Retry-After": "60"})
            self.store.world(name)


def check_patients(requested: int | None, cap: int) -> None:
    """A reset may not build a world larger than the cap (0: no cap)."""
    if cap and requested is not None and requested > cap:
        raise LimitReached("patients", cap, message=f"A world holds at most {cap} patients on this server.")

