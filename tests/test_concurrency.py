"""Concurrency over a real server (`opescare-sandbox serve`, granian, disk storage as users run it).

Many threads hit the same world at once; afterwards the stored world (read back by the CLI's export,
in a fresh process, as a restart would) must hold exactly what was acknowledged: no lost, duplicated
or torn writes, no 5xx.
"""

from __future__ import annotations

import collections
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live_server import LiveServer, export_world
from tests.reliability_report import count

RESOLVE = "/api/v1/connect/patients/resolve"
THREADS, REQUESTS_PER_THREAD = 16, 500
SEEDED_DEMO1 = "OPC-2024-DEMO1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("concurrency")
    with LiveServer(data_dir, "--threads", "16") as live:
        live.data_dir = data_dir
        yield live


def test_32_threads_resolving_the_same_new_patient_create_exactly_one(server):
    token = server.token()
    body = {"first_name": "Concurrent", "last_name": "Twin", "date_of_birth": "1991-02-03", "sex": "female"}
    barrier = threading.Barrier(32)

    def resolve(_):
        with requests.Session() as session:
            barrier.wait()
            answer = session.post(server.url + RESOLVE, json=body, timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            return answer.status_code, answer.json()["health_id"]

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(resolve, range(32)))
    statuses = collections.Counter(status for status, _ in results)
    assert statuses == {201: 1, 200: 31}
    assert len({health_id for _, health_id in results}) == 1


class Worker:
    """One thread's 500 mixed requests; it tallies what the server acknowledged."""

    def __init__(self, server, number: int, token: str, prod_token: str):
        self.server, self.number = server, number
        self.demo = {"Authorization": f"Bearer {token}"}
        self.prod = {"Authorization": f"Bearer {prod_token}"}
        self.rng = random.Random(number)
        self.statuses: collections.Counter = collections.Counter()
        self.created: list[str] = []
        self.pushed: set[str] = set()
        self.audited = 0
        self.session = requests.Session()

    def run(self) -> Worker:
        with self.session:
            for i in range(REQUESTS_PER_THREAD):
                self.one(i)
        return self

    def one(self, i: int) -> None:
        kind = self.rng.choice(["create", "find", "verify", "search", "push", "records", "inventory", "grant"])
        url = self.server.url + "/api/v1/connect"
        if kind == "create" or (kind == "find" and not self.created):
            body = {"first_name": f"T{self.number}", "last_name": f"Load{i}", "date_of_birth": "1980-01-01"}
            answer = self.send("post", url + "/patients/resolve", self.demo, json=body, ok=201)
            self.created.append(answer.json()["health_id"])
            self.audited += 1
        elif kind == "find":
            self.send("post", url + "/patients/resolve", self.demo, json={"health_id": self.rng.choice(self.created)})
            self.audited += 1
        elif kind == "verify":
            self.send("get", f"{url}/patients/verify/{SEEDED_DEMO1}", self.demo)
            self.audited += 1
        elif kind == "search":
            self.send("get", f"{url}/patient/search?health_id={SEEDED_DEMO1}", self.demo)
            self.audited += 1
        elif kind == "push":
            external = f"ENC-{self.number}-{i}"
            body = {"health_id": SEEDED_DEMO1, "external_encounter_id": external, "encounter_type": "outpatient"}
            answer = self.send("post", url + "/records/encounters", self.prod, json=body,
                               headers={"Idempotency-Key": external})
            assert answer.json()["status"] == "accepted"
            self.pushed.add(external)
        elif kind == "records":
            self.send("get", f"{url}/patient/{SEEDED_DEMO1}/records?type=all", self.demo)
            self.audited += 1  # records.read
        elif kind == "inventory":
            self.send("get", url + "/inventory/pharmacy/00000000-0000-0000-0000-100000000001", self.demo)
        else:
            self.send("post", f"{url}/patient/OPC-2024-XK7T9/consent/grant", self.demo, json={}, ok=201)
            self.audited += 1  # consent.grant

    def send(self, method, url, auth, ok=200, headers=None, **kwargs):
        answer = self.session.request(method, url, headers={**auth, **(headers or {})}, timeout=60, **kwargs)
        self.statuses[answer.status_code] += 1
        assert answer.status_code == ok, (url, answer.status_code, answer.text[:300])
        return answer


def test_16_threads_of_mixed_requests_lose_and_duplicate_nothing(server):
    token, prod_token = server.token(), server.prod_token()
    baseline = requests.get(server.url + "/sandbox/audit?limit=1000", timeout=10).json()["data"]
    with ThreadPoolExecutor(THREADS) as pool:
        workers = list(pool.map(lambda n: Worker(server, n, token, prod_token).run(), range(THREADS)))
    statuses = sum((w.statuses for w in workers), collections.Counter())
    count("concurrency requests sent", sum(statuses.values()))
    assert sum(statuses.values()) == THREADS * REQUESTS_PER_THREAD and set(statuses) <= {200, 201}

    server.stop()
    world = export_world(server.data_dir)  # valid JSON, loaded as a restart loads it
    created = [hid for w in workers for hid in w.created]
    resolved = {p["health_id"] for p in world["patients"].values() if p.get("source") == "resolve"}
    assert len(created) == len(set(created)) and set(created) <= resolved
    assert len(resolved) == len(created) + 1  # + the twin of the first test
    encounters = {r["payload"]["external_encounter_id"] for r in world["records"].values() if r["kind"] == "encounter"}
    assert encounters == set().union(*(w.pushed for w in workers))
    assert len(world["records"]) == sum(len(w.pushed) for w in workers)
    assert len(world["audit"]) == len(baseline) + sum(w.audited for w in workers)
    count("concurrency patients created", len(created))
    count("concurrency encounters pushed", len(encounters))
