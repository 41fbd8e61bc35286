"""Failed-login throttling (public profile): at most `limit` failures per client_id or user per window. No Flask.

Per-source limits belong to the proxy in front (HAProxy); this bounds guessing one account's secret,
whatever the number of sources. Real monotonic time, like the rate limiter.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from ..errors import LoginThrottled

MAX_KEYS = 10_000  # distinct accounts remembered; the oldest are forgotten first


class LoginThrottle:
    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = int(limit), float(window), clock
        self._failures: dict[Hashable, deque] = {}
        self._lock = threading.Lock()

    def check(self, key: Hashable) -> None:
        """Raise LoginThrottled (429, Retry-After) while `key` has used up its failures."""
        now = self.clock()
        with self._lock:
            failures = self._failures.get(key)
            while failures and now - failures[0] >= self.window:
                failures.popleft()
            if not failures or len(failures) < self.limit:
                return
            retry_after = max(1, math.ceil(self.window - (now - failures[0])))
        raise LoginThrottled(headers={"Retry-After": str(retry_after)}, retry_after=retry_after,
                             limit="login_failures_per_minute", limit_value=self.limit)

    def fail(self, key: Hashable) -> None:
        with self._lock:
            if key not in self._failures and len(self._failures) >= MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(key, deque(maxlen=self.limit)).append(self.clock())
