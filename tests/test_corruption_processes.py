"""Damaged tenant files through real servers: a seeded sample of test_corruption's cases, with SIGKILL and clean stops.

Two data directories side by side, ten tenants each, one case per tenant. In one, every stop is a SIGKILL,
so the journals hold the writes and the cases damage them (a cut in the last three lines, a flipped byte,
a garbage line, a torn tail). In the other, every stop is clean, so the overlays hold the writes and the
cases damage those. Then: start, each damaged tenant answers 503 WORLD_DAMAGED or loads a prefix of its
patients (in creation order); write; stop; `repair`; start; every write acknowledged after the damage is
there, and a repaired tenant takes new writes that survive one more restart.
"""

from __future__ import annotations

import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.conftest import DEMO_CLIENT
from tests.live_server import LiveServer
from tests.reliability_report import count

SEED = 20261130
CASES_PER_LANE = 10
JOURNAL_DAMAGE = ["cut_last_three_lines"] * 4 + ["flip"] * 2 + ["garbage_line"] * 2 + ["cut_anywhere", "torn_tail"]
OVERLAY_DAMAGE = ["flip"] * 4 + ["garbage"] * 3 + ["cut_anywhere"] * 3
NEVER_REFUSED = {"cut_last_three_lines", "cut_anywhere", "torn_tail"}  # a journal's torn last record: a crash's leftover


class Tenant:
    def __init__(self, server: LiveServer, name: str, damage: str):
        self.server, self.name, self.damage = server, name, damage
        self.patients: list[str] = []  # health ids of acknowledged creations, in order
        self.refused = False

    def headers(self) -> dict:
        return {"X-Sandbox-Tenant": self.name}

    def token(self) -> requests.Response:
        return requests.post(self.server.url + "/api/v1/connect/auth/token", headers=self.headers(), timeout=10,
                             json={"grant_type": "client_credentials", **DEMO_CLIENT})

    def auth(self) -> dict:
        answer = self.token()
        assert answer.status_code == 200, answer.text
        return {**self.headers(), "Authorization": f"Bearer {answer.json()['access_token']}"}

    def create(self, n: int) -> list[str]:
        auth, made = self.auth(), []
        for _ in range(n):
            body = {"first_name": "Case", "last_name": f"{self.name}x{len(self.patients)}", "date_of_birth": "1980-01-01"}
            answer = requests.post(self.server.url + "/api/v1/connect/patients/resolve", json=body, headers=auth, timeout=10)
            assert answer.status_code == 201, answer.text
            self.patients.append(answer.json()["health_id"])
            made.append(self.patients[-1])
        return made

    def present(self, health_ids: list[str]) -> list[bool]:
        auth = self.auth()
        return [requests.get(f"{self.server.url}/api/v1/connect/patients/verify/{h}", headers=auth, timeout=10).status_code
                == 200 for h in health_ids]


def damage_file(path: Path, kind: str, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    if kind == "cut_last_three_lines":
        del data[rng.randrange(ends[-4] if len(ends) >= 4 else 0, len(data)):]
    elif kind == "cut_anywhere":
        del data[rng.randrange(len(data)):]
    elif kind == "flip":
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "torn_tail":
        data += b'1234abcd [["patients",9'
    else:  # a garbage line (journal: between lines; overlay: anywhere)
        at = rng.choice([0, *ends]) if kind == "garbage_line" else rng.randrange(len(data))
        data[at:at] = rng.choice([b'[["patients",1,null]]\n', b"\x00" * 30 + b"\n", b"garbage\n"])
    path.write_bytes(bytes(data))


def stop(server: LiveServer, kind: str) -> None:
    server.kill() if kind == "kill" else server.stop()


def run_lane(data_dir: Path, kind: str) -> tuple[int, int]:
    rng = random.Random(f"{SEED}-{kind}")
    server = LiveServer(data_dir, "--patients", "5")
    kinds = JOURNAL_DAMAGE if kind == "kill" else OVERLAY_DAMAGE
    tenants = [Tenant(server, f"case-{kind}-{i}", kinds[i]) for i in range(CASES_PER_LANE)]
    checked = 0
    try:
        server.start()
        for tenant in tenants:
            tenant.create(4)
        stop(server, kind)
        for tenant in tenants:
            file = "journal.jsonl" if kind == "kill" else "overlay.json"
            damage_file(data_dir / "tenants" / tenant.name / file, tenant.damage, rng)

        server.start()
        after_damage = {}
        for tenant in tenants:
            answer = tenant.token()
            if answer.status_code == 503:
                assert kind == "clean" or tenant.damage not in NEVER_REFUSED, f"{tenant.name}: {answer.text}"
                body = answer.json()
                assert body["error_code"] == "WORLD_DAMAGED" and body["file"].startswith(f"tenants/{tenant.name}/")
                tenant.refused = True
                continue
            assert answer.status_code == 200 and kind == "kill", answer.text  # an overlay is checksummed whole
            kept = tenant.present(tenant.patients)
            assert kept == sorted(kept, reverse=True), f"{tenant.name}: not a prefix: {kept}"  # True... then False...
            after_damage[tenant.name] = tenant.create(2)
        stop(server, kind)

        repaired = subprocess.run([sys.executable, "-m", "opescare_sandbox", "repair", "--data-dir", str(data_dir)],
                                  capture_output=True, text=True, timeout=60)
        assert repaired.returncode == 0, repaired.stderr
        for tenant in tenants:
            assert f"{tenant.name}: {'repaired' if tenant.refused else 'intact'}" in repaired.stderr, repaired.stderr

        server.start()
        for tenant in tenants:
            if tenant.refused:
                after_damage[tenant.name] = tenant.create(2)
            else:
                assert all(tenant.present(after_damage[tenant.name])), tenant.name
                checked += len(after_damage[tenant.name])
        stop(server, kind)

        server.start()
        for tenant in tenants:
            assert all(tenant.present(after_damage[tenant.name])), tenant.name
            checked += len(after_damage[tenant.name])
    finally:
        server.stop()
    assert any(t.refused for t in tenants) and (kind == "clean" or not all(t.refused for t in tenants))
    return len(tenants), checked


def test_damaged_files_through_real_servers_killed_and_stopped_cleanly(tmp_path):
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run_lane, [tmp_path / "killed", tmp_path / "stopped"], ["kill", "clean"]))
    count("corruption, real servers: damaged files tried", sum(tried for tried, _ in results))
    count("corruption, real servers: writes acknowledged after the damage, checked (0 lost)",
          sum(checked for _, checked in results))
