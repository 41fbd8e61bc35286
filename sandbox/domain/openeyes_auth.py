"""OpenEyes HTTP Basic users: PBKDF2-SHA256 password hashes, verification with a bounded cache, the OprnApi role.

Hashes are stored as `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>` (Django's layout), never
plaintext. PBKDF2 is slow on purpose (~50 ms at 100,000 iterations) and Basic auth sends the password
on every request, so a load test would spend its time hashing: a successful check is remembered in
memory, keyed by sha256(username:password) and bound to the stored hash it was checked against (so a
changed hash is re-checked). Failures are never cached. No Flask.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import threading
from collections import OrderedDict

ALGORITHM = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 100_000
API_ROLE = "OprnApi"
CACHE_SIZE = 1024


def hash_password(password: str, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS) -> str:
    """A storable hash; a fresh random salt unless one is given (used to write fixtures/openeyes_users.json)."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Constant-time comparison of `password` against a stored hash; a malformed hash never matches."""
    try:
        algorithm, iterations, salt, expected = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt), int(iterations))
    except (ValueError, AttributeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


class VerifiedCache:
    """Recently verified (username, password) pairs, least recently used dropped first. Thread-safe."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, password: str) -> str:
        return hashlib.sha256(f"{username}:{password}".encode()).hexdigest()

    def holds(self, key: str, stored: str) -> bool:
        with self._lock:
            cached = self._entries.get(key)
            if cached is None:
                return False
            self._entries.move_to_end(key)
        return hmac.compare_digest(cached, stored)

    def remember(self, key: str, stored: str) -> None:
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def authenticate(world, username: str, password: str, cache: VerifiedCache) -> dict | None:
    """The user these credentials belong to, or None (unknown user and wrong password look the same)."""
    user = world["openeyes_users"].first("username", username)
    if user is None:
        check_password(password, _dummy_hash())  # same cost as a wrong password: no user enumeration by timing
        return None
    key = VerifiedCache.key(username, password)
    if cache.holds(key, user["password_hash"]):
        return user
    if not check_password(password, user["password_hash"]):
        return None
    cache.remember(key, user["password_hash"])
    return user


def may_use_api(user: dict) -> bool:
    return API_ROLE in user.get("roles", ())


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password", salt=b"\0" * 16)
