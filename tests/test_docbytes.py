"""Journal lines and overlay files built from each document's cached JSON are exactly json.dumps of the whole."""

from __future__ import annotations

import random

from opescare_sandbox.storage import persistence, writejournal
from opescare_sandbox.storage.docbytes import DocumentBytes, dumps


def _doc(rng: random.Random, n: int) -> dict:
    return {"id": f"rec_{n}", "name": rng.choice(["Ngono", "Élodie", "李", "O'Neil \"Jr\"", "tab\there"]),
            "value": rng.choice([1, 2.5, None, True, [1, {"a": "ü"}], {"nested": {"deep": [None]}}]), "n": n}


def test_transactions_and_overlays_match_json_dumps_of_the_whole_over_many_writes():
    rng, cache = random.Random(7), DocumentBytes()
    tables = {name: {} for name in ("audit", "patients", "records")}
    for step in range(600):
        changes = []
        for _ in range(rng.randint(1, 4)):
            name, doc_id = rng.choice(list(tables)), rng.randint(1, 40)
            doc = None if rng.random() < 0.2 else _doc(rng, step)
            if doc is None:
                tables[name].pop(doc_id, None)
            else:
                tables[name][doc_id] = doc
            changes.append([name, doc_id, doc])
        assert cache.transaction(changes) == dumps(changes)
        if step % 50 == 49:
            state = {name: {"docs": dict(docs), "removed": sorted(rng.sample(range(50, 60), 2)), "next_id": 99}
                     for name, docs in tables.items()}
            assert b"".join(cache.overlay(state)) == dumps(persistence.state_data(state))


def test_a_replaced_document_is_serialised_again_even_under_the_same_id():
    cache = DocumentBytes()
    first, second = {"v": 1}, {"v": 2}
    assert cache.transaction([["t", 1, first]]) == b'[["t",1,{"v":1}]]'
    assert cache.transaction([["t", 1, second]]) == b'[["t",1,{"v":2}]]'
    state = {"t": {"docs": {1: second}, "removed": [], "next_id": 2}}
    body = b"".join(cache.overlay(state))
    assert b"{\"v\":2}" in body and b"{\"v\":1}" not in body


def test_the_overlay_file_is_the_json_of_the_whole_and_reads_back_and_journal_lines_carry_checksums(tmp_path):
    files = persistence.TenantFiles(tmp_path)
    files.append([["patients", 1, {"name": "Élodie"}], ["audit", 2, None]])
    line = (tmp_path / "journal.jsonl").read_bytes().splitlines()[1] + b"\n"
    assert line == writejournal.encode([["patients", 1, {"name": "Élodie"}], ["audit", 2, None]])
    state = {"patients": {"docs": {1: {"name": "Élodie"}}, "removed": [], "next_id": 2}}
    files.write_overlay(state)
    data = persistence.state_data(state)
    marker = {"generation": 1, "checksum": persistence._overlay_checksum(1, dumps(data))}
    assert files.overlay_path.read_bytes() == dumps({**data, persistence.GENERATION_TABLE: {"1": marker}})
    again = persistence.TenantFiles(tmp_path)
    overlay, journal = again.load()
    assert overlay["patients"]["docs"] == {1: {"name": "Élodie"}} and journal == []
