"""Damaged tenant files, in-process against the store: a write acknowledged after the damage survives every restart.

Each case damages the files of a tenant with a known history (an overlay, then a journal of transactions),
then: load, write, reload. The load gives exactly the longest valid prefix of that history (a torn last
record is cut off) or refuses cleanly (WorldDamaged, the files untouched); a refused tenant is repaired and
then must load such a prefix too. Every write acknowledged after the damage must be there on reload, and
nothing is appended after an unreadable line. Cases: every truncation offset in the journal's last three
lines, then seeded byte flips, garbage lines and truncations of the journal and the overlay.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from opescare_sandbox.errors import WorldDamaged
from opescare_sandbox.storage import persistence
from opescare_sandbox.storage.persistence import TenantFiles
from opescare_sandbox.storage.repair import repair_tenant
from opescare_sandbox.storage.worlds import WorldStore
from tests.reliability_report import count

SEED = 20261130
TENANT = "acme"
RANDOM_CASES = 120  # per kind of damage, journal and overlay each


def no_template(_seed, _patients):
    return None  # an empty base world: a case costs milliseconds


def open_store(data_dir: Path) -> WorldStore:
    return WorldStore(no_template, 42, 0, data_dir=data_dir)


@dataclass
class History:
    """Files of a tenant after a known run, and the world after each journal line (`prefixes[j]`: j lines)."""

    overlay: bytes
    journal: bytes
    prefixes: list[dict]
    line_ends: list[int]  # byte offset after each journal line (the header is line 1)
    template: dict


def transaction(world, n: int) -> None:
    """Inserts, updates and removes, some in one transaction: what the domain's writes look like."""
    table = world["audit"]
    with world.transaction():
        doc = table.insert({"n": n, "text": f"write {n} é ✓", "tags": ["a", n]})
        if n % 3 == 0:
            table.update(doc.doc_id, {"updated": True})
        if n % 4 == 0 and n > 0:
            table.remove(doc.doc_id - 1)


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    data_dir = tmp_path_factory.mktemp("history")
    template = open_store(tmp_path_factory.mktemp("template")).world(TENANT).export()
    store = open_store(data_dir)
    world = store.world(TENANT)
    for n in range(6):
        transaction(world, n)
    store.close()  # the first six are folded into the overlay
    prefixes = [world.export()]
    for n in range(6, 14):
        transaction(world, n)
        prefixes.append(world.export())
    files = TenantFiles(data_dir / "tenants" / TENANT)
    journal = files.journal_path.read_bytes()
    ends = [i + 1 for i, byte in enumerate(journal) if byte == ord("\n")]
    assert len(ends) == 1 + 8  # the header and eight transactions
    return History(files.overlay_path.read_bytes(), journal, prefixes, ends, template)


@dataclass
class Damage:
    name: str
    overlay: bytes | None
    journal: bytes | None
    first_bad_line: int | None  # journal line (1 = header) of the first changed byte; None: the overlay


def truncated(history: History, offset: int) -> Damage:
    return Damage(f"journal cut at {offset}", history.overlay, history.journal[:offset], None)


def valid_prefix(history: History, damage: Damage) -> dict:
    """The longest valid prefix of the history those files still hold."""
    journal = damage.journal
    if damage.first_bad_line is None:  # a cut journal: the complete lines are all that is left
        lines = sum(1 for end in history.line_ends if end <= len(journal))
    else:
        lines = damage.first_bad_line - 1
    return history.prefixes[max(lines - 1, 0)]


