"""A tenant's files: its overlay as a TinyDB JSON database, and an append-only journal of changes since.

- `overlay.json` — a TinyDB database (one table per world table, documents by id) holding what the
  tenant changed on top of the template, plus `_removed` and `_next_ids`. Written atomically: temp
  file, fsync, rename, fsync of the directory. A crash leaves either the old file or the new one.
- `journal.jsonl` — one line per committed transaction: `[[table, doc_id, doc-or-null], ...]` behind a
  CRC-32 (`writejournal.py`). The line is written with one `write()` on an O_APPEND descriptor before the
  request is acknowledged, so it survives a `kill -9` of the process (the kernel holds it); `fsync=True`
  also survives power loss. A write that fails half-way is cut off again before the error is raised.
- Reading (docs/durability.md): a torn last line (a crash in the middle of a write, before any
  acknowledgement) is cut off the file, logged at WARNING. Anything else that cannot be read — a bad line
  that is not the last, an overlay that fails its checksum, a journal of an unexpected generation — is
  damage: `load` raises `WorldDamaged` naming the file and line, and nothing is ever appended after it.
- Loading reads the overlay (TinyDB's format, checked against the CRC-32 stored in its `_journal` table),
  then replays the journal; compaction folds the journal back into the overlay once it has
  COMPACT_AFTER_LINES lines and is as large as the overlay, on a reset, and on a clean stop.
- Generations: each overlay write bumps a counter stored in the overlay (`_journal` table), and a journal
  starts with a `{"generation": n}` line. A journal one generation behind the overlay is stale: a
  compaction or reset replaced the overlay and was killed before deleting it. It is dropped on load,
  never replayed (replaying it after a reset brought back the changes the reset had discarded). Any other
  mismatch is damage. The overlay's checksum covers its generation, so a flipped digit cannot fake that.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zlib
from pathlib import Path

from tinydb import Storage, TinyDB

from ..errors import WorldDamaged
from . import writejournal
from .docbytes import DocumentBytes, dumps
from .tables import TABLES

log = logging.getLogger(__name__)

COMPACT_AFTER_LINES = 2000
GENERATION_TABLE = "_journal"


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces its file atomically on every write."""

    def __init__(self, path: str | Path, **_kwargs):
        self.path = Path(path)

    def read(self):
        try:
            with open(self.path, encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def write(self, data) -> None:
        write_atomically(self.path, dumps(data))

    def close(self) -> None:
        pass


def write_atomically(path: Path, payload: bytes | list[bytes]) -> None:
    """`payload` (or the concatenation of its pieces) as the whole of `path`, or the old file after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.writelines([payload] if isinstance(payload, bytes) else payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _overlay_checksum(generation: int, body: bytes | list[bytes]) -> int:
    """CRC-32 of `<generation>:<body>`; `body` may come in pieces."""
    crc = zlib.crc32(b"%d:" % generation)
    for piece in [body] if isinstance(body, bytes) else body:
        crc = zlib.crc32(piece, crc)
    return crc


def state_data(state: dict) -> dict:
    """A world's own_state as a TinyDB database: one table per world table, `_tables` for the rest."""
    data = {"_tables": {}}
    for i, (name, table) in enumerate(sorted(state.items()), start=1):
        data[name] = {str(doc_id): doc for doc_id, doc in table["docs"].items()}
        data["_tables"][str(i)] = {"table": name, "removed": table["removed"], "next_id": table["next_id"]}
    return data


def write_state(path: Path, state: dict) -> None:
    """A world's own_state as a TinyDB database, atomically."""
    AtomicJSONStorage(path).write(state_data(state))


def read_state(path: Path) -> dict:
    """What `write_state` wrote (empty when there is no file)."""
    if not Path(path).exists():
        return {}
    db = TinyDB(path, storage=AtomicJSONStorage)
    extra = {doc["table"]: doc for doc in db.table("_tables").all()}
    state = {}
    for name in db.tables() - {"_tables"}:
        state[name] = {"docs": {doc.doc_id: dict(doc) for doc in db.table(name).all()}}
    for name, doc in extra.items():
        state.setdefault(name, {"docs": {}}).update(removed=doc["removed"], next_id=doc["next_id"])
    db.close()
    return state


def state_from_data(data: dict) -> dict:
    """`state_data` read back (what TinyDB would give, without opening the file a second time)."""
    state = {name: {"docs": {int(i): doc for i, doc in docs.items()}} for name, docs in data.items() if name != "_tables"}
    for doc in data.get("_tables", {}).values():
        state.setdefault(doc["table"], {"docs": {}}).update(removed=doc["removed"], next_id=doc["next_id"])
    for table in state.values():
        if not all(isinstance(doc, dict) for doc in table["docs"].values()):
            raise TypeError("a document is not an object")
    return state


class TenantFiles:
    """The overlay file and the journal of one tenant's world."""

    def __init__(self, directory: Path, fsync: bool = False):
        self.directory = Path(directory)
        self.fsync = fsync
        self.overlay_path = self.directory / "overlay.json"
        self.journal_path = self.directory / "journal.jsonl"
        self._fd: int | None = None
        self._size = 0  # of the journal, up to its last complete line: a failed append is cut back to it
        self.lines = 0
        self.generation = 0  # of the overlay on disk; files from before generations count as 0
        self.legacy = False  # read from files without checksums: rewrite them (compact) before appending
        self.torn: str | None = None  # what the last load cut off the journal
        self.broken: str | None = None  # why appending is refused until the files are loaded again
        self.docbytes = DocumentBytes()  # each overlay document's JSON, made once (storage/docbytes.py)

    def exists(self) -> bool:
        return self.overlay_path.exists() or self.journal_path.exists()

    def label(self, path: Path) -> str:
        """`tenants/<name>/<file>`: how errors and logs name a file (no absolute path in an HTTP answer)."""
        return f"{self.directory.parent.name}/{self.directory.name}/{path.name}"

    # -- reading -----------------------------------------------------------------------------------
    def load(self) -> tuple[dict, list]:
        """(overlay state, journal changes in order); either may be empty. Cuts off a torn last journal
        record; raises WorldDamaged for anything else that cannot be read."""
        self.close()
        self.docbytes.clear()
        self.lines, self.legacy, self.torn, self.broken = 0, False, None, None
        return self._read_overlay(), self._read_journal()

    def _damaged(self, path: Path, line: int, reason: str, offset: int = 0) -> WorldDamaged:
        damage = WorldDamaged(self.label(path), line, reason)
        damage.offset = offset  # where `repair` cuts the file
        log.error("%s: %s", self.directory, damage.message)
        return damage

    def _read_overlay(self) -> dict:
        self.generation = 0
        try:
            raw = self.overlay_path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(raw)
            journal_table = data.pop(GENERATION_TABLE, None)
            marker = journal_table.get("1") if isinstance(journal_table, dict) else {}
            if journal_table is not None and not isinstance(marker, dict) or journal_table == {}:
                raise ValueError("bad generation marker")
            if journal_table is None and set(data) - set(TABLES):
                # A file from before checksums names only known tables: a flipped byte in a table's name would
                # otherwise pass for such a file (and the flipped marker with it)
                raise ValueError(f"unknown tables {sorted(set(data) - set(TABLES))}")
            self.generation = marker.get("generation", 0)
            if "checksum" in marker or set(marker) - {"generation"}:
                if set(marker) != {"generation", "checksum"} or \
                        _overlay_checksum(self.generation, dumps(data)) != marker["checksum"]:
                    raise ValueError("checksum mismatch")
            else:
                self.legacy = True
            if not isinstance(self.generation, int) or isinstance(self.generation, bool):
                raise ValueError("bad generation")
            state = state_from_data(data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise self._damaged(self.overlay_path, getattr(exc, "lineno", 1), f"unreadable: {exc}") from None
        state.pop(GENERATION_TABLE, None)  # listed in `_tables` by overlays written before checksums
        return state

    def _read_journal(self) -> list:
        try:
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            return []
        found = writejournal.scan(data)
        if found.damage:
            line, offset, reason = found.damage
            raise self._damaged(self.journal_path, line, reason, offset)
        generation = found.generation or 0
        if found.good_end and generation != self.generation:
            if generation == self.generation - 1:  # stale: already folded in, or discarded by a reset
                log.warning("%s: journal of generation %d is older than the overlay: dropped",
                            self.label(self.journal_path), generation)
                self._truncate_journal()
                return []
            raise self._damaged(self.journal_path, 1, f"journal of generation {generation} does not continue "
                                                      f"overlay.json of generation {self.generation}")
        if found.torn:
            log.warning("%s: torn last record cut off the journal (%s): it was never acknowledged",
                        self.label(self.journal_path), found.torn)
            os.truncate(self.journal_path, found.good_end)
            self.torn = found.torn
        self.legacy = self.legacy or (found.legacy and found.good_end > 0)
        self.lines, self._size = found.records, found.good_end
        return found.changes

    # -- writing -----------------------------------------------------------------------------------
    def append(self, changes: list) -> None:
        if self.broken:
            raise OSError(f"{self.broken}: restart the server")
        if self._fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._size = os.fstat(self._fd).st_size
            if self._size == 0:
                self._write(writejournal.encode({"generation": self.generation}))
        self._write(writejournal.line(self.docbytes.transaction(changes)))
        if self.fsync:
            os.fsync(self._fd)
        self.lines += 1

    def _write(self, line: bytes) -> None:
        """One line, whole or not at all: a short or failed write (a full disk) is cut off again, so the
        next append never glues onto half a line."""
        try:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"short write to {self.journal_path} ({written} of {len(line)} bytes)")
        except BaseException:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:  # half a line stays: no append may follow it (the next load cuts it off)
                self.broken = f"a failed write to {self.label(self.journal_path)} could not be cut back"
            raise
        self._size += len(line)

    def needs_compaction(self) -> bool:
        """After COMPACT_AFTER_LINES lines, and once the journal is as large as the overlay it will be folded
        into. Compaction rewrites the whole overlay while the world is locked: every 2000 writes, a long
        write-heavy run paid ever longer pauses (39 ms at 2,000 writes, 216 ms at 12,000); doubling keeps the
        total work linear and the pauses rare. Durability is unchanged: every write is in the journal first."""
        if self.lines < COMPACT_AFTER_LINES:
            return False
        try:
            overlay = self.overlay_path.stat().st_size
        except FileNotFoundError:
            return True
        return self._fd is None or os.fstat(self._fd).st_size >= overlay

    def write_overlay(self, state: dict) -> None:
        """Replace the overlay with `state` (a world's own_state) and empty the journal."""
        generation = self.generation + 1
        body = self.docbytes.overlay(state)  # dumps(state_data(state)) in pieces, from each document's JSON
        marker = {"generation": generation, "checksum": _overlay_checksum(generation, body)}
        # The file is `dumps({**state_data(state), GENERATION_TABLE: {"1": marker}})`: the body's closing
        # brace becomes the generation table's entry (state_data is never empty: `_tables` is always there).
        tail = dumps({GENERATION_TABLE: {"1": marker}})
        write_atomically(self.overlay_path, [*body[:-1], b"," + tail[1:]])
        self.generation = generation  # from here the old journal is stale, even if deleting it fails
        self.legacy = False
        self._truncate_journal()

    def _truncate_journal(self) -> None:
        self.close()
        if self.journal_path.exists():
            self.journal_path.unlink()
        self.lines = self._size = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def destroy(self) -> None:
        self.close()
        self.docbytes.clear()
        shutil.rmtree(self.directory, ignore_errors=True)
