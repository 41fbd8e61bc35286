"""The request journal: a bounded ring buffer of recent requests per tenant, with secrets redacted. No Flask.

In memory only, never persisted: a load test must not turn every request into a disk write, and a
journal is a debugging aid, not state a restart needs. `deque(maxlen=...)` drops the oldest entry as a
new one arrives, so memory stays flat however long the server runs.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque

DEFAULT_SIZE = 1000
BODY_LIMIT = 2048  # characters kept of each request and response body
REDACTED = "[redacted]"
SECRET_FIELDS = frozenset({"client_secret", "webhook_secret", "secret", "access_token", "password"})
_SECRET_MARKERS = tuple(name.encode() for name in ("secret", "access_token", "password"))
# `name=value` (forms, query strings) or `"name": "value"` (JSON we could not parse): hide the value.
_SECRET_TEXT = re.compile(r'((?:client_secret|webhook_secret|secret|access_token|password)"?\s*[:=]\s*"?)[^"&,}\s]*')


class RequestJournal:
    """One tenant's recent requests, newest last inside, newest first out."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.entries: deque[dict] = deque(maxlen=max(1, int(size)))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_request_id(self) -> str:
        """The server's own id of this tenant's next request (`req_000042`): a per-tenant sequence, no randomness."""
        with self._lock:
            return f"req_{next(self._ids):06d}"

    def record(self, entry: dict, entry_id: str | None = None) -> dict:
        """Append an entry under `entry_id` (the id `next_request_id` gave its request), else a new one."""
        with self._lock:
            entry = {"id": entry_id or f"req_{next(self._ids):06d}", **entry}
            self.entries.append(entry)
        return entry

    def query(self, method: str | None = None, path: str | None = None, status: int | None = None,
              client_id: str | None = None, limit: int | None = None, request_id: str | None = None) -> list[dict]:
        """Entries newest first, keeping those that match every filter given (`path` is a prefix)."""
        with self._lock:
            snapshot = list(self.entries)
        found = []
        for entry in reversed(snapshot):
            if ((method and entry["method"] != method.upper()) or (path and not entry["path"].startswith(path))
                    or (status is not None and entry["status"] != status)
                    or (client_id and entry["client_id"] != client_id)
                    or (request_id and entry.get("request_id") != request_id)):
                continue
            found.append(entry)
            if limit is not None and len(found) >= limit:
                break
        return found

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


class Journals:
    """Every tenant's journal, created on first use; all the same size."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._journals: dict[str, RequestJournal] = {}
        self._lock = threading.Lock()
        self._untenanted = itertools.count(1)

    def untenanted_request_id(self) -> str:
        """For a request refused before it had a tenant (a malformed X-Sandbox-Tenant): `req_t000001`."""
        return f"req_t{next(self._untenanted):06d}"

    def __call__(self, tenant: str) -> RequestJournal:
        journal = self._journals.get(tenant)
        if journal is None:
            with self._lock:
                journal = self._journals.setdefault(tenant, RequestJournal(self.size))
        return journal

    def drop(self, tenant: str) -> None:
        with self._lock:
            self._journals.pop(tenant, None)


def body_excerpt(raw: bytes, form: dict | None = None) -> str | None:
    """A body as journal text: secrets redacted, cut to BODY_LIMIT characters. None when empty."""
    if form:
        return _truncate(json.dumps(redact(form), ensure_ascii=False))
    if not raw:
        return None
    if any(marker in raw for marker in _SECRET_MARKERS):  # parse only when something may need hiding
        try:
            return _truncate(json.dumps(redact(json.loads(raw)), ensure_ascii=False, separators=(",", ":")))
        except ValueError:
            return _truncate(_redact_text(raw.decode("utf-8", "replace")))
    return _truncate(raw[: BODY_LIMIT * 4].decode("utf-8", "replace").strip())


def query_excerpt(query: str) -> str:
    if not any(marker.decode() in query for marker in _SECRET_MARKERS):
        return query
    return _redact_text(query)


def redact(value):
    """A copy of a JSON value with every secret-bearing field's value replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _redact_text(text: str) -> str:
    return _SECRET_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


def _truncate(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…[truncated]"
