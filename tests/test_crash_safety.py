"""Crash safety: `kill -9` a real server (disk storage, the default) at random moments while a client writes.

Every write the server acknowledged with a 2xx before the kill must be there after the restart; the
store must always load. Writes: resolves that create a patient, consent grants (each with a later
expiry, so the latest acknowledged one is recognisable) and encounter pushes. Kill delays come from a
seeded RNG, so a failure can be replayed.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import requests

from tests.live_server import LiveServer, export_world
from tests.reliability_report import count

KILLS = 30
SEED = 20261121
MAX_SECONDS = 150  # the whole test; it stops killing (and says how many) if the machine is this slow
GRANT_BASE = datetime(2099, 1, 1, tzinfo=UTC)
PATIENT = "OPC-2024-XK7T9"


class Writer(threading.Thread):
    """Writes until the server dies; records only what was acknowledged with a 2xx."""

    def __init__(self, url: str, demo: str, prod: str, start_at: int):
        super().__init__(daemon=True)
        self.url, self.n = url + "/api/v1/connect", start_at
        self.demo, self.prod = {"Authorization": f"Bearer {demo}"}, {"Authorization": f"Bearer {prod}"}
        self.patients: list[str] = []
        self.encounters: dict[str, str] = {}  # idempotency key -> opescare_record_id
        self.latest_grant: str | None = None

    def run(self) -> None:
        with requests.Session() as session:
            while True:
                self.n += 1
                try:
                    self.write(session, self.n)
                except requests.RequestException:
                    return  # the server is gone: this write was never acknowledged

    def write(self, session: requests.Session, n: int) -> None:
        kind = n % 3
        if kind == 0:
            body = {"first_name": "Crash", "last_name": f"Test{n}", "date_of_birth": "1985-05-05"}
            answer = session.post(self.url + "/patients/resolve", json=body, headers=self.demo, timeout=10)
            assert answer.status_code in (200, 201), answer.text  # 200: created, but killed before the answer
            self.patients.append(answer.json()["health_id"])
        elif kind == 1:
            expires = (GRANT_BASE + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            answer = session.post(f"{self.url}/patient/{PATIENT}/consent/grant", json={"expires_at": expires},
                                  headers=self.demo, timeout=10)
            assert answer.status_code == 201, answer.text
            self.latest_grant = expires
        else:
            key = f"crash-enc-{n}"
            answer = session.post(self.url + "/records/encounters", json=encounter(key),
                                  headers={**self.prod, "Idempotency-Key": key}, timeout=10)
            assert answer.status_code == 200, answer.text
            self.encounters[key] = answer.json()["opescare_record_id"]


def encounter(key: str) -> dict:
    return {"health_id": "OPC-2024-DEMO1", "external_encounter_id": key, "encounter_type": "outpatient"}


def assert_present(server: LiveServer, writer: Writer) -> int:
    """Through the API of the restarted server: every acknowledged write of this round is there."""
    demo = writer.demo
    for health_id in writer.patients:
        answer = requests.post(server.url + "/api/v1/connect/patients/resolve", json={"health_id": health_id},
                               headers=demo, timeout=10)
        assert (answer.status_code, answer.json()["status"]) == (200, "found"), health_id
    for key, record_id in writer.encounters.items():
        # The same key and body again: the stored answer, flagged as a replay, proves the push was kept.
        answer = requests.post(server.url + "/api/v1/connect/records/encounters", json=encounter(key),
                               headers={**writer.prod, "Idempotency-Key": key}, timeout=10)
        assert answer.headers.get("X-Idempotent-Replay") == "true", key
        assert answer.json()["opescare_record_id"] == record_id
    if writer.latest_grant:
        consent = requests.get(f"{server.url}/api/v1/connect/patient/{PATIENT}/consent", headers=demo, timeout=10)
        # A later grant may have been stored and killed before its answer: never an earlier one.
        assert consent.json()["expires_at"] >= writer.latest_grant
    return len(writer.patients) + len(writer.encounters) + (writer.latest_grant is not None)


def test_acknowledged_writes_survive_kill_9(tmp_path):
    rng, started = random.Random(SEED), time.monotonic()
    server = LiveServer(tmp_path).start()
    demo, prod = server.token(), server.prod_token()  # the key and the clients outlive restarts
    kills = verified = n = 0
    all_patients, all_encounters, last_grant = [], {}, None
    try:
        while kills < KILLS and time.monotonic() - started < MAX_SECONDS:
            writer = Writer(server.url, demo, prod, start_at=n)
            writer.start()
            time.sleep(rng.uniform(0.02, 0.6))
            server.kill()
            kills += 1
            writer.join(30)
            assert not writer.is_alive()
            n = writer.n
            server.start()  # the store must load after every kill
            verified += assert_present(server, writer)
            all_patients += writer.patients
            all_encounters |= writer.encounters
            last_grant = writer.latest_grant or last_grant
    finally:
        server.kill()
    count("crash kills survived", kills)
    count("crash acknowledged writes verified", verified)
    assert kills >= 20, f"only {kills} kills in {MAX_SECONDS}s"
    assert verified >= kills  # the writer got writes in between kills, not only connection errors

    world = export_world(tmp_path)  # everything, once more, as a fresh process loads it
    stored = {p["health_id"] for p in world["patients"].values()}
    assert set(all_patients) <= stored
    records = {r["opescare_record_id"] for r in world["records"].values()}
    assert set(all_encounters.values()) <= records
    consent = next(c for c in world["consents"].values()
                   if c["health_id"] == PATIENT and c["client_id"] == "demo_dev_sandbox")
    assert consent["expires_at"] >= last_grant


# -- the window between replacing the overlay and deleting the journal -------------------------------------

def killed_after_the_overlay_was_replaced(app, tmp_path, operation) -> dict:
    """Runs `operation` (which rewrites the overlay), then puts the old journal back, as a kill -9 between
    the overlay's rename and the journal's unlink leaves it; returns what a restarted sandbox serves."""
    from opescare_sandbox import create_app

    journal = tmp_path / "tenants" / "default" / "journal.jsonl"
    old = journal.read_bytes()
    operation()
    journal.write_bytes(old)
    restarted = create_app({"TESTING": True, "IN_MEMORY": False, "DATA_DIR": str(tmp_path),
                            "WEBHOOK_DELIVERY": False})
    return restarted.extensions["opescare_sandbox"].store.world("default").export()


def on_disk(tmp_path):
    from opescare_sandbox import create_app

    app = create_app({"TESTING": True, "IN_MEMORY": False, "DATA_DIR": str(tmp_path), "WEBHOOK_DELIVERY": False})
    return app, app.test_client()


def test_a_reset_killed_before_deleting_the_journal_stays_a_reset(tmp_path):
    app, client = on_disk(tmp_path)
    client.post("/sandbox/clock", json={"advance_seconds": 1000})
    client.post("/sandbox/webhooks/trigger", json={"type": "patient.created"})
    world = killed_after_the_overlay_was_replaced(app, tmp_path, lambda: client.post("/sandbox/reset"))
    assert world["events"] == {} and "clock" not in world["meta"]["1"]  # the discarded changes stay discarded


def test_a_compaction_killed_before_deleting_the_journal_loses_and_repeats_nothing(tmp_path):
    app, client = on_disk(tmp_path)
    for n in range(3):
        client.post("/sandbox/webhooks/trigger", json={"type": "patient.created", "data": {"n": n}})
    world = app.extensions["opescare_sandbox"].store.world("default")
    expected = world.export()
    assert killed_after_the_overlay_was_replaced(app, tmp_path, world.persistence.compact) == expected
    client.post("/sandbox/webhooks/trigger", json={"type": "patient.created", "data": {"n": 3}})  # appends again
    _, again = on_disk(tmp_path)
    registered = again.get("/sandbox/webhooks/deliveries", query_string={"type": "patient.created"}).json["data"]
    assert len(registered) == 4