def check(history: History, damage: Damage, directory: Path) -> int:
    """Load, write, reload; returns the acknowledged writes checked. Fails the test on any loss."""
    files = TenantFiles(directory / "tenants" / TENANT)
    files.directory.mkdir(parents=True)
    for path, content in ((files.overlay_path, damage.overlay), (files.journal_path, damage.journal)):
        if content is not None:
            path.write_bytes(content)
    store = open_store(directory)
    try:
        world = store.world(TENANT)
        assert world.export() == valid_prefix(history, damage), damage.name
    except WorldDamaged as refused:
        assert refused.status == 503 and refused.error_code == "WORLD_DAMAGED" and refused.file.startswith("tenants/")
        for path, content in ((files.overlay_path, damage.overlay), (files.journal_path, damage.journal)):
            assert (path.read_bytes() if path.exists() else None) == content, f"{damage.name}: refused, yet changed"
        with pytest.raises(WorldDamaged):
            store.world(TENANT)  # stays refused: no request ever writes into it
        assert repair_tenant(directory, TENANT).startswith(f"{TENANT}: repaired")
        store = open_store(directory)
        world = store.world(TENANT)
        if damage.overlay != history.overlay:  # without its overlay, the tenant is back on its template
            assert world.export() == history.template, damage.name
        else:  # the journal cut before its first bad line
            assert world.export() == valid_prefix(history, damage), damage.name
    acknowledged = []
    for n in range(2):
        with world.transaction():
            acknowledged.append(world["audit"].insert({"after_damage": n}).doc_id)
    expected = world.export()
    reloaded = open_store(directory).world(TENANT)  # as after a kill -9: no close
    assert reloaded.export() == expected, damage.name
    with reloaded.transaction():
        reloaded["audit"].insert({"after_damage": 2})
    expected = reloaded.export()
    stopped = open_store(directory)
    stopped.world(TENANT)
    stopped.close()  # a clean stop: the journal is folded into the overlay
    assert not files.journal_path.exists()
    assert open_store(directory).world(TENANT).export() == expected, damage.name
    return len(acknowledged) + 1


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """Durability against power loss is not what these cases test (a crash of the process is), and ~800
    overlay rewrites with two fsyncs each made the sweep ten times slower on a busy disk."""
    monkeypatch.setattr(os, "fsync", lambda _fd: None)


def run_cases(history: History, damages, tmp_path: Path) -> None:
    tried = checked = 0
    for i, damage in enumerate(damages):
        directory = tmp_path / f"case{i}"
        checked += check(history, damage, directory)
        shutil.rmtree(directory)
        tried += 1
    count("corruption, in-process: damaged files tried", tried)
    count("corruption, in-process: writes acknowledged after the damage, checked (0 lost)", checked)


def test_every_truncation_of_the_last_three_journal_lines(history, tmp_path):
    start = history.line_ends[-4]
    damages = [truncated(history, offset) for offset in range(start, len(history.journal))]
    assert len(damages) > 150
    run_cases(history, damages, tmp_path)


def line_of(history: History, offset: int) -> int:
    return next(i + 1 for i, end in enumerate(history.line_ends) if offset < end)


def flipped(data: bytes, rng: random.Random, flips: int) -> tuple[bytes, int]:
    data, first = bytearray(data), len(data)
    for _ in range(flips):
        at = rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
        first = min(first, at)
    return bytes(data), first


GARBAGE = [b'[["audit",99,{"n":99}]]', b"\x00" * 40, b'{"generation":0}', b"not json at all", b"00000000 []",
           b"\xff\xfe broken utf-8 \xc3"]


def journal_damages(history: History, rng: random.Random):
    journal = history.journal
    for i in range(RANDOM_CASES):
        data, at = flipped(journal, rng, 1 + i % 3)
        yield Damage(f"journal flip #{i}", history.overlay, data, line_of(history, at))
    for i in range(RANDOM_CASES):
        line = rng.randrange(len(history.line_ends) + 1)  # before this line (0: at the very start)
        at = history.line_ends[line - 1] if line else 0
        junk = rng.choice(GARBAGE) if i % 2 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
        newline = b"\n" if i % 5 else b""
        yield Damage(f"journal garbage #{i} at line {line + 1}", history.overlay, journal[:at] + junk + newline + journal[at:],
                     line + 1)
    for _ in range(RANDOM_CASES):
        yield truncated(history, rng.randrange(len(journal) + 1))


