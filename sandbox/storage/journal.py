"""The request journal: a bounded ring buffer of recent requests per tenant, with secrets redacted. No Flask.

In memory only, never persisted: a load test must not turn every request into a disk write, and a
journal is a debugging aid, not state a restart needs. `deque(maxlen=...)` drops the oldest entry as a
new one arrives, so memory stays flat however long the server runs.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import threading
import unicodedata
from collections import deque
from urllib.parse import unquote_plus

DEFAULT_SIZE = 1000
BODY_LIMIT = 2048  # characters kept of each request and response body
REDACTED = "[redacted]"
# A key is secret-bearing if, folded (NFKC, casefold, letters and digits only), it contains one of these:
# `Client-Secret`, `clientSecret`, `ＳＥＣＲＥＴ` and (once parsed) `s\u0065cret` all are.
SECRET_WORDS = ("secret", "password", "passwd", "token", "authorization", "credential", "apikey")
# `name=value` pairs inside a text (a query string, a URL in a JSON value) are split at these characters:
# one pass, no backtracking, so a 200 KB query costs what its length costs.
_PAIR_SEPARATORS = re.compile(r"([&?#\s\"';,])")
PARSE_LIMIT = 256 * 1024  # bytes: a larger body is not parsed for an excerpt (the excerpt keeps 2 KB anyway)
ENTRY_OVERHEAD = 200  # bytes counted per entry besides its texts (ids, method, status, timings)


NOT_SECRET = frozenset({"tokentype"})  # "Bearer": hiding it only makes token responses harder to read


@functools.lru_cache(maxsize=4096)  # the same few dozen keys in every body: fold each once
def is_secret_key(key) -> bool:
    folded = "".join(c for c in unicodedata.normalize("NFKC", str(key)).casefold() if c.isalnum())
    return folded not in NOT_SECRET and any(word in folded for word in SECRET_WORDS)


class RequestJournal:
    """One tenant's recent requests, newest last inside, newest first out."""

    def __init__(self, size: int = DEFAULT_SIZE, max_bytes: int = 0):
        self.entries: deque[dict] = deque(maxlen=max(1, int(size)))
        self.max_bytes, self.bytes = int(max_bytes or 0), 0  # 0: bounded by the entry count only
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
            if self.max_bytes:
                if len(self.entries) == self.entries.maxlen:
                    self.bytes -= _weight(self.entries[0])
                self.bytes += _weight(entry)
            self.entries.append(entry)
            while self.max_bytes and self.bytes > self.max_bytes and len(self.entries) > 1:
                self.bytes -= _weight(self.entries.popleft())
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
            self.bytes = 0

    def __len__(self) -> int:
        return len(self.entries)


class Journals:
    """Every tenant's journal, created on first use; all the same size."""

    def __init__(self, size: int = DEFAULT_SIZE, max_bytes: int = 0):
        self.size, self.max_bytes = size, max_bytes
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
                journal = self._journals.setdefault(tenant, RequestJournal(self.size, self.max_bytes))
        return journal

    def drop(self, tenant: str) -> None:
        with self._lock:
            self._journals.pop(tenant, None)


def _weight(entry: dict) -> int:
    return ENTRY_OVERHEAD + sum(len(entry.get(k) or "") for k in ("path", "query", "request_body", "response_body"))


def body_excerpt(raw: bytes, form: dict | None = None, ours: bool = False) -> str | None:
    """A body as journal text: parsed, secrets redacted, cut to BODY_LIMIT characters. None when empty.

    Redaction works on the parsed body, never on its bytes: `"s\\u0065cret"` is `secret` only once parsed.
    A body that does not parse as JSON keeps no excerpt at all: there is nothing to redact it by.
    `ours`: a response the sandbox serialised itself (always JSON, keys spelled plainly); when its bytes
    are plain ASCII with no escape, no secret word, and no percent sign where there is a `=`, there is
    nothing to parse for.
    """
    if form:
        return _truncate(json.dumps(redact(form), ensure_ascii=False))
    if not raw:
        return None
    if ours and raw.isascii() and b"\\" not in raw and not _has_marker(raw) and (b"=" not in raw or b"%" not in raw):
        # A percent sign matters only in a `name=value` text (its name is percent-decoded before the check):
        # records and stock levels say "98%" often, and parsing them to find nothing was a seventh of a read.
        return _truncate(raw[: BODY_LIMIT * 4].decode("ascii").strip())
    if len(raw) > PARSE_LIMIT:
        return f"[body of {len(raw)} bytes: not kept]"
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return f"[unparsed body: {len(raw)} bytes]"
    changed: list = []
    hidden = redact(parsed, changed)
    if not changed:  # nothing to hide: the caller's own bytes, as sent
        return _truncate(raw[: BODY_LIMIT * 4].decode("utf-8", "replace").strip())
    return _truncate(json.dumps(hidden, ensure_ascii=False, separators=(",", ":")))


_MARKERS = (b"secret", b"passw", b"token", b"authoriz", b"credential", b"apikey", b"api_key", b"api-key")


def _has_marker(raw: bytes) -> bool:
    lowered = raw.lower()
    return any(marker in lowered for marker in _MARKERS)


def query_excerpt(query: str) -> str:
    """The query string with the value of every secret-bearing parameter (however encoded) replaced."""
    return _redact_text(query) if query else query


def redact(value, changed: list | None = None):
    """A copy of a JSON value with every secret-bearing field's value replaced, and secrets in texts hidden.
    Something is appended to `changed` (when given) for every replacement."""
    changed = [] if changed is None else changed
    if isinstance(value, dict):
        copy = {}
        for k, v in value.items():
            if is_secret_key(k):
                copy[k] = REDACTED
                changed.append(k)
            else:
                copy[k] = redact(v, changed)
        return copy
    if isinstance(value, list):
        return [redact(v, changed) for v in value]
    if isinstance(value, str) and "=" in value:
        hidden = _redact_text(value)
        if hidden != value:
            changed.append(value)
        return hidden
    return value


def redact_url(url: str) -> str:
    """A URL for logs: secret-bearing query parameters hidden."""
    base, sep, query = url.partition("?")
    return base + sep + query_excerpt(query) if sep else url


def _redact_text(text: str) -> str:
    if "=" not in text:
        return text
    parts = _PAIR_SEPARATORS.split(text)
    for i, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if equals and is_secret_key(unquote_plus(name)):
            parts[i] = f"{name}={REDACTED}"
    return "".join(parts)


def _truncate(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…[truncated]"
