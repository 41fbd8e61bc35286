"""The world store: indexes, copy-on-write over the template, transactions, persistence and reload."""

from __future__ import annotations

import pytest

from opescare_sandbox.domain.seed import template
from opescare_sandbox.storage.persistence import TenantFiles
from opescare_sandbox.storage.store import World
from opescare_sandbox.storage.tables import TABLES
from opescare_sandbox.storage.worlds import WorldStore

FIXTURES = "fixtures"


def source(seed, patients):
    return template(seed, patients, FIXTURES)


@pytest.fixture
def base():
    return source(42, 50)


def test_lookup_by_index_finds_the_document(base):
    hid = base["patients"].get(10)["health_id"]
    assert base["patients"].first("health_id", hid).doc_id == 10


def test_overlay_writes_never_touch_the_template(base):
    before = base.export_json()
    world = World("t", TABLES, base)
    doc = world["patients"].get(10)
    world["patients"].update(10, {"first_name": "Changed"})
    world["patients"].remove(11)
    world["patients"].insert({"health_id": "CM-HID-AAAA-AAAA-XXXX", "first_name": "New"})
    assert world["patients"].get(10)["first_name"] == "Changed"
    assert world["patients"].get(11) is None
    assert world["patients"].first("health_id", doc["health_id"])["first_name"] == "Changed"
    assert base.export_json() == before


def test_index_lookup_sees_overlay_changes_and_hides_removed(base):
    world = World("t", TABLES, base)
    hid = world["patients"].get(12)["health_id"]
    world["patients"].remove(12)
    assert world["patients"].find("health_id", hid) == []
    world["patients"].update(13, {"health_id": "CM-HID-BBBB-BBBB-XXXX"})
    assert world["patients"].first("health_id", "CM-HID-BBBB-BBBB-XXXX").doc_id == 13


def test_template_is_read_only(base):
    with pytest.raises(RuntimeError):
        base["patients"].update(1, {"first_name": "x"})


def test_failed_transaction_rolls_back_every_write(base):
    world = World("t", TABLES, base)
    count = len(world["patients"])
    with pytest.raises(ValueError), world.transaction():
        world["patients"].insert({"health_id": "CM-HID-CCCC-CCCC-XXXX"})
        world["patients"].update(3, {"first_name": "Half"})
        raise ValueError("boom")
    assert len(world["patients"]) == count
    assert world["patients"].get(3)["first_name"] != "Half"
    assert world["patients"].first("health_id", "CM-HID-CCCC-CCCC-XXXX") is None
    assert world.export_json() == World("u", TABLES, base).export_json().replace('"u"', '"t"')


def test_rebase_drops_changes_in_place(base):
    world = World("t", TABLES, base)
    world["patients"].insert({"health_id": "CM-HID-DDDD-DDDD-XXXX"})
    world.rebase(base)
    assert world["patients"].first("health_id", "CM-HID-DDDD-DDDD-XXXX") is None
    assert len(world["patients"]) == len(base["patients"])


def test_prefix_index_answers_prefix_queries():
    world = World("t", TABLES)
    for last in ("Smith", "Smithson", "Smyth", "Jones"):
        world["openeyes_patients"].insert({"last_name": last, "identifiers": []})
    found = [d["last_name"] for d in world["openeyes_patients"].prefix("last_name", "smith")]
    assert found == ["Smith", "Smithson"]


def test_acknowledged_writes_survive_a_reload_from_disk(tmp_path):
    store = WorldStore(source, 42, 50, data_dir=tmp_path)
    world = store.world("acme")
    world["patients"].insert({"health_id": "CM-HID-EEEE-EEEE-XXXX", "first_name": "Kept"})
    world["patients"].remove(5)
    # No close(): as after a kill -9, only the journal holds these writes.
    reopened = WorldStore(source, 42, 50, data_dir=tmp_path).world("acme")
    assert reopened["patients"].first("health_id", "CM-HID-EEEE-EEEE-XXXX")["first_name"] == "Kept"
    assert reopened["patients"].get(5) is None
    assert reopened.export_json() == world.export_json()


def test_compaction_folds_the_journal_into_the_tinydb_overlay(tmp_path):
    store = WorldStore(source, 42, 50, data_dir=tmp_path)
    world = store.world("acme")
    for i in range(5):
        world["audit"].insert({"n": i})
    store.close()
    files = TenantFiles(tmp_path / "tenants" / "acme")
    assert files.overlay_path.exists() and not files.journal_path.exists()
    reopened = WorldStore(source, 42, 50, data_dir=tmp_path).world("acme")
    assert [d["n"] for d in reopened["audit"].all()] == [0, 1, 2, 3, 4]


def test_a_torn_last_journal_line_is_ignored(tmp_path):
    store = WorldStore(source, 42, 50, data_dir=tmp_path)
    store.world("acme")["audit"].insert({"n": 1})
    with open(tmp_path / "tenants" / "acme" / "journal.jsonl", "ab") as fh:
        fh.write(b'[["audit",2,{"n":')  # a write cut short by a crash
    reopened = WorldStore(source, 42, 50, data_dir=tmp_path).world("acme")
    assert [d["n"] for d in reopened["audit"].all()] == [1]


def test_reset_with_another_seed_is_remembered_across_restarts(tmp_path):
    store = WorldStore(source, 42, 50, data_dir=tmp_path)
    store.reset("acme", seed=7, patients=20)
    reopened = WorldStore(source, 42, 50, data_dir=tmp_path).world("acme")
    assert reopened.meta["seed"] == 7
    assert len(reopened["patients"]) == len(source(7, 20)["patients"])


def test_tenants_are_isolated(tmp_path):
    store = WorldStore(source, 42, 50, data_dir=tmp_path)
    store.world("a")["audit"].insert({"n": 1})
    assert store.world("b")["audit"].all() == []
    assert store.tenants() == ["a", "b"]


@pytest.mark.parametrize("name,ok", [("default", True), ("ci-job_7", True), ("a" * 64, True), ("a" * 65, False),
                                     ("../etc", False), ("", False), ("sp ace", False)])
def test_tenant_names_are_validated(name, ok):
    assert WorldStore.valid_tenant(name) is ok