def overlay_damages(history: History, rng: random.Random):
    overlay = history.overlay
    for i in range(RANDOM_CASES):
        yield Damage(f"overlay flip #{i}", flipped(overlay, rng, 1 + i % 3)[0], history.journal, None)
    for i in range(RANDOM_CASES // 2):
        at = rng.randrange(len(overlay))
        yield Damage(f"overlay garbage #{i}", overlay[:at] + rng.choice(GARBAGE) + overlay[at:], history.journal, None)
    for i in range(RANDOM_CASES // 2):
        yield Damage(f"overlay cut #{i}", overlay[:rng.randrange(len(overlay))], history.journal, None)
    yield Damage("overlay missing", None, history.journal, None)


def test_seeded_damage_to_the_journal(history, tmp_path):
    run_cases(history, list(journal_damages(history, random.Random(SEED))), tmp_path)


def test_seeded_damage_to_the_overlay(history, tmp_path):
    run_cases(history, list(overlay_damages(history, random.Random(SEED + 1))), tmp_path)


def test_a_garbage_line_in_the_middle_is_refused_with_file_and_line(history, tmp_path):
    ends = history.line_ends
    damage = Damage("garbage", history.overlay, history.journal[:ends[3]] + b"garbage\n" + history.journal[ends[3]:], 5)
    files = TenantFiles(tmp_path / "tenants" / TENANT)
    files.directory.mkdir(parents=True)
    files.overlay_path.write_bytes(damage.overlay)
    files.journal_path.write_bytes(damage.journal)
    with pytest.raises(WorldDamaged) as refused:
        open_store(tmp_path).world(TENANT)
    body = refused.value.to_dict()
    assert (body["status"], body["error_code"], body["file"], body["line"]) == (503, "WORLD_DAMAGED",
                                                                              "tenants/acme/journal.jsonl", 5)
    assert "tenants/acme/journal.jsonl line 5" in body["message"]
    assert check(history, damage, tmp_path / "again") == 3


def test_a_torn_last_record_is_cut_off_and_logged_at_warning(history, tmp_path, caplog):
    damage = truncated(history, len(history.journal) - 10)
    files = TenantFiles(tmp_path / "tenants" / TENANT)
    files.directory.mkdir(parents=True)
    files.overlay_path.write_bytes(damage.overlay)
    files.journal_path.write_bytes(damage.journal)
    open_store(tmp_path).world(TENANT)
    assert files.journal_path.read_bytes() == history.journal[:history.line_ends[-2]]  # cut to the last whole line
    assert any(r.levelname == "WARNING" and "torn last record" in r.getMessage() for r in caplog.records)


def test_damage_is_logged_at_error_once(history, tmp_path, caplog):
    files = TenantFiles(tmp_path / "tenants" / TENANT)
    files.directory.mkdir(parents=True)
    files.overlay_path.write_bytes(history.overlay[:-5])
    store = open_store(tmp_path)
    for _ in range(3):
        with pytest.raises(WorldDamaged):
            store.world(TENANT)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "tenants/acme/overlay.json" in errors[0].getMessage()


def test_a_failed_append_is_cut_back_so_the_next_line_is_whole(tmp_path, monkeypatch):
    store = open_store(tmp_path)
    world = store.world(TENANT)
    world["audit"].insert({"n": 0})
    real_write = os.write

    def disk_full(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.os, "write", disk_full)
    with pytest.raises(OSError):
        world["audit"].insert({"n": 1})  # not acknowledged, and rolled back in memory
    monkeypatch.setattr(persistence.os, "write", real_write)
    world["audit"].insert({"n": 2})
    assert [d["n"] for d in open_store(tmp_path).world(TENANT)["audit"].all()] == [0, 2]


def test_journals_without_checksums_still_load_and_are_rewritten_with_them(tmp_path):
    directory = tmp_path / "tenants" / TENANT
    directory.mkdir(parents=True)
    (directory / "journal.jsonl").write_text('{"generation": 0}\n[["audit",1,{"n":1}]]\n[["audit",2,{"n":2}]]\n')
    world = open_store(tmp_path).world(TENANT)
    assert [d["n"] for d in world["audit"].all()] == [1, 2]
    assert not (directory / "journal.jsonl").exists()  # folded into an overlay with a checksum
    world["audit"].insert({"n": 3})
    assert [d["n"] for d in open_store(tmp_path).world(TENANT)["audit"].all()] == [1, 2, 3]


def test_other_tenants_load_beside_a_damaged_one(history, tmp_path):
    files = TenantFiles(tmp_path / "tenants" / "broken")
    files.directory.mkdir(parents=True)
    files.overlay_path.write_bytes(b"{" + history.overlay)
    store = open_store(tmp_path)
    store.world("fine")["audit"].insert({"n": 1})
    with pytest.raises(WorldDamaged):
        store.world("broken")
    assert [d["n"] for d in open_store(tmp_path).world("fine")["audit"].all()] == [1]


def test_over_http_a_damaged_tenant_answers_503_while_others_work(history, tmp_path):
    from opescare_sandbox import create_app

    files = TenantFiles(tmp_path / "tenants" / "broken")
    files.directory.mkdir(parents=True)
    files.overlay_path.write_bytes(history.overlay)
    files.journal_path.write_bytes(history.journal[:history.line_ends[2]] + b"garbage\n" + history.journal[history.line_ends[2]:])
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "PATIENTS": 5})  # resuming deliveries skips it
    app.extensions["opescare_sandbox"].extras["webhooks"].close()
    client = app.test_client()
    body = {"grant_type": "client_credentials", "client_id": "demo_dev_sandbox", "client_secret": "demo_secret_sandbox_2026"}
    refused = client.post("/api/v1/connect/auth/token", json=body, headers={"X-Sandbox-Tenant": "broken"})
    assert refused.status_code == 503
    assert refused.json["error_code"] == "WORLD_DAMAGED" and refused.json["status"] == 503
    assert (refused.json["file"], refused.json["line"]) == ("tenants/broken/journal.jsonl", 4)
    assert client.post("/api/v1/connect/auth/token", json=body).status_code == 200  # the default tenant works
    assert client.get("/sandbox/health").status_code == 200


