"""World storage: TinyDB documents held in memory with indexes, copy-on-write over a shared template. No Flask.

Why not TinyDB's Table API for every call: it re-reads and rewrites the whole table on each write and
scans on each query (about 27 ms a lookup and 35-340 ms an insert at 100,000 documents). Here:

- A `Table` keeps `tinydb.table.Document`s in a dict by doc id, with hash or sorted indexes, so a
  lookup by key never scans. A tenant's table is an *overlay* on the template world's table: it holds
  only the documents the tenant changed, added or removed. Building or resetting a tenant is O(1).
- Documents are immutable by convention: writes replace a document, never edit it in place, because
  template documents are shared by every tenant.
- `World.transaction()` groups writes: all of them or none (an exception rolls back in memory), then
  one journal line per transaction.
- Persistence (`sandbox/persistence.py`) writes that line to an append-only journal before the write
  is acknowledged, and compacts it into a TinyDB JSON file (atomic temp + fsync + rename).
- The indexes are in `sandbox/indexes.py`; the world lock (`sandbox/worldlock.py`) lets keyed reads skip
  it while no thread holds it, and makes them read again under it when one did.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tinydb.table import Document

from .indexes import HashIndex, KeyFunc, SortedIndex, field, fields, lowered  # noqa: F401 (tables.py imports these here)
from .worldlock import WorldLock


class Table:
    """A TinyDB-shaped table (Documents with integer ids) with indexes, optionally overlaid on a base table."""

    def __init__(self, name: str, indexes: dict[str, HashIndex] | None, world: World, base: Table | None = None):
        self.name = name
        self.world = world
        self.base = base
        self.docs: dict[int, Document] = {}
        self.removed: set[int] = set()
        self.indexes = indexes or {}
        self.next_id = (base.next_id if base else 1)

    # -- reads ---------------------------------------------------------------------------------
    def get(self, doc_id: int) -> Document | None:
        doc = self.docs.get(doc_id)
        if doc is not None or self.base is None or doc_id in self.removed:
            return doc
        return self.base.get(doc_id)

    def _ids(self, index: str, lookup: Callable[[HashIndex], set[int]]) -> set[int]:
        ids = set(lookup(self.indexes[index]))
        if self.base is not None:
            # Base ids this overlay changed or removed are answered by the overlay's own index (or not at all).
            docs, removed = self.docs, self.removed
            ids.update(i for i in lookup(self.base.indexes[index]) if i not in docs and i not in removed)
        return ids

    def find(self, index: str, value) -> list[Document]:
        """Documents whose index key equals `value`, in id order."""
        return self.world.lock.read(lambda: self._find(index, value))

    def _find(self, index: str, value) -> list[Document]:
        own = self.indexes[index].ids.get(value)
        base = None if self.base is None else self.base.indexes[index].ids.get(value)
        if base is None:  # the common cases first: a key only this table (or only the template) holds, once
            if type(own) is int:
                return [self.docs[own]]
            if own is None:
                return []
        elif own is None and type(base) is int:
            return [] if base in self.docs or base in self.removed else [self.base.get(base)]
        return [self.get(i) for i in sorted(self._ids(index, lambda ix: ix.get(value)))]

    def first(self, index: str, value) -> Document | None:
        found = self.find(index, value)
        return found[0] if found else None

    def prefix(self, index: str, prefix: str) -> list[Document]:
        """Documents whose (sorted) index key starts with `prefix`, in id order."""
        return self.world.lock.read(lambda: [self.get(i) for i in sorted(self._ids(index, lambda ix: ix.prefix(prefix)))])

    def all(self) -> list[Document]:
        with self.world.lock:
            ids = set(self.docs)
            if self.base is not None:
                ids |= {i for i in self.base.ids() if i not in self.removed}
            return [self.get(i) for i in sorted(ids)]

    def ids(self) -> set[int]:
        own = set(self.docs)
        if self.base is None:
            return own
        return own | (self.base.ids() - self.removed)

    def __len__(self) -> int:
        return len(self.ids()) if self.base is not None else len(self.docs)

    # -- writes --------------------------------------------------------------------------------
    def insert(self, doc: dict) -> Document:
        with self.world.lock:
            doc_id = self.next_id
            return self._write(doc_id, dict(doc))

    def update(self, doc_id: int, changes: dict) -> Document:
        with self.world.lock:
            current = self.get(doc_id)
            if current is None:
                raise KeyError(f"{self.name}[{doc_id}] does not exist")
            return self._write(doc_id, {**current, **changes})

    def remove(self, doc_id: int) -> None:
        with self.world.lock:
            if self.get(doc_id) is not None:
                self._write(doc_id, None)

    def _write(self, doc_id: int, new: dict | None) -> Document | None:
        if self.world.frozen:
            raise RuntimeError(f"the template world is read-only ({self.name})")
        if self.world.seeding:  # a template being built: nothing to journal, nobody to roll back for
            self._set(doc_id, new)
            return self.docs.get(doc_id)
        before, next_id = self.get(doc_id), self.next_id
        with self.world.transaction():
            self.world._changed(self, doc_id, before, next_id)
            self._set(doc_id, new)
        return self.get(doc_id)

    def _set(self, doc_id: int, new: dict | None) -> None:
        """Put `new` (or nothing) at `doc_id`, keeping indexes and the removed set right. No journaling."""
        before = self.get(doc_id) if self.base is not None else self.docs.get(doc_id)
        if before is not None:
            for index in self.indexes.values():
                index.discard(doc_id, before)
        if new is None:
            self.docs.pop(doc_id, None)
            if self.base is not None and self.base.get(doc_id) is not None:
                self.removed.add(doc_id)
            return
        doc = new if isinstance(new, Document) and new.doc_id == doc_id else Document(new, doc_id)
        self.docs[doc_id] = doc
        self.removed.discard(doc_id)
        for index in self.indexes.values():
            index.add(doc_id, doc)
        self.next_id = max(self.next_id, doc_id + 1)

    def load_documents(self, docs: list[Document]) -> None:
        """Fill an empty template table in bulk (a cached template being loaded): no journal, no per-write checks."""
        self.docs.update((doc.doc_id, doc) for doc in docs)
        for index in self.indexes.values():
            index.add_many(docs)
        self.next_id = max(self.docs, default=0) + 1

    def own_state(self) -> dict:
        """What this table adds to its base: the documents it holds and the base ids it hides."""
        return {"docs": dict(self.docs), "removed": sorted(self.removed), "next_id": self.next_id}


class World:
    """One tenant's whole state: named tables, a lock, and transactions. `meta` holds seed, size, clock, counters."""

    def __init__(self, name: str, specs: dict[str, dict[str, HashIndex | Callable]], template: World | None = None):
        self.name = name
        self.specs = specs
        self.lock = WorldLock()
        self.frozen = False
        self.seeding = False  # True while a template is generated or loaded: writes skip transactions
        self.persistence = None  # set by WorldStore for disk-backed tenants
        self.listeners: list = []  # called with (world, event) by domain.events.record_event
        self._pending: list | None = None
        self.template = None
        self.tables: dict[str, Table] = {}
        self.rebase(template)

    def rebase(self, template: World | None) -> None:
        """Drop every change and sit on `template` again (reset); the object stays the same for its holders."""
        with self.lock:
            self.template = template
            self.tables = {
                name: Table(name, _build_indexes(spec), self, template.tables[name] if template else None)
                for name, spec in self.specs.items()
            }

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    # -- meta ------------------------------------------------------------------------------------
    @property
    def meta(self) -> dict:
        return self.tables["meta"].get(1) or {}

    def set_meta(self, **changes) -> dict:
        with self.lock:
            return self.tables["meta"]._write(1, {**self.meta, **changes})

    def next_sequence(self, name: str) -> int:
        """A per-world counter (1, 2, 3, ...) that resets with the world: the source of stable ids."""
        with self.transaction():
            counters = dict(self.meta.get("counters") or {})
            counters[name] = counters.get(name, 0) + 1
            self.set_meta(counters=counters)
            return counters[name]

    # -- transactions ---------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        """All writes inside happen together or not at all; one journal entry per outermost transaction."""
        return Transaction(self)

    def _commit(self) -> None:
        if self._pending and self.persistence is not None:
            self.persistence.append(_net_changes(self._pending))

    def _roll_back(self) -> None:
        for table, doc_id, before, next_id in reversed(self._pending):
            table._set(doc_id, before)
            table.next_id = next_id

    def _changed(self, table: Table, doc_id: int, before: dict | None, next_id: int) -> None:
        self._pending.append((table, doc_id, before, next_id))

    # -- whole-world views ----------------------------------------------------------------------
    def own_state(self) -> dict:
        with self.lock:
            return {name: table.own_state() for name, table in self.tables.items()}

    def load_state(self, state: dict) -> None:
        """Apply a saved overlay (from disk or a snapshot) on top of the current base, without journaling."""
        with self.lock:
            for name, table_state in state.items():
                table = self.tables.get(name)
                if table is None:
                    continue
                for doc_id in table_state.get("removed", ()):
                    table._set(int(doc_id), None)
                for doc_id, doc in table_state.get("docs", {}).items():
                    table._set(int(doc_id), doc)
                table.next_id = max(table.next_id, table_state.get("next_id", 1))

    def apply_changes(self, changes: list) -> None:
        """Replay journal entries `(table, doc_id, doc-or-None)` without journaling them again."""
        with self.lock:
            for name, doc_id, doc in changes:
                if name in self.tables:
                    self.tables[name]._set(int(doc_id), doc)

    def export(self) -> dict:
        """The whole world, template and changes merged, as plain JSON-ready data in a stable order."""
        with self.lock:
            return {name: {str(doc.doc_id): dict(doc) for doc in table.all()} for name, table in self.tables.items()}

    def export_json(self) -> str:
        return json.dumps(self.export(), sort_keys=True, indent=1, ensure_ascii=False)


