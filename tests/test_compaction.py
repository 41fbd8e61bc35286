"""When a tenant's journal is folded into its overlay: after enough lines, and only once it is as large as the overlay."""

from __future__ import annotations

import pytest

from opescare_sandbox.domain.seed import template
from opescare_sandbox.storage import persistence
from opescare_sandbox.storage.persistence import TenantFiles
from opescare_sandbox.storage.worlds import WorldStore


def source(seed, patients):
    return template(seed, patients, "fixtures")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(persistence, "COMPACT_AFTER_LINES", 3)
    return WorldStore(source, 42, 20, data_dir=tmp_path)


def journal_lines(tmp_path) -> int:
    """Change lines in the journal (its `{"generation": n}` header line is not a change; each has a checksum first)."""
    path = tmp_path / "tenants" / "acme" / "journal.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return len([line for line in lines if not line[9:].startswith('{"generation"')])


def test_the_first_compaction_comes_after_the_line_threshold(store, tmp_path):
    world = store.world("acme")
    for n in range(3):
        world["audit"].insert({"n": n})
    assert journal_lines(tmp_path) == 0  # folded: there was no overlay yet
    assert (tmp_path / "tenants" / "acme" / "overlay.json").exists()


def test_a_journal_smaller_than_the_overlay_is_not_folded_yet(store, tmp_path):
    world = store.world("acme")
    world["audit"].insert({"big": "x" * 20_000})  # a large overlay once compacted
    for n in range(2):
        world["audit"].insert({"n": n})
    assert journal_lines(tmp_path) == 0
    for n in range(5):
        world["audit"].insert({"n": n})
    assert journal_lines(tmp_path) == 5  # past the line threshold, but far smaller than the overlay
    world["audit"].insert({"big": "y" * 25_000})
    assert journal_lines(tmp_path) == 0  # now as large as the overlay: folded


def test_nothing_is_lost_whichever_side_of_a_compaction_a_write_lands(store, tmp_path):
    world = store.world("acme")
    world["audit"].insert({"big": "x" * 5_000})
    for n in range(40):
        world["audit"].insert({"n": n})
    reopened = WorldStore(source, 42, 20, data_dir=tmp_path).world("acme")
    assert [d.get("n") for d in reopened["audit"].all()] == [None, *range(40)]
    assert TenantFiles(tmp_path / "tenants" / "acme").exists()