def test_repair_leaves_intact_tenants_alone_and_says_what_it_cut(history, tmp_path):
    files = TenantFiles(tmp_path / "tenants" / TENANT)
    files.directory.mkdir(parents=True)
    files.overlay_path.write_bytes(history.overlay)
    files.journal_path.write_bytes(history.journal + b"0badc0de [[")
    assert repair_tenant(tmp_path, TENANT).startswith(f"{TENANT}: intact (a torn last record was cut off")
    assert files.journal_path.read_bytes() == history.journal and files.overlay_path.read_bytes() == history.overlay
    assert repair_tenant(tmp_path, TENANT) == f"{TENANT}: intact"
    assert not (tmp_path / "damaged").exists()


def test_when_a_failed_append_cannot_be_cut_back_nothing_is_appended_after_it(tmp_path, monkeypatch):
    store = open_store(tmp_path)
    world = store.world(TENANT)
    world["audit"].insert({"n": 0})
    real_write, real_truncate = os.write, os.ftruncate

    def torn(fd, data):
        real_write(fd, data[:5])
        raise OSError(5, "Input/output error")

    def cannot(_fd, _size):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(persistence.os, "write", torn)
    monkeypatch.setattr(persistence.os, "ftruncate", cannot)
    with pytest.raises(OSError):
        world["audit"].insert({"n": 1})
    monkeypatch.setattr(persistence.os, "write", real_write)
    monkeypatch.setattr(persistence.os, "ftruncate", real_truncate)
    with pytest.raises(OSError, match="restart the server"):
        world["audit"].insert({"n": 2})  # refused, never glued onto the half line
    assert [d["n"] for d in world["audit"].all()] == [0]
    assert [d["n"] for d in open_store(tmp_path).world(TENANT)["audit"].all()] == [0]  # the half line is cut off
