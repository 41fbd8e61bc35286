"""A world's lock: re-entrant, with a version that lets keyed reads skip it (a seqlock). No Flask."""

from __future__ import annotations

import threading
from collections.abc import Callable


class WorldLock:
    """A world's re-entrant lock, with a version that is odd while any thread holds it (a seqlock).

    Keyed reads (`find`, `prefix`) don't take the lock: they read, then check that the version was even
    (nobody inside a transaction or reset) and is unchanged. Otherwise they read again under the lock. So a
    read still never sees half a transaction, but concurrent readers no longer queue behind each other: with
    8 server threads they spent most of their time waiting on this lock, convoying on the GIL.
    """

    def __init__(self):
        self._lock = threading.RLock()
        self._depth = 0
        self.version = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._depth += 1
        if self._depth == 1:
            self.version += 1  # before any change the holder makes
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.version += 1  # after every change the holder made
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()

    def read(self, compute: Callable[[], object]):
        """`compute()` as if under the lock, without taking it when no thread holds it."""
        version = self.version
        if not version & 1:
            try:
                result = compute()
            except Exception:  # a writer changed a dict or set under us: the retry below decides
                result = version = None
            if self.version == version:
                return result
        with self:
            return compute()
