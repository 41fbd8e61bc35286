"""Build a world from (seed, size, fixtures/): curated documentation data plus a seeded synthetic population. No Flask.

Same seed + size + fixtures gives a byte-identical world on every machine and every day: every
generated value comes from a `random.Random` seeded from (seed, part name), and every generated date
hangs off ANCHOR_DATE, never today. Each part has its own random stream, so adding a part never
changes what another part generates.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import threading
from datetime import timedelta
from pathlib import Path

from ..storage import template_cache
from ..storage.store import World
from ..storage.tables import TABLES, patient_match_key
from . import health_ids
from .anchor import ANCHOR_DATE, anchor_datetime, part_rng  # noqa: F401 (re-exported)
from .inventory import seed_inventory
from .openeyes_seed import seed_openeyes
from .patients import seed_legacy_health_ids
from .reconciliation import seed_reconciliation
from .tokens import hash_secret

BLOOD_TYPES = (("O+", 47), ("A+", 23), ("B+", 18), ("AB+", 4), ("O-", 3), ("A-", 2), ("B-", 2), ("AB-", 1))
ALLERGENS = ("Penicillin", "Sulfonamides", "Aspirin", "Ibuprofen", "Chloroquine", "Codeine", "Latex", "Peanuts")
OTHER_COUNTRIES = ("NG", "GA", "TD", "CF", "CG")


@functools.lru_cache(maxsize=8)
def load_fixtures(directory: str) -> dict:
    """Every JSON file of the fixtures directory, by file stem."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(Path(directory).glob("*.json"))}






def build_world(seed: int, patients: int, fixtures_dir: str) -> World:
    """A frozen template world: tenants overlay it, never change it."""
    fixtures = load_fixtures(str(fixtures_dir))
    world = World("template", TABLES)
    world.seeding = True
    world.set_meta(seed=seed, patients=patients, anchor_date=ANCHOR_DATE.isoformat(), counters={})
    for part in SEEDERS:
        part(world, seed, patients, fixtures)
    world.seeding, world.frozen = False, True
    return world


def seed_clients(world: World, seed: int, patients: int, fixtures: dict) -> None:
    for client in fixtures["clients"]["clients"]:
        doc = {k: v for k, v in client.items() if k != "client_secret"}
        world["clients"].insert({**doc, "secret_sha256": hash_secret(client["client_secret"]), "source": "fixture"})


def seed_facilities(world: World, seed: int, patients: int, fixtures: dict) -> None:
    for facility in fixtures["facilities"]["facilities"]:
        world["facilities"].insert(facility)


def _insert_curated_patients(world: World, patients: list[dict], source: str) -> None:
    for patient in patients:
        doc = {k: v for k, v in patient.items() if k != "consents"}
        world["patients"].insert({**doc, "created_at": anchor_datetime(30), "source": source})
        for consent in patient.get("consents", ()):
            world["consents"].insert({"health_id": patient["health_id"], **consent})


def seed_documentation_patients(world: World, seed: int, patients: int, fixtures: dict) -> None:
    _insert_curated_patients(world, fixtures["documentation_patients"]["patients"], "documentation")


def seed_scenario_patients(world: World, seed: int, patients: int, fixtures: dict) -> None:
    """The personas of fixtures/scenarios.json (twins for 409, an expiring consent, a long history)."""
    _insert_curated_patients(world, fixtures["scenarios"]["patients"], "scenario")


