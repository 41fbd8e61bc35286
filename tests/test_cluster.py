"""`opescare-sandbox cluster`: the real HAProxy in front of two real workers, each tenant on exactly one of them.

One cluster per module (the tests run in file order on one xdist worker and share it): writes of 50 tenants,
the underscore and duplicated tenant headers, slow bodies held by HAProxy, a worker killed with SIGKILL
while the launcher is paused (so the outage lasts long enough to be watched) and brought back by it, public
limits, a clean stop, then three workers on the same data. HAProxy missing is a failure, never a skip
(`haproxy_binary` says `make test` installs it). The configuration on its own: tests/test_cluster_config.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from opescare_sandbox.cluster.haproxy import PROXY_ERRORS, haproxy_binary
from tests.conftest import DEMO_CLIENT
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent
TENANTS = [f"cl-{n:02d}" for n in range(50)]
STARTUP_SECONDS = 90


class Cluster:
    """The launcher as a user runs it, plus what it wrote to <data-dir>/cluster.json."""

    def __init__(self, data_dir: Path, workers: int = 2):
        self.data_dir, self.workers, self.port = data_dir, workers, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "launcher.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Cluster:
        haproxy_binary()
        command = [sys.executable, "-m", "opescare_sandbox", "cluster", "--workers", str(self.workers),
                   "--port", str(self.port), "--worker-port", "0", "--data-dir", str(self.data_dir),
                   "--patients", "20", "--no-rate-limit"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env["SANDBOX_WEBHOOK_DELIVERY"] = "false"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            if (self.data_dir / "cluster.json").exists():
                return self
            time.sleep(0.1)
        raise AssertionError(f"cluster not ready after {STARTUP_SECONDS} s: {self.log.read_text()}")

    def state(self) -> dict:
        return json.loads((self.data_dir / "cluster.json").read_text())

    def get(self, path: str, tenant: str | None = None, **kwargs) -> requests.Response:
        headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
        return requests.get(self.url + path, headers={**headers, **kwargs.pop("headers", {})}, timeout=10, **kwargs)

    def worker_of(self, tenant: str) -> int:
        answer = self.get("/sandbox/health", tenant)
        assert answer.status_code == 200, answer.text
        return answer.json()["worker"]

    def stop(self) -> int | None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("cluster")).start()
    yield running
    running.stop()


def token(cluster: Cluster, tenant: str) -> dict:
    answer = requests.post(cluster.url + "/api/v1/connect/auth/token", timeout=10,
                           json={"grant_type": "client_credentials", **DEMO_CLIENT},
                           headers={"X-Sandbox-Tenant": tenant})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}", "X-Sandbox-Tenant": tenant}


def create_patient(cluster: Cluster, headers: dict, last_name: str) -> str:
    """An acknowledged write: resolve by demographics creates the patient; its Health ID is returned."""
    body = {"first_name": "Cluster", "last_name": last_name, "date_of_birth": "1990-01-02"}
    answer = requests.post(cluster.url + "/api/v1/connect/patients/resolve", json=body, headers=headers, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["health_id"]


def assert_found(cluster: Cluster, headers: dict, health_id: str) -> None:
    answer = requests.post(cluster.url + "/api/v1/connect/patients/resolve", json={"health_id": health_id},
                           headers=headers, timeout=10)
    assert (answer.status_code, answer.json().get("status")) == (200, "found"), (health_id, answer.text)


# -- tenant affinity -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fifty(cluster):
    """Tenant -> (its worker, its headers, the Health ID of a patient it created through the router)."""
    written = {}
    for tenant in TENANTS:
        headers = token(cluster, tenant)
        health_id = create_patient(cluster, headers, tenant.replace("-", ""))
        written[tenant] = (cluster.worker_of(tenant), headers, health_id)
    return written


def test_fifty_tenants_writes_are_visible_and_each_tenant_stays_on_one_worker(cluster, fifty):
    assert {owner for owner, _, _ in fifty.values()} == {0, 1}  # both workers own some of the 50
    assert cluster.get("/sandbox/health").json()["patients"] == 20  # the launcher's flags reached the workers
    for tenant, (owner, headers, health_id) in fifty.items():
        assert_found(cluster, headers, health_id)
        assert {cluster.worker_of(tenant) for _ in range(3)} == {owner}
        # The tenant's world exists on its worker only.
        direct = {i: requests.get(f"http://127.0.0.1:{w['port']}/sandbox/health", timeout=10).json()["tenants"]
                  for i, w in enumerate(cluster.state()["workers"])}
        assert [i for i, tenants in direct.items() if tenant in tenants] == [owner]


def test_no_tenant_header_is_the_default_tenants_worker(cluster):
    assert {cluster.worker_of(None) for _ in range(3)} == {cluster.worker_of("default")}


@pytest.mark.parametrize("header", ["X_Sandbox_Tenant", "x_sandbox_tenant", "X-Sandbox_Tenant", "X_SANDBOX-TENANT"])
def test_an_underscore_spelling_of_the_tenant_header_is_400(cluster, header):
    for extra in ({}, {"X-Sandbox-Tenant": "cl-00"}):
        answer = cluster.get("/sandbox/health", headers={header: "cl-01", **extra})
        assert answer.status_code == 400
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json() == PROXY_ERRORS["400-tenant-underscore.json"].to_dict()


def test_a_duplicated_tenant_header_is_400(cluster):
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=10) as sock:
        sock.sendall(b"GET /sandbox/health HTTP/1.1\r\nHost: x\r\nX-Sandbox-Tenant: cl-00\r\n"
                     b"X-Sandbox-Tenant: cl-01\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body) == PROXY_ERRORS["400-tenant-duplicate.json"].to_dict()
    listed = cluster.get("/sandbox/health", "cl-00, cl-01")  # two values on one line: the same thing
    assert (listed.status_code, listed.json()) == (400, PROXY_ERRORS["400-tenant-duplicate.json"].to_dict())


# -- slow clients ----------------------------------------------------------------------------------------
def test_eight_bodies_that_never_end_do_not_delay_health(cluster):
    """HAProxy buffers each request whole: the worker never sees them, so its threads stay free."""
    senders = []
    stop = threading.Event()
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", cluster.port), timeout=10)
        sock.sendall(b"POST /api/v1/connect/patients/resolve HTTP/1.1\r\nHost: x\r\nX-Sandbox-Tenant: default\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        senders.append(sock)

    def trickle():  # a byte per connection every 0.2 s, for at most 5 s: the bodies never end meanwhile
        for _ in range(25):
            if stop.wait(0.2):
                return
            for sock in senders:
                sock.sendall(b" ")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # the slow bodies are in
        delays = []
        for _ in range(5):
            started = time.perf_counter()
            answer = cluster.get("/sandbox/health", "default")
            delays.append(time.perf_counter() - started)
            assert answer.status_code == 200
        print(f"health through the router while 8 bodies never end: max {max(delays) * 1000:.1f} ms")
        assert max(delays) < 1.0, delays  # a liveness bound, not a speed target
        assert thread.is_alive(), "the bodies ended before health was measured"
    finally:
        stop.set()
        thread.join(5)
        for sock in senders:
            sock.close()


# -- failure ---------------------------------------------------------------------------------------------
def test_a_killed_worker_is_503_for_its_tenants_only_and_comes_back_with_every_write(cluster, fifty):
    victims = [t for t, (owner, _, _) in fifty.items() if owner == 1]
    others = [t for t, (owner, _, _) in fifty.items() if owner == 0]
    before_kill = create_patient(cluster, fifty[victims[0]][1], "BeforeKill")
    victim_pid = cluster.state()["workers"][1]["pid"]
    # The launcher restarts a worker in about a second; paused, it lets the outage last long enough to watch.
    cluster.process.send_signal(signal.SIGSTOP)
    try:
        os.killpg(victim_pid, signal.SIGKILL)  # the worker's process group: granian's server process with it
        killed = time.monotonic()
        answer = cluster.get("/sandbox/health", victims[0])
        seconds = time.monotonic() - killed
        assert answer.status_code == 503 and seconds < 2.0, (answer.status_code, seconds)  # a liveness bound
        print(f"first answer to a killed worker's tenant: {answer.status_code} after {seconds * 1000:.0f} ms")
        assert answer.json() == PROXY_ERRORS["503.json"].to_dict()
        assert answer.headers["Retry-After"] == "1" and answer.headers["Content-Type"] == "application/json"
        during = create_patient(cluster, fifty[others[0]][1], "DuringOutage")
        for victim, other in zip(victims[1:4], others[1:4], strict=True):
            assert cluster.get("/sandbox/health", victim).status_code == 503  # never the other worker's 200
            assert cluster.worker_of(other) == 0
    finally:
        cluster.process.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 60
    while (answer := _health_or_none(cluster, victims[0])) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answer is not None and answer["worker"] == 1, cluster.log.read_text()
    assert cluster.state()["workers"][1]["pid"] != victim_pid
    for tenant, (owner, headers, health_id) in fifty.items():
        assert_found(cluster, headers, health_id)
        assert cluster.worker_of(tenant) == owner
    assert_found(cluster, fifty[victims[0]][1], before_kill)
    assert_found(cluster, fifty[others[0]][1], during)


def _health_or_none(cluster: Cluster, tenant: str) -> dict | None:
    answer = cluster.get("/sandbox/health", tenant)
    return answer.json() if answer.status_code == 200 else None


def test_public_mode_limits_token_requests_per_source(cluster, tmp_path):
    """A second HAProxy, in public mode, in front of the same workers: the 61st token request in 10 s is 429."""
    from opescare_sandbox.cluster.haproxy import write_haproxy

    port = free_port()
    config = write_haproxy(tmp_path, f"127.0.0.1:{port}", [w["port"] for w in cluster.state()["workers"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")} | {"SANDBOX_PUBLIC": "1"}
    proxy = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/sandbox/health", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        statuses = []
        with requests.Session() as session:
            for _ in range(65):
                answer = session.post(url + "/api/v1/connect/auth/token", timeout=10,
                                      json={"grant_type": "client_credentials", **DEMO_CLIENT})
                statuses.append(answer.status_code)
            assert statuses[:60] == [200] * 60 and set(statuses[60:]) == {429}, statuses
            assert answer.json() == PROXY_ERRORS["429.json"].to_dict() and answer.headers["Retry-After"] == "10"
            assert session.get(url + "/sandbox/health", timeout=10).status_code == 200  # not a limited path
    finally:
        proxy.terminate()
        proxy.wait(10)


def test_a_killed_haproxy_is_restarted_and_tenants_stay_on_their_workers(cluster, fifty):
    old = cluster.state()["haproxy"]["pid"]
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if cluster.get("/sandbox/health").status_code == 200 and cluster.state()["haproxy"]["pid"] != old:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    assert cluster.state()["haproxy"]["pid"] != old, cluster.log.read_text()
    for tenant, (owner, _, _) in list(fifty.items())[:10]:
        assert cluster.worker_of(tenant) == owner


def test_sigterm_stops_haproxy_and_every_worker(cluster):
    state = cluster.state()
    pids = [state["haproxy"]["pid"]] + [w["pid"] for w in state["workers"]]
    started = time.monotonic()
    assert cluster.stop() == 0
    assert time.monotonic() - started < 15, "the launcher took too long to stop"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # nothing of the group left, granian's server processes included
    with pytest.raises(requests.ConnectionError):
        requests.get(cluster.url + "/sandbox/health", timeout=5)
    assert not (cluster.data_dir / "cluster.json").exists()


def test_with_three_workers_unmoved_tenants_keep_their_worlds_and_moved_ones_start_fresh(cluster, fifty):
    """The same data directory under three workers: consistent hashing moves tenants only to the new worker."""
    cluster.stop()
    logged = cluster.log.stat().st_size
    bigger = Cluster(cluster.data_dir, workers=3).start()
    try:
        moved = []
        for tenant, (owner, _, health_id) in fifty.items():
            now = bigger.worker_of(tenant)
            headers = token(bigger, tenant)
            if now == owner:
                assert_found(bigger, headers, health_id)
                continue
            assert now == 2, (tenant, owner, now)  # never from worker 0 to worker 1 or back
            answer = requests.post(bigger.url + "/api/v1/connect/patients/resolve", json={"health_id": health_id},
                                   headers=headers, timeout=10)
            assert answer.status_code == 404, answer.text  # a fresh world on its new worker
            moved.append(tenant)
        assert 0 < len(moved) < len(fifty)
        said = cluster.log.read_bytes()[logged:].decode()
        assert f"{len(moved)} tenant(s) are stored on a worker that no longer owns them" in said, said
        assert sum(f"{tenant} (worker-" in said for tenant in moved) == min(10, len(moved))  # names the first 10
    finally:
        bigger.stop()


