"""The on-disk template cache: a cached world is the generated world, document for document, and a bad file is regenerated."""

from __future__ import annotations

import json
import shutil

import pytest
from tinydb import TinyDB

from opescare_sandbox import create_app
from opescare_sandbox.domain import seed
from opescare_sandbox.domain.seed import build_world, load_or_build
from opescare_sandbox.storage import template_cache

FIXTURES = "fixtures"
SIZE = 300


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "templates"


def tables_of(world) -> dict:
    return {name: (dict(table.docs), table.next_id) for name, table in world.tables.items()}


def test_a_cached_template_is_the_generated_world(cache_dir):
    generated = load_or_build(42, SIZE, FIXTURES, cache_dir)  # generates and writes the file
    cached = template_cache.load(template_cache.path_for(cache_dir, 42, SIZE, FIXTURES))
    assert tables_of(cached) == tables_of(generated)
    assert cached.export_json() == build_world(42, SIZE, FIXTURES).export_json()
    assert cached.frozen


def test_a_cached_template_answers_every_indexed_lookup_as_the_generated_one(cache_dir):
    generated = load_or_build(42, SIZE, FIXTURES, cache_dir)
    cached = load_or_build(42, SIZE, FIXTURES, cache_dir)
    for table, index in [("patients", "health_id"), ("patients", "match_key"), ("openeyes_patients", "identifier"),
                         ("openeyes_patients", "last_name"), ("consents", "patient_client")]:
        assert cached[table].indexes[index].ids == generated[table].indexes[index].ids, (table, index)
    assert cached["openeyes_patients"].prefix("last_name", "sm") == generated["openeyes_patients"].prefix("last_name", "sm")


def test_the_second_build_reads_the_file_instead_of_generating(cache_dir, monkeypatch):
    first = load_or_build(42, SIZE, FIXTURES, cache_dir)
    monkeypatch.setattr(seed, "build_world", lambda *args: pytest.fail("generated again"))
    assert tables_of(load_or_build(42, SIZE, FIXTURES, cache_dir)) == tables_of(first)


def test_the_file_is_a_tinydb_database_named_by_seed_size_and_digest(cache_dir):
    world = load_or_build(7, SIZE, FIXTURES, cache_dir)
    [path] = cache_dir.iterdir()
    assert path.name == f"seed7-n{SIZE}-{template_cache.digest(FIXTURES)}.json"
    db = TinyDB(path)
    assert [dict(doc) for doc in db.table("patients").all()] == [dict(doc) for doc in world["patients"].all()]
    assert db.table("meta").get(doc_id=1)["seed"] == 7


def test_changed_fixtures_give_another_file(tmp_path):
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    before = template_cache.digest(str(copy))
    facilities = json.loads((copy / "facilities.json").read_text())
    facilities["facilities"][0]["name"] = "Renamed Hospital"
    (copy / "facilities.json").write_text(json.dumps(facilities))
    template_cache.digest.cache_clear()
    assert template_cache.digest(str(copy)) != before


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],  # torn: cut in the middle
    lambda text: "",
    lambda text: text.replace('"health_id":', '"health_id"', 1),  # not JSON
    lambda text: "[1, 2, 3]\n",  # JSON, not a template
], ids=["torn", "empty", "garbled", "not-a-template"])
def test_an_unreadable_file_is_regenerated_and_rewritten(cache_dir, damage):
    generated = load_or_build(42, SIZE, FIXTURES, cache_dir)
    path = template_cache.path_for(cache_dir, 42, SIZE, FIXTURES)
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert tables_of(load_or_build(42, SIZE, FIXTURES, cache_dir)) == tables_of(generated)
    assert tables_of(template_cache.load(path)) == tables_of(generated)


def test_an_unwritable_cache_only_costs_time(tmp_path):
    blocker = tmp_path / "templates"
    blocker.write_text("a file where the directory should be")
    assert tables_of(load_or_build(42, SIZE, FIXTURES, blocker)) == tables_of(build_world(42, SIZE, FIXTURES))


@pytest.mark.parametrize("in_memory", [False, True])
def test_only_a_disk_backed_sandbox_caches_templates(tmp_path, in_memory):
    data = tmp_path / "data"
    app = create_app({"TESTING": True, "IN_MEMORY": in_memory, "DATA_DIR": str(data), "PATIENTS": 57, "SEED": 1234,
                      "WEBHOOK_DELIVERY": False})
    app.extensions["opescare_sandbox"].store.world("default")
    files = sorted(p.name for p in (data / "templates").glob("*.json")) if (data / "templates").exists() else []
    assert files == ([] if in_memory else [f"seed1234-n57-{template_cache.digest(app.config['FIXTURES_DIR'])}.json"])


def test_an_app_restarted_on_a_cached_template_exports_the_same_bytes(tmp_path, monkeypatch):
    def export(**settings):
        app = create_app({"TESTING": True, "PATIENTS": 41, "SEED": 99, "WEBHOOK_DELIVERY": False, **settings})
        return app.extensions["opescare_sandbox"].store.world("default").export_json()

    generated = export(DATA_DIR=str(tmp_path / "a"))
    seed._cached_template.cache_clear()  # a new process: only the file is left
    monkeypatch.setattr(seed, "build_world", lambda *args: pytest.fail("generated again"))
    assert export(DATA_DIR=str(tmp_path / "a")) == generated
    monkeypatch.undo()
    assert export(IN_MEMORY=True) == generated


def test_writing_a_template_deletes_those_of_older_code_for_the_same_seed_and_size(cache_dir):
    cache_dir.mkdir()
    for name in ("seed42-n300-0000000000000000.json", "seed42-n30-0000000000000000.json", "seed4-n300-0000000000000000.json"):
        (cache_dir / name).write_text("{}")
    load_or_build(42, SIZE, FIXTURES, cache_dir)
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([
        f"seed42-n300-{template_cache.digest(FIXTURES)}.json", "seed42-n30-0000000000000000.json",
        "seed4-n300-0000000000000000.json"])
