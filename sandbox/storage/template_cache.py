"""Template worlds cached on disk: a generated world saved once as a TinyDB JSON file and loaded instead of regenerated. No Flask.

Generating a 100,000-patient world takes ~4 s (two seeded populations, their indexes); reading it back
takes ~2.3 s and gives the same world, document for document (a test checks it). The file is `<data
dir>/templates/seed<seed>-n<patients>-<digest>.json`, a TinyDB database (one table per world table,
documents by id), written atomically (temp file, fsync, rename). The digest covers everything a template
is made from: the fixtures, the generating code and Faker's version; any change gives a new file name, so
a stale template is never read (and is deleted when the new one is written: a 100,000-patient template is
60 MB). A missing, unreadable or torn file is simply regenerated.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from importlib import metadata
from pathlib import Path

from tinydb.table import Document

from .persistence import write_atomically
from .store import World
from .tables import TABLES

log = logging.getLogger(__name__)

FORMAT = "1"  # bump when the file layout changes
PACKAGE = Path(__file__).resolve().parent
SOURCES = ("*.py", "domain/*.py")  # the store, the tables and every seeder live here


@functools.lru_cache(maxsize=8)
def digest(fixtures_dir: str) -> str:
    """16 hex digits over the fixtures, the package's generating code and Faker's version."""
    h = hashlib.sha256(FORMAT.encode())
    files = sorted(Path(fixtures_dir).glob("*.json")) + sorted(p for pattern in SOURCES for p in PACKAGE.glob(pattern))
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        h.update(metadata.version("faker").encode())
    except metadata.PackageNotFoundError:
        pass
    return h.hexdigest()[:16]


def path_for(cache_dir: str | Path, seed: int, patients: int, fixtures_dir: str) -> Path:
    return Path(cache_dir) / f"seed{seed}-n{patients}-{digest(str(fixtures_dir))}.json"


def save(path: Path, world: World) -> None:
    """Write a template world as a TinyDB JSON database, atomically. A failure only costs the next start time."""
    try:
        write_atomically(path, "".join(_lines(world)).encode())
    except OSError as exc:
        log.warning("could not cache the template world in %s: %s", path, exc)
        return
    for stale in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.json"):  # same seed and size, older code
        if stale != path:
            stale.unlink(missing_ok=True)


def prune(cache_dir: str | Path, max_count: int = 0, max_bytes: int = 0, keep: Path | None = None) -> list[Path]:
    """Remove the oldest templates (by modification time) until at most `max_count` files and `max_bytes`
    bytes remain (0: no bound); `keep` (the one just written) stays. Returns what was removed."""
    if not (max_count or max_bytes):
        return []
    files = []
    for path in Path(cache_dir).glob("seed*-n*-*.json"):
        try:
            files.append((path.stat().st_mtime, path.stat().st_size, path))
        except FileNotFoundError:  # another process pruned it meanwhile
            continue
    files.sort(key=lambda f: (f[2] == keep, f[0]))  # oldest first, the kept one last
    count, total, removed = len(files), sum(f[1] for f in files), []
    for _, size, path in files:
        if path == keep or not ((max_count and count > max_count) or (max_bytes and total > max_bytes)):
            continue
        path.unlink(missing_ok=True)
        count, total = count - 1, total - size
        removed.append(path)
    if removed:
        log.info("removed %d cached template(s) over the bounds", len(removed))
    return removed


def _lines(world: World):
    """Plain JSON, laid out one document per line so `load` can parse it a document at a time."""
    dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
    for n, (name, table) in enumerate(world.tables.items()):
        yield ("{" if n == 0 else ",\n") + dumps(name) + ":{"
        for i, (doc_id, doc) in enumerate(table.docs.items()):
            yield ("\n" if i == 0 else ",\n") + f'"{doc_id}":' + dumps(doc)
        yield "\n}"
    yield "}\n" if world.tables else "{}\n"


def load(path: Path) -> World | None:
    """The frozen template world saved at `path`, or None when there is no usable file."""
    try:
        tables = _read(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        log.warning("ignoring an unreadable cached template %s: %s", path, exc)
        return None
    world = World("template", TABLES)
    world.seeding = True
    for name, docs in tables.items():
        if name in world.tables:
            world.tables[name].load_documents(docs)
    world.seeding, world.frozen = False, True
    return world


def _read(path: Path) -> dict[str, list[Document]]:
    """{table: [Document, ...]} from a file `save` wrote. A document at a time: parsing the whole
    file at once would hold every document twice (~100 MB more at 100,000 patients, never given back)."""
    tables: dict[str, list[Document]] = {}
    shared: dict[str, str] = {}
    loads, share, docs = json.loads, shared.setdefault, None
    line = ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if line.endswith(":{"):  # a table starts: `{"name":{` or `"name":{`
                docs = tables[json.loads(line.lstrip("{")[:-2])] = []
            elif line.startswith('"'):  # a document: `"12":{...},`
                key, _, body = line.partition(":")
                doc = loads(body.rstrip(","))
                # One copy of each key and string value, as in a generated world (every "female" is the same
                # object): ~80 MB less at 100,000 patients, for ~0.4 s.
                docs.append(Document({share(k, k): (share(v, v) if type(v) is str else v) for k, v in doc.items()},
                                     int(key[1:-1])))
            elif line not in ("},", "}}", "{}"):
                raise ValueError(f"unexpected line in a cached template: {line[:80]!r}")
    if line not in ("}}", "{}"):
        raise ValueError("the cached template ends early")
    return tables
