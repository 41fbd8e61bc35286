"""`Prefer: code=<status>` / `Prefer: delay=<ms>` (and `?__sandbox_prefer=`): parsing and checking. No Flask.

Preferences follow RFC 7240: comma-separated `name=value` tokens, several `Prefer` headers allowed;
preferences the sandbox does not know (`return=minimal`, `respond-async`, ...) are ignored as the RFC
asks. A known preference with a bad value is the caller's mistake and fails loudly (400).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidRequest, SandboxError, for_status

QUERY_PARAMETER = "__sandbox_prefer"
DEFAULT_MAX_DELAY_MS = 10_000


@dataclass(frozen=True)
class Preferences:
    code: int | None = None
    delay_ms: int = 0

    @property
    def empty(self) -> bool:
        return self.code is None and not self.delay_ms


def parse(values: list[str], max_delay_ms: int = DEFAULT_MAX_DELAY_MS) -> Preferences:
    """Preferences from raw header/query values; raises InvalidRequest for a bad `code` or `delay`."""
    found: dict[str, str] = {}
    for value in values:
        for token in value.split(","):
            name, _, raw = token.strip().partition("=")
            name = name.strip().lower()
            if name in ("code", "delay"):
                found[name] = raw.strip().strip('"')
    return Preferences(code=_code(found["code"]) if "code" in found else None,
                       delay_ms=_delay(found["delay"], max_delay_ms) if "delay" in found else 0)


def _digits(raw: str, most: int) -> bool:
    """ASCII digits only, and not absurdly many: `str.isdigit` is True for "²" and "٣", which `int()` refuses."""
    return raw.isascii() and raw.isdigit() and len(raw) <= most


def _code(raw: str) -> int:
    if not _digits(raw, 3) or not 400 <= int(raw) <= 599:
        raise InvalidRequest("Prefer: code= takes an HTTP error status, 400-599.",
                             errors={"Prefer": [f"code={raw!r} is not an error status between 400 and 599."]})
    return int(raw)


def _delay(raw: str, max_delay_ms: int) -> int:
    if not _digits(raw, 12) or int(raw) > max_delay_ms:
        message = f"delay={raw!r} is not a number of milliseconds between 0 and {max_delay_ms}."
        raise InvalidRequest(f"Prefer: delay= takes whole milliseconds, 0-{max_delay_ms}.", errors={"Prefer": [message]})
    return int(raw)


# Statuses whose documented response tells the client when to come back.
RETRY_AFTER_SECONDS = {429: 1, 503: 1}


def simulated_error(code: int) -> SandboxError:
    """The documented error for `code` in the envelope, with `Retry-After` where the status calls for one."""
    retry_after = RETRY_AFTER_SECONDS.get(code)
    if retry_after is None:
        return for_status(code)
    return for_status(code, headers={"Retry-After": str(retry_after)}, retry_after=retry_after)
