"""Named snapshots of a tenant's world: save, list, restore. No Flask.

A snapshot is what the tenant changed on top of its template (`World.own_state()`) plus which template
that is (seed, patients). Documents are immutable, so a shallow copy of the overlay dicts is a true
copy: saving costs O(changes), not O(world). With a data directory, each snapshot is also written to
`tenants/<tenant>/snapshots/<name>.json` (a TinyDB database, written atomically) so it survives a
restart; dropping the tenant removes them with the rest of its files. Reset leaves snapshots alone:
save, experiment, reset or restore as often as you like. Saving under an existing name replaces it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidRequest, LimitReached, SnapshotNotFound
from .persistence import read_state, write_state
from .worlds import WorldStore

MAX_SNAPSHOTS = 100  # per tenant: snapshots live in memory
INFO_TABLE = "_snapshot"  # a pseudo-table in the saved state; World.load_state ignores unknown tables


@dataclass(frozen=True)
class Snapshot:
    name: str
    created_at: str
    seed: int
    patients: int
    state: dict

    def info(self) -> dict:
        return {"name": self.name, "created_at": self.created_at, "seed": self.seed, "patients": self.patients}


class Snapshots:
    """Every tenant's snapshots, loaded from disk on first use and kept in memory."""

    def __init__(self, store: WorldStore, now: Callable[[object], str], limit: int = MAX_SNAPSHOTS):
        """`now(world)`: the world's time as ISO-8601 text (the domain's sandbox clock; storage has no clock)."""
        self.store, self.now, self.limit = store, now, limit
        self._saved: dict[str, dict[str, Snapshot]] = {}
        self._lock = threading.RLock()
        store.drop_listeners.append(self.forget)

    def save(self, tenant: str, name: str) -> tuple[dict, bool]:
        """Snapshot the tenant's world now; (info, whether an older snapshot of that name was replaced)."""
        if not WorldStore.valid_tenant(name):  # it becomes a file name
            raise InvalidRequest(errors={"name": ["Use 1-64 letters, digits, '-' or '_'."]})
        world = self.store.world(tenant)
        with self._lock, world.lock:
            saved = self._tenant(tenant)
            if name not in saved and len(saved) >= self.limit:
                raise LimitReached("snapshots_per_tenant", self.limit,
                                   message=f"A tenant keeps at most {self.limit} snapshots; overwrite one instead.")
            meta = world.template.meta
            snapshot = Snapshot(name, self.now(world), meta["seed"], meta["patients"],
                                world.own_state())
            replaced = name in saved
            saved[name] = snapshot
            self._write(tenant, snapshot)
        return snapshot.info(), replaced

    def list(self, tenant: str) -> list[dict]:
        """Oldest first (by creation time on the sandbox clock, then name)."""
        with self._lock:
            found = [s.info() for s in self._tenant(tenant).values()]
        return sorted(found, key=lambda info: (info["created_at"], info["name"]))

    def restore(self, tenant: str, name: str) -> dict:
        """Put the tenant's world back exactly as it was when `name` was saved (clock included)."""
        with self._lock:
            snapshot = self._tenant(tenant).get(name)
        if snapshot is None:
            raise SnapshotNotFound(name=name)
        world = self.store.world(tenant)
        template = self.store.templates(snapshot.seed, snapshot.patients)
        with world.lock:
            world.rebase(template)
            world.load_state(snapshot.state)
            if world.persistence is not None:
                world.set_meta(**world.meta)  # so a restart rebuilds on the snapshot's template
                world.persistence.compact()
        return snapshot.info()

    def forget(self, tenant: str) -> None:
        """The tenant was dropped: its files are gone, forget what we held in memory."""
        with self._lock:
            self._saved.pop(tenant, None)

    # -- disk ------------------------------------------------------------------------------------
    def _directory(self, tenant: str) -> Path | None:
        if self.store.data_dir is None:
            return None
        return self.store.data_dir / "tenants" / tenant / "snapshots"

    def _tenant(self, tenant: str) -> dict[str, Snapshot]:
        if tenant not in self._saved:
            self._saved[tenant] = self._load(tenant)
        return self._saved[tenant]

    def _load(self, tenant: str) -> dict[str, Snapshot]:
        directory, found = self._directory(tenant), {}
        if directory is None or not directory.is_dir():
            return found
        for path in sorted(directory.glob("*.json")):
            state = read_state(path)
            info = state.pop(INFO_TABLE, {}).get("docs", {}).get(1)
            if info:
                found[info["name"]] = Snapshot(info["name"], info["created_at"], info["seed"], info["patients"], state)
        return found

    def _write(self, tenant: str, snapshot: Snapshot) -> None:
        directory = self._directory(tenant)
        if directory is None:
            return
        info_table = {"docs": {1: snapshot.info()}, "removed": [], "next_id": 2}
        write_state(directory / f"{snapshot.name}.json", {**snapshot.state, INFO_TABLE: info_table})
