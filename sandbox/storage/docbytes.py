"""Each overlay document's JSON, serialised once: for its journal line and for every compaction after. No Flask.

A compaction rewrites the whole overlay, and serialising every document again was most of its cost (a
third of a disk-backed write mix's CPU, and the stall a compaction puts on its world grew with the overlay).
Documents are immutable (a write replaces a document, never edits it: `storage/store.py`), so the bytes
the journal line already made for a document stay right for as long as that very object is the one in the
table: the cache checks identity, not just the id. JSON is compositional (an object's text inside a larger
value is its text alone, with the same separators), so the lines and files built from cached pieces are
byte for byte what `json.dumps` of the whole gives; tests/test_docbytes.py compares them. `dumps` is the one
JSON form of every tenant file (journal lines, overlays).

Memory: one bytes object per overlay document, about the size of the overlay file per disk-backed tenant. A
removal drops its entry; entries a reset or a replacement left behind are pruned at a compaction once they
outnumber the overlay's documents.
"""

from __future__ import annotations

import json


def dumps(value) -> bytes:
    """The one JSON form of the files: compact separators, UTF-8, in key order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class DocumentBytes:
    """(table, doc id) -> (the document object, its JSON)."""

    def __init__(self):
        self._known: dict[tuple[str, int], tuple[dict, bytes]] = {}

    def of(self, table: str, doc_id: int, doc: dict | None) -> bytes:
        if doc is None:
            self._known.pop((table, doc_id), None)
            return b"null"
        key = (table, doc_id)
        known = self._known.get(key)
        if known is not None and known[0] is doc:
            return known[1]
        raw = dumps(doc)
        self._known[key] = (doc, raw)
        return raw

    def transaction(self, changes: list) -> bytes:
        """`dumps(changes)` for a journal line: `[[table, doc_id, doc-or-null], ...]`."""
        return b"[" + b",".join(b"[%s,%d,%s]" % (dumps(table), doc_id, self.of(table, doc_id, doc))
                                for table, doc_id, doc in changes) + b"]"

    def overlay(self, state: dict) -> list[bytes]:
        """`dumps(persistence.state_data(state))` in pieces (their concatenation): every document's cached
        JSON. A compaction runs with its world locked, so this is one comprehension per table (~0.6 µs a
        cached document), and the pieces are checksummed and written as they are, never joined (copying
        megabytes twice was a third of it)."""
        known, fresh = self._known, {}
        tables, parts = {}, []
        for i, (name, table) in enumerate(sorted(state.items()), start=1):
            tables[str(i)] = {"table": name, "removed": table["removed"], "next_id": table["next_id"]}
            docs = b",".join([b'"%d":%s' % (doc_id, hit[1] if (hit := known.get((name, doc_id))) is not None
                                            and hit[0] is doc else self._miss(fresh, name, doc_id, doc))
                              for doc_id, doc in table["docs"].items()])
            parts += [b",%s:{" % dumps(name), docs, b"}"]
        known.update(fresh)
        if len(known) > 2 * sum(len(table["docs"]) for table in state.values()) + 1024:
            self._prune(state)  # documents a reset or a removal left behind
        return [b'{"_tables":' + dumps(tables), *parts, b"}"]

    @staticmethod
    def _miss(fresh: dict, table: str, doc_id: int, doc: dict) -> bytes:
        """A document no journal line carried since the files were read (loaded from the overlay)."""
        raw = dumps(doc)
        fresh[(table, doc_id)] = (doc, raw)
        return raw

    def _prune(self, state: dict) -> None:
        kept = {}
        for name, table in state.items():
            for doc_id, doc in table["docs"].items():
                hit = self._known.get((name, doc_id))
                if hit is not None and hit[0] is doc:
                    kept[(name, doc_id)] = hit
        self._known = kept

    def clear(self) -> None:
        self._known.clear()
