"""Claimed webhook deliveries waiting for a worker, queued per tenant and served in turn. No Flask, no lock of its own.

The dispatcher calls every method under its lock. Tenants take turns, and one tenant has at most
`per_tenant` items out at once: a tenant whose receivers never answer holds only its share of the workers.
"""

from __future__ import annotations

from collections import deque


class FairQueue:
    def __init__(self, per_tenant: int, size: int):
        self.per_tenant, self.size = max(1, per_tenant), size  # size: items queued per tenant
        self._queues: dict[str, deque] = {}
        self._turns: deque[str] = deque()  # tenants with queued items, in the order they are served
        self._busy: dict[str, int] = {}  # tenant -> items taken and not yet done

    def put(self, tenant: str, item) -> bool:
        """Queue `item`; False when the tenant's queue is full."""
        items = self._queues.setdefault(tenant, deque())
        if len(items) >= self.size:
            return False
        items.append(item)
        if tenant not in self._turns:
            self._turns.append(tenant)
        return True

    def next(self) -> tuple[str, object] | None:
        """The first tenant in turn with an item and a free share gives one; it goes to the back of the turns."""
        for _ in range(len(self._turns)):
            tenant = self._turns.popleft()
            items = self._queues.get(tenant)
            if not items:
                self._queues.pop(tenant, None)
                continue
            self._turns.append(tenant)
            if self._busy.get(tenant, 0) >= self.per_tenant:
                continue
            self._busy[tenant] = self._busy.get(tenant, 0) + 1
            return tenant, items.popleft()
        return None

    def done(self, tenant: str) -> None:
        """An item `next` gave is finished: the tenant's share frees up."""
        left = self._busy.get(tenant, 0) - 1
        if left > 0:
            self._busy[tenant] = left
        else:
            self._busy.pop(tenant, None)

    def take(self, tenant: str) -> list:
        """Remove and return every queued item of the tenant (they were never given out)."""
        if tenant in self._turns:
            self._turns.remove(tenant)
        return list(self._queues.pop(tenant, ()))

    def drain(self) -> dict[str, list]:
        """Remove every queued item: {tenant: items}."""
        drained = {tenant: list(items) for tenant, items in self._queues.items()}
        self._queues.clear()
        self._turns.clear()
        return drained

    def __bool__(self) -> bool:
        return any(self._queues.values())
