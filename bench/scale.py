"""Part 4: OpesCare + OpenEyes populations of 1k, 10k, 100k. In-process timings of the domain calls a
request makes (on a disk-backed world, as `serve` runs by default: audit entries and journal lines
included), RSS, and the world build time cold and from the on-disk template cache.

Each size runs in fresh processes (`python bench/scale.py build|lookups ...`) so that caches, memory
and the garbage collector start clean. Reference: stock TinyDB on the same patients — a query scan on
an in-memory table, and an insert into a JSON-file table (which re-reads and rewrites the file).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median

sys.path.insert(0, str(ROOT))

SIZES = (1_000, 10_000, 100_000)
SEED = 42


def child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"scale.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(patients: int, cache_dir: str | None) -> dict:
    """One template build in this fresh process: generated (no cache dir) or read from the cache."""
    from opescare_sandbox.domain import seed

    started = time.perf_counter()
    seed.template(SEED, patients, ROOT / "fixtures", cache_dir)
    return {"seconds": time.perf_counter() - started}


def timed(call, inputs) -> float:
    """Median milliseconds of `call(x)` over the inputs."""
    samples = []
    for x in inputs:
        started = time.perf_counter()
        call(x)
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def lookups(patients: int, data_dir: str, samples: int = 300) -> dict:
    from opescare_sandbox import create_app
    from opescare_sandbox.domain import openeyes
    from opescare_sandbox.domain import patients as domain

    app = create_app({"DATA_DIR": data_dir, "PATIENTS": patients, "SEED": SEED, "WEBHOOK_DELIVERY": False})
    world = app.extensions["opescare_sandbox"].store.world(f"scale-{patients}")
    rng = random.Random(1)
    people = [p for p in world["patients"].all() if p["source"] == "seed"]
    people = rng.sample(people, min(samples, len(people)))
    unique = [p for p in people if len(world["patients"].find("match_key", _match(p))) == 1]
    eyes = [p for p in world["openeyes_patients"].all() if p["source"] == "seed"]
    eyes = rng.sample(eyes, min(samples, len(eyes)))
    numbers = [i["value"] for p in eyes for i in p["identifiers"]][:samples]
    client = "opeshisos_production"
    figures = {
        "resolve_found_ms": timed(lambda p: domain.resolve(world, _request(p), client), unique),
        "resolve_created_ms": timed(lambda n: domain.resolve(world, _new_person(n), client), range(samples)),
        "verify_ms": timed(lambda p: domain.verify(world, p["health_id"], client), people),
        "patient_search_ms": timed(lambda p: domain.search(world, p["health_id"], client), people),
        "openeyes_name_prefix_ms": timed(lambda p: openeyes.search_patients(world, {"term": p["last_name"][:3]}), eyes),
        "openeyes_number_ms": timed(lambda v: openeyes.search_patients(world, {"term": v}), numbers),
    }
    figures["rss_mb"] = _rss_mb()
    figures.update(_stock_tinydb(people, world, data_dir))
    return figures


def _match(p: dict):
    from opescare_sandbox.storage.tables import patient_match_key

    return patient_match_key(p)


def _request(p: dict) -> dict:
    return {k: p[k] for k in ("first_name", "last_name", "date_of_birth", "country_code")}


def _new_person(n: int) -> dict:
    letters = "".join(chr(ord("a") + int(d)) for d in str(n))
    return {"first_name": f"Bench{letters}", "last_name": "Scale", "date_of_birth": "1980-02-02", "country_code": "CM"}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _stock_tinydb(people: list[dict], world, data_dir: str) -> dict:
    """The reference: stock TinyDB holding the same patients (query scan in memory; insert into a JSON file)."""
    from tinydb import TinyDB, where
    from tinydb.storages import MemoryStorage

    docs = [dict(p) for p in world["patients"].all()]
    memory = TinyDB(storage=MemoryStorage)
    memory.table("patients").insert_multiple(docs)
    table = memory.table("patients")
    lookup = timed(lambda p: table.search(where("health_id") == p["health_id"]), people[:20])
    path = Path(data_dir) / f"stock-{len(docs)}.json"
    TinyDB(path).table("patients").insert_multiple(docs)
    on_disk = TinyDB(path).table("patients")
    insert = timed(lambda n: on_disk.insert(_new_person(n)), range(3))
    path.unlink()
    return {"stock_tinydb_lookup_ms": lookup, "stock_tinydb_insert_ms": insert}


def run(runs: int = 3, sizes=SIZES, data: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        return _run(runs, sizes, data or scratch)


def _run(runs: int, sizes, data: str) -> dict:
    """Cold builds never read or write `data`; the cached ones use (and leave) its templates/ cache."""
    results = {}
    cache = str(Path(data) / "templates")
    for size in sizes:
        cold = [child("build", str(size), "-")["seconds"] for _ in range(runs)]
        child("build", str(size), cache)  # writes the cache file (not timed: a first start does this once)
        cached = [child("build", str(size), cache)["seconds"] for _ in range(runs)]
        figures = child("lookups", str(size), data)
        results[size] = {"build_cold_s": median(cold), "build_cached_s": median(cached), **figures,
                         "build_cold_runs": cold, "build_cached_runs": cached}
    return results


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(json.dumps(build(int(sys.argv[2]), None if sys.argv[3] == "-" else sys.argv[3])))
    elif sys.argv[1] == "lookups":
        print(json.dumps(lookups(int(sys.argv[2]), sys.argv[3])))
    else:
        print(json.dumps(run(sizes=tuple(int(s) for s in sys.argv[2:]) or SIZES), indent=1))
