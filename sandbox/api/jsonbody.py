"""The one JSON reader for request bodies: refuses what would crash the sandbox later, as invalid JSON (400).

- Nesting deeper than MAX_DEPTH: `json.loads` itself raises RecursionError near 1,000 levels (a 500),
  and a document a few hundred levels deep parses but cannot be written back (the world export and the
  journal re-encode it recursively).
- Lone UTF-16 surrogates (`"\\ud800"`): legal JSON escapes, but not encodable as UTF-8, so the first
  journal write or response containing one fails.
"""

from __future__ import annotations

import json
import re

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def safe_loads(text: str | bytes, **kwargs):
    """`json.loads`, raising `json.JSONDecodeError` (a ValueError) for the cases above too."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"Bytes decoding error: {exc.reason}", "<bytes>", exc.start) from None
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", text, 0) from None
    if (text.count("[") + text.count("{")) > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise json.JSONDecodeError(f"JSON nested deeper than {MAX_DEPTH} levels", text, 0)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise json.JSONDecodeError("Lone UTF-16 surrogate in a string", text, 0) from None
    return value


def _depth_exceeds(value, limit: int) -> bool:
    """Iterative (a recursive walk would hit the recursion limit this guards against)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with `safe_loads`: `request.get_json()` gets the same protection."""

    def loads(self, s, **kwargs):
        return safe_loads(s, **kwargs)
