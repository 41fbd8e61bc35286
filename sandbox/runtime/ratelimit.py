"""Per-client rate limiting over a rolling window: a deque of request times per key. No Flask.

The window runs on REAL monotonic time, not the sandbox clock: the limit imitates production's
protection of the server, which does not care what time a tenant pretends it is. Driving it from the
sandbox clock would let `POST /sandbox/clock` back-dating lock a client out for hours, and jumping it
forward would silently empty every window. Tests replace `RateLimiter.clock` instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds (>= 1) until a request would pass; 0 when allowed


class RateLimiter:
    """At most `limit` requests per `window` seconds for each key; refused requests do not count."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit, self.window, self.clock = int(limit), float(window), clock
        self._hits: dict[Hashable, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> Decision:
        """Count one request for `key` if it fits in the window; O(1) amortised."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque(maxlen=self.limit)
            self._expire(hits, now)
            if len(hits) >= self.limit:
                wait = hits[0] + self.window - now
                return Decision(False, self.limit, 0, max(1, math.ceil(wait)))
            hits.append(now)
            return Decision(True, self.limit, self.limit - len(hits), 0)

    def peek(self, key: Hashable) -> int:
        """Requests `key` may still make in the current window (nothing is counted)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return self.limit
            self._expire(hits, self.clock())
            return self.limit - len(hits)

    def forget(self, predicate: Callable[[Hashable], bool]) -> None:
        """Drop the windows of every key matching `predicate` (a dropped tenant's clients)."""
        with self._lock:
            for key in [k for k in self._hits if predicate(k)]:
                del self._hits[key]

    def _expire(self, hits: deque, now: float) -> None:
        horizon = now - self.window
        while hits and hits[0] <= horizon:
            hits.popleft()
