"""The write journal's lines and the rule for reading them: a torn last record is cut off, anything else is damage. No Flask.

A line is `<crc32 as 8 hex digits> <JSON>\\n`; the first is the header `{"generation": n}`, every later one
a transaction `[[table, doc_id, doc-or-null], ...]`. The checksum is why a flipped byte inside a document
is caught rather than loaded as a different value. Journals written before checksums (no hex prefix on the
header) are still read, without checks, and are rewritten in the new form at once (`Scan.legacy`).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field

from .docbytes import dumps

_CHECKED = re.compile(rb"[0-9a-f]{8} ")
PREFIX = 9  # 8 hex digits and a space


def encode(record) -> bytes:
    return line(dumps(record))


def line(body: bytes) -> bytes:
    """A journal line around `body`, a record's JSON (see storage/docbytes.py)."""
    return b"%08x " % zlib.crc32(body) + body + b"\n"


@dataclass
class Scan:
    """What a journal's bytes hold, read up to the first problem."""

    generation: int | None = None  # from the header; None: no header (a journal from before generations)
    legacy: bool = False  # lines without checksums
    changes: list = field(default_factory=list)
    records: int = 0  # transaction lines read
    good_end: int = 0  # bytes up to the end of the last complete, readable line
    size: int = 0
    torn: str | None = None  # why the tail after good_end is a torn last record, to be cut off
    damage: tuple[int, int, str] | None = None  # (line number, its byte offset, reason): a bad line that is not the last


def scan(data: bytes) -> Scan:
    result = Scan(size=len(data))
    if not data:
        return result
    result.legacy = not _CHECKED.match(data)
    offset, number = 0, 0
    while offset < len(data):
        number += 1
        end = data.find(b"\n", offset)
        if end < 0:  # no newline: the write that a crash cut short (it was never acknowledged)
            result.torn = f"line {number} has no end ({len(data) - offset} bytes)"
            return result
        problem = _read_line(data[offset:end], number, result)
        if problem is not None:
            if end + 1 == len(data):  # the last line: a crash's leftover, e.g. zeros after a power loss
                result.torn = f"line {number} is unreadable ({problem})"
            else:
                result.damage = (number, offset, problem)
            return result
        offset = result.good_end = end + 1
    return result


def _read_line(line: bytes, number: int, result: Scan) -> str | None:
    """Add the line's record to `result`; or say why it cannot be read."""
    if result.legacy:
        body = line
    else:
        if not _CHECKED.match(line):
            return "no checksum"
        body = line[PREFIX:]
        if zlib.crc32(body) != int(line[:8], 16):
            return "checksum mismatch"
    try:
        record = json.loads(body)
    except ValueError:
        return "not JSON"
    if number == 1 and isinstance(record, dict):
        generation = record.get("generation")
        if not isinstance(generation, int) or isinstance(generation, bool) or set(record) != {"generation"}:
            return "not a journal header"
        result.generation = generation
        return None
    if not _is_transaction(record):
        return "not a transaction"
    result.records += 1
    result.changes.extend(record)
    return None


def _is_transaction(record) -> bool:
    return isinstance(record, list) and all(
        isinstance(change, list) and len(change) == 3 and isinstance(change[0], str)
        and isinstance(change[1], int) and (change[2] is None or isinstance(change[2], dict))
        for change in record)
