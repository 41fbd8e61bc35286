"""The worlds of every tenant: created lazily from a shared template, reset in place, kept on disk or in memory. No Flask."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import WorldDamaged
from .persistence import TenantFiles
from .store import World
from .tables import TABLES

log = logging.getLogger(__name__)

TENANT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_TENANT = "default"

# (seed, patients) -> a frozen template world. Supplied by domain.seed; the store never imports it.
TemplateSource = Callable[[int, int], World]


class Journaled:
    """Connects a world to its files: journal every commit, compact when the journal grows."""

    def __init__(self, world: World, files: TenantFiles):
        self.world, self.files = world, files

    def append(self, changes: list) -> None:
        self.files.append(changes)
        if self.files.needs_compaction():
            self.compact()

    def compact(self) -> None:
        with self.world.lock:
            self.files.write_overlay(self.world.own_state())


class WorldStore:
    """Holds one World per tenant. Thread-safe; a tenant's world is built on first use."""

    def __init__(
        self,
        templates: TemplateSource,
        seed: int,
        patients: int,
        data_dir: str | Path | None = None,
        fsync: bool = False,
    ):
        self.templates = templates
        self.seed, self.patients = seed, patients
        self.data_dir = Path(data_dir) if data_dir else None
        self.fsync = fsync
        self._worlds: dict[str, World] = {}
        self._lock = threading.Lock()
        self.listeners: list = []  # shared by every world: event listeners (the webhook dispatcher)
        self.drop_listeners: list = []  # called with the tenant name when a tenant is dropped (its in-memory extras)
        self.monotonic = time.monotonic  # idle time is real time: tests replace this, not the sandbox clock
        self._last_used: dict[str, float] = {}
        self._in_use: dict[str, int] = {}
        self.damaged: dict[str, WorldDamaged] = {}  # tenants whose files refused to load (logged once, at ERROR)
        self._opening: dict[str, threading.Lock] = {}

    @staticmethod
    def valid_tenant(name: str) -> bool:
        return bool(TENANT_PATTERN.match(name or ""))

    def tenants(self) -> list[str]:
        names = set(self._worlds)
        if self.data_dir and (self.data_dir / "tenants").is_dir():
            names |= {p.name for p in (self.data_dir / "tenants").iterdir() if self.valid_tenant(p.name)}
        return sorted(names)

    def known(self, tenant: str) -> bool:
        """The tenant has a world, in memory or on disk."""
        return tenant in self._worlds or bool(self.data_dir and (self.data_dir / "tenants" / tenant).is_dir())

    def world(self, tenant: str = DEFAULT_TENANT) -> World:
        """The tenant's world, opened on first use. Raises WorldDamaged (503) while its files are damaged."""
        self._last_used[tenant] = self.monotonic()
        world = self._worlds.get(tenant)
        if world is not None:
            return world
        if tenant in self.damaged:
            raise self.damaged[tenant]  # never reread per request: stop, `repair`, start
        with self._lock:  # only to find this tenant's opening lock: opening one world never blocks another's
            opening = self._opening.setdefault(tenant, threading.Lock())
        with opening:
            if tenant not in self._worlds:
                try:
                    world = self._open(tenant)
                except WorldDamaged as damage:
                    with self._lock:
                        self.damaged[tenant] = damage
                    raise
                with self._lock:
                    self._worlds[tenant] = world
                    self._opening.pop(tenant, None)
            return self._worlds[tenant]

    def _files(self, tenant: str) -> TenantFiles | None:
        if self.data_dir is None:
            return None
        return TenantFiles(self.data_dir / "tenants" / tenant, fsync=self.fsync)

    def _open(self, tenant: str) -> World:
        files = self._files(tenant)
        if files is not None and files.exists():
            overlay, journal = files.load()
            meta = _saved_meta(overlay, journal)
            world = World(tenant, TABLES, self.templates(meta.get("seed", self.seed), meta.get("patients", self.patients)))
            world.load_state(overlay)
            world.apply_changes(journal)
        else:
            world = World(tenant, TABLES, self.templates(self.seed, self.patients))
        if files is not None:
            world.persistence = Journaled(world, files)
            if files.legacy:  # files from before checksums: rewritten with them before anything is appended
                world.persistence.compact()
        world.listeners = self.listeners
        return world

    def reset(self, tenant: str = DEFAULT_TENANT, seed: int | None = None, patients: int | None = None) -> World:
        """Put the tenant back on a seeded template. In place: references to the world stay valid."""
        world = self.world(tenant)
        template = self.templates(self.seed if seed is None else seed, self.patients if patients is None else patients)
        with world.lock:
            world.rebase(template)
            if world.persistence is not None:
                world.set_meta(**world.meta)  # so a restart knows which seed and size to rebuild
                world.persistence.compact()
        return world

    def drop(self, tenant: str) -> None:
        """Forget a tenant entirely, files included."""
        with self._lock:
            self._drop(tenant)

    def _drop(self, tenant: str) -> None:
        # Under self._lock, so no other thread opens the tenant from files being deleted.
        world = self._worlds.pop(tenant, None)
        self._last_used.pop(tenant, None)
        self.damaged.pop(tenant, None)
        files = world.persistence.files if world is not None and world.persistence else self._files(tenant)
        if files is not None:
            files.destroy()
        for listener in self.drop_listeners:
            listener(tenant)

    # -- idle expiry ----------------------------------------------------------------------------
    def hold(self, tenant: str) -> None:
        """A request for `tenant` has started: it cannot expire until `release`."""
        with self._lock:
            self._in_use[tenant] = self._in_use.get(tenant, 0) + 1
            self._last_used[tenant] = self.monotonic()

    def release(self, tenant: str) -> None:
        with self._lock:
            left = self._in_use.get(tenant, 0) - 1
            if left > 0:
                self._in_use[tenant] = left
            else:
                self._in_use.pop(tenant, None)
            self._last_used[tenant] = self.monotonic()

    def expire_idle(self, ttl: float, keep: tuple[str, ...] = (DEFAULT_TENANT,)) -> list[str]:
        """Drop every tenant unused for `ttl` seconds and not in a request; those on disk but never
        opened by this process count as used when first seen. Returns the dropped names."""
        now, dropped = self.monotonic(), []
        with self._lock:
            for tenant in self.tenants():
                last = self._last_used.setdefault(tenant, now)
                if tenant in keep or tenant in self.damaged or self._in_use.get(tenant) or now - last < ttl:
                    continue
                self._drop(tenant)
                dropped.append(tenant)
        if dropped:
            log.info("dropped idle tenants: %s", ", ".join(dropped))
        return dropped

    def close(self) -> None:
        """Fold every journal into its overlay (clean shutdown), so the next start replays nothing."""
        for world in list(self._worlds.values()):
            if world.persistence is not None:
                if world.persistence.files.lines:
                    world.persistence.compact()
                world.persistence.files.close()


def _saved_meta(overlay: dict, journal: list) -> dict:
    """The world's meta document as last saved: which seed and size its template has."""
    meta = dict(overlay.get("meta", {}).get("docs", {}).get(1, {}))
    for name, doc_id, doc in journal:
        if name == "meta" and int(doc_id) == 1 and doc:
            meta = doc
    return meta