def seed_population(world: World, seed: int, patients: int, fixtures: dict) -> None:
    """`patients` synthetic Cameroonian patients with checksum-valid Health IDs."""
    rng = part_rng(seed, "patients")
    names = fixtures["cm_names"]
    reserved = {patient_match_key(d) for d in fixtures["documentation_patients"]["reserved_demographics"]}
    groups, weights = zip(*BLOOD_TYPES)
    created = 0
    while created < patients:
        sex = rng.choice(("female", "male"))
        country = "CM" if rng.random() < 0.95 else rng.choice(OTHER_COUNTRIES)
        doc = {
            "first_name": rng.choice(names["female_first" if sex == "female" else "male_first"]),
            "last_name": rng.choice(names["last"]),
            "sex": sex,
            "date_of_birth": (ANCHOR_DATE - timedelta(days=rng.randint(0, 85 * 365))).isoformat(),
            "country_code": country,
            "phone_number": f"+237{rng.choice(('67', '68', '69', '65'))}{rng.randint(0, 9_999_999):07d}",
            "blood_type": rng.choices(groups, weights)[0],
            "allergies": sorted(rng.sample(ALLERGENS, rng.choice((0, 0, 0, 0, 1, 1, 2)))),
            "verification_status": "verified" if rng.random() < 0.85 else "unverified",
            "identity_status": "confirmed" if rng.random() < 0.9 else "provisional",
            "created_at": anchor_datetime(rng.randint(1, 3 * 365), rng.randint(0, 86_399)),
            "source": "seed",
        }
        health_id = health_ids.generate(rng, country)
        while world["patients"].first("health_id", health_id) is not None:
            health_id = health_ids.generate(rng, country)
        if patient_match_key(doc) in reserved:
            continue
        world["patients"].insert({"health_id": health_id, **doc})
        created += 1


# The parts of a world, in build order. Each part draws from its own random stream.
SEEDERS = (
    seed_clients,
    seed_facilities,
    seed_documentation_patients,
    seed_scenario_patients,
    seed_population,
    seed_legacy_health_ids,
    seed_inventory,
    seed_reconciliation,
    seed_openeyes,
)


_template_lock = threading.Lock()  # guards _building only
_building: dict[tuple, threading.Lock] = {}  # one lock per template: building a large one never blocks another


@functools.lru_cache(maxsize=8)
def _cached_template(seed: int, patients: int, fixtures_dir: str, cache_dir: str | None) -> World:
    with _no_cyclic_gc():
        return load_or_build(seed, patients, fixtures_dir, cache_dir)


def load_or_build(seed: int, patients: int, fixtures_dir: str, cache_dir: str | None = None) -> World:
    """The template from the on-disk cache when there is one (`cache_dir`), else generated (and cached there)."""
    if cache_dir is None:
        return build_world(seed, patients, fixtures_dir)
    path = template_cache.path_for(cache_dir, seed, patients, fixtures_dir)
    world = template_cache.load(path)
    if world is None:
        world = build_world(seed, patients, fixtures_dir)
        template_cache.save(path, world)
    return world


def template(seed: int, patients: int, fixtures_dir: str | Path, cache_dir: str | Path | None = None) -> World:
    """The frozen template for (seed, patients), built once per process and shared by every tenant and app."""
    key = (int(seed), int(patients), str(fixtures_dir), str(cache_dir) if cache_dir else None)
    with _template_lock:
        lock = _building.setdefault(key, threading.Lock())
    with lock:
        return _cached_template(*key)


@contextlib.contextmanager
def _no_cyclic_gc():
    """Building a template allocates millions of objects and no garbage: Python's cyclic GC would rescan
    them over and over (a third of the load time at 100,000 patients), so it is paused meanwhile.
    (Not gc.freeze(): a template dropped from the cache would then never be collected.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class TemplateSource:
    """What a WorldStore calls to get a template: `source(seed, patients)`. With `cache_dir`, templates are
    also cached on disk there (sandbox.template_cache)."""

    def __init__(self, fixtures_dir: str | Path, cache_dir: str | Path | None = None, max_count: int = 0,
                 max_bytes: int = 0):
        self.fixtures_dir = str(fixtures_dir)
        self.cache_dir = cache_dir
        self.max_count, self.max_bytes = max_count, max_bytes  # templates on disk (0: no bound)

    def __call__(self, seed: int, patients: int) -> World:
        world = template(seed, patients, self.fixtures_dir, self.cache_dir)
        if self.cache_dir is not None and (self.max_count or self.max_bytes):
            template_cache.prune(self.cache_dir, self.max_count, self.max_bytes,
                                 keep=template_cache.path_for(self.cache_dir, seed, patients, self.fixtures_dir))
        return world