class Transaction:
    """`World.transaction()`: a class, not a generator: a verify enters ~18 of them (nested ones only lock).

    The outermost one journals the net changes on success (a journal failure rolls back too); any exception
    rolls every write back in memory, in reverse order."""

    __slots__ = ("world", "outer")

    def __init__(self, world: World):
        self.world = world
        self.outer = False

    def __enter__(self) -> World:
        world = self.world
        world.lock.acquire()
        if world._pending is None:
            world._pending, self.outer = [], True
        return world

    def __exit__(self, exc_type, exc, tb) -> None:
        world = self.world
        try:
            if self.outer:
                try:
                    if exc_type is None:
                        try:
                            world._commit()
                        except BaseException:  # not journaled: not done
                            world._roll_back()
                            raise
                    else:
                        world._roll_back()
                finally:
                    world._pending = None
        finally:
            world.lock.release()


def _build_indexes(spec: dict) -> dict[str, HashIndex]:
    return {name: (make() if isinstance(make, type) else _as_index(make)) for name, make in spec.items()}


def _as_index(make) -> HashIndex:
    if isinstance(make, tuple):  # ("sorted", keyfunc)
        kind, key = make
        return SortedIndex(key) if kind == "sorted" else HashIndex(key)
    return HashIndex(make)


def _net_changes(pending: list) -> list:
    """Each touched document once, as it stands now: `[table name, doc id, document or None]`."""
    touched = dict.fromkeys((table, doc_id) for table, doc_id, _, _ in pending)
    return [[table.name, doc_id, table.get(doc_id)] for table, doc_id in touched]
