"""Table indexes: key functions, hash indexes and sorted (prefix) indexes over documents by id. No Flask."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

from tinydb.table import Document

KeyFunc = Callable[[dict], object]


def field(name: str) -> KeyFunc:
    return lambda doc: doc.get(name)


def lowered(name: str) -> KeyFunc:
    return lambda doc: (doc.get(name) or "").strip().lower() or None


def fields(*names: str) -> KeyFunc:
    return lambda doc: tuple(doc.get(n) for n in names)


class HashIndex:
    """value -> doc ids. A key function may return None (not indexed) or a list (one entry each).

    Most keys are unique (a Health ID, a hospital number), so a bucket of one id is stored as the bare
    int: a one-element set costs ~200 bytes, 40 MB per index at 100,000 documents.
    """

    def __init__(self, key: KeyFunc):
        self.key = key
        self.ids: dict[object, int | set[int]] = {}

    def _values(self, doc: dict) -> Iterable:
        value = self.key(doc)
        if value is None:
            return ()
        return value if isinstance(value, list) else (value,)

    def _put(self, value, doc_id: int) -> None:
        bucket = self.ids.get(value)
        if bucket is None:
            self.ids[value] = doc_id
        elif type(bucket) is int:
            if bucket != doc_id:
                self.ids[value] = {bucket, doc_id}
        else:
            bucket.add(doc_id)

    def add(self, doc_id: int, doc: dict) -> None:
        for value in self._values(doc):
            self._put(value, doc_id)

    def add_many(self, docs: list[Document]) -> None:
        """`add` for many documents at once (a template being loaded): the same result, in one tight loop."""
        key, put = self.key, self._put
        for doc in docs:
            value = key(doc)
            if value is None:
                continue
            if isinstance(value, list):
                for one in value:
                    put(one, doc.doc_id)
            else:
                put(value, doc.doc_id)

    def discard(self, doc_id: int, doc: dict) -> None:
        for value in self._values(doc):
            bucket = self.ids.get(value)
            if bucket is None:
                continue
            if type(bucket) is int:
                if bucket == doc_id:
                    del self.ids[value]
                continue
            bucket.discard(doc_id)
            if len(bucket) == 1:
                self.ids[value] = next(iter(bucket))
            elif not bucket:
                del self.ids[value]

    def get(self, value) -> set[int]:
        bucket = self.ids.get(value)
        if bucket is None:
            return set()
        return {bucket} if type(bucket) is int else bucket


class SortedIndex(HashIndex):
    """A hash index that also answers string-prefix queries (keys kept sorted, rebuilt lazily)."""

    def __init__(self, key: KeyFunc):
        super().__init__(key)
        self._sorted: list | None = None

    def add(self, doc_id, doc):
        super().add(doc_id, doc)
        self._sorted = None

    def add_many(self, docs):
        super().add_many(docs)
        self._sorted = None

    def discard(self, doc_id, doc):
        super().discard(doc_id, doc)
        self._sorted = None

    def prefix(self, prefix: str) -> set[int]:
        if self._sorted is None:
            self._sorted = sorted(self.ids)
        keys, found = self._sorted, set()
        i = bisect.bisect_left(keys, prefix)
        while i < len(keys) and keys[i].startswith(prefix):
            bucket = self.ids[keys[i]]
            if type(bucket) is int:
                found.add(bucket)
            else:
                found |= bucket
            i += 1
        return found
