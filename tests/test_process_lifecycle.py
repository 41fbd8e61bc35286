"""The server as a process: one per data directory, a busy port in one line, a clean stop within 2 s, the CLI's help.

The stop test is what a terminal's Ctrl-C does 50 times: SIGINT to the process group right after mixed
requests, with a request still in flight and a webhook receiver that never answers subscribed. Every stop
must end the server within 2 s (a liveness bound; the median is reported), leave the undelivered deliveries
pending on disk and the journal folded into the overlay.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from opescare_sandbox.cli import main
from opescare_sandbox.config import DEFAULTS
from opescare_sandbox.storage.persistence import TenantFiles
from tests.live_server import LiveServer, free_port
from tests.reliability_report import count

STOPS = 50
LANES = 5  # servers started and stopped side by side: each lane keeps its data directory across its runs
STOP_BOUND = 2.0  # seconds, the liveness bound
REPO = Path(__file__).resolve().parent.parent


def cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    return subprocess.run([sys.executable, "-m", "opescare_sandbox", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_line(done: subprocess.CompletedProcess) -> str:
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0, output
    assert len(output.splitlines()) == 1, output  # never a traceback, never the banner
    return output


# -- one server per data directory, a busy port -------------------------------------------------------------
@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("held"), "--patients", "5") as server:
        yield server


def test_a_second_server_on_the_same_data_directory_and_port_exits_with_one_line(running):
    line = one_line(cli("serve", "--data-dir", str(running.data_dir), "--port", str(running.port)))
    assert str(running.data_dir.resolve()) in line and f"process {running.process.pid}" in line


def test_a_second_server_on_the_same_data_directory_and_another_port_exits_with_one_line(running):
    line = one_line(cli("serve", "--data-dir", str(running.data_dir), "--port", str(free_port())))
    assert str(running.data_dir.resolve()) in line and f"process {running.process.pid}" in line
    assert requests.get(running.url + "/sandbox/health", timeout=5).status_code == 200  # the first one serves on


def test_another_sandbox_on_the_port_exits_with_one_line(running, tmp_path):
    line = one_line(cli("serve", "--data-dir", str(tmp_path), "--port", str(running.port)))
    assert f"port {running.port} on 127.0.0.1 is already in use" in line


def test_a_port_held_by_another_program_exits_with_one_line(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        line = one_line(cli("serve", "--data-dir", str(tmp_path), "--port", str(port)))
    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert not (tmp_path / "tenants").exists()


def test_repair_reset_and_export_refuse_a_data_directory_in_use(running):
    for command in ("repair", "reset", "export"):
        line = one_line(cli(command, "--data-dir", str(running.data_dir)))
        assert f"process {running.process.pid}" in line


def test_the_lock_is_released_when_the_server_is_killed(tmp_path):
    server = LiveServer(tmp_path, "--patients", "5").start()
    server.kill()  # SIGKILL: no clean-up code runs, the kernel drops the lock
    server.start()
    server.stop()


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_the_worker_does_not_outlive_a_killed_main_process(tmp_path):
    server = LiveServer(tmp_path, "--patients", "5").start()
    worker = int(Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()[0])
    os.kill(server.process.pid, signal.SIGKILL)  # the main process only: its worker gets SIGTERM from the kernel
    server.process.wait(10)
    try:
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker), "the worker outlived its main process"
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)
    server.start()  # the lock went with the worker
    server.stop()


# -- the CLI ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], *([name] for name in main.commands)])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_takes_dash_h_and_dash_dash_help(command, flag):
    result = CliRunner().invoke(main, [*command, flag])
    assert result.exit_code == 0 and result.output.startswith("Usage:"), result.output


def test_serve_help_shows_the_defaults_and_every_sandbox_variable():
    text = CliRunner().invoke(main, ["serve", "--help"]).output
    flat = " ".join(text.split()).replace("- ", "-")  # click wraps long help lines
    for shown in (f"default {DEFAULTS['HOST']}", f"default {DEFAULTS['PORT']}", f"default {DEFAULTS['DATA_DIR']}"):
        assert shown in flat
    for key in DEFAULTS:
        assert re.search(rf"^\s+SANDBOX_{key}\s", text, re.M), key


def test_the_configuration_docs_list_every_sandbox_variable():
    docs = (REPO / "docs" / "configuration.md").read_text()
    missing = [key for key in DEFAULTS if f"`SANDBOX_{key}`" not in docs]
    assert not missing


@pytest.mark.parametrize("env,make_args,port", [
    ({}, [], "8080"), ({"SANDBOX_PORT": "18770"}, [], "18770"), ({"SANDBOX_PORT": "18770", "PORT": "18771"}, [], "18771"),
    ({"SANDBOX_PORT": "18770"}, ["PORT=18772"], "18772")])
def test_make_run_honours_port_then_sandbox_port(env, make_args, port):
    outer = ("PORT", "HOST", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")  # `make test` passes its own on to us
    base = {k: v for k, v in os.environ.items() if k not in outer and not k.startswith("SANDBOX_")}
    done = subprocess.run(["make", "-n", "run", *make_args], cwd=REPO, env={**base, **env,
                          "SANDBOX_HOST": "127.0.0.2"}, capture_output=True, text=True, timeout=30)
    command = next(line for line in done.stdout.splitlines() if " serve " in line)
    assert command.endswith(f"--host 127.0.0.2 --port {port}"), command


# -- a clean stop, 50 times --------------------------------------------------------------------------------
class NeverAnswers:
    """A webhook receiver that accepts connections (the kernel's backlog does) and never says a word."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/hook"


def stop_once(server: LiveServer, receiver: NeverAnswers, run: int) -> float:
    """Mixed requests, one left in flight, then SIGINT to the group as a terminal's Ctrl-C; the seconds it took."""
    server.start()
    api, session = server.url + "/api/v1/connect", requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token(session)}"
    if run < LANES:  # the subscription is stored: later runs resume its pending deliveries on start
        answer = session.post(api + "/webhooks/subscriptions", timeout=10,
                              json={"callback_url": receiver.url, "subscribed_events": ["patient.created"]})
        assert answer.status_code == 201, answer.text
    created = session.post(api + "/patients/resolve", timeout=10,
                           json={"first_name": "Stop", "last_name": f"Run{run}", "date_of_birth": "1990-01-01"})
    assert created.status_code == 201, created.text
    session.post(api + "/patient/OPC-2024-XK7T9/consent/grant", json={}, timeout=10).raise_for_status()
    session.get(f"{api}/patients/verify/{created.json()['health_id']}", timeout=10).raise_for_status()
    in_flight = threading.Thread(target=_slow_request, args=(api, session.headers["Authorization"]), daemon=True)
    in_flight.start()
    time.sleep(0.05)  # the slow request has reached the server
    started = time.monotonic()
    os.killpg(server.process.pid, signal.SIGINT)
    try:
        server.process.wait(STOP_BOUND * 5)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail(f"run {run}: still running {STOP_BOUND * 5} s after SIGINT: {server.log_text()}")
    took = time.monotonic() - started
    assert server.process.returncode == 0, server.log_text()
    server.process = None
    return took


def _slow_request(api: str, authorization: str) -> None:
    try:
        requests.get(api + "/patients/verify/OPC-2024-XK7T9", headers={"Authorization": authorization,
                                                                       "Prefer": "delay=5000"}, timeout=10)
    except requests.RequestException:
        pass  # the server stopped under it: never acknowledged


def stop_lane(lane: int, data_dir: Path) -> list[float]:
    receiver = NeverAnswers()
    server = LiveServer(data_dir, "--patients", "5")
    times = []
    try:
        for run in range(lane, STOPS, LANES):
            times.append(stop_once(server, receiver, run))
            files = TenantFiles(data_dir / "tenants" / "default")
            assert not files.journal_path.exists(), f"run {run}: the journal was not compacted on the stop"
            overlay, _ = files.load()
            pending = [d for d in overlay["deliveries"]["docs"].values() if d["url"] == receiver.url]
            assert len(pending) == len(times) and all(d["status"] == "pending" for d in pending), pending
    finally:
        server.kill()
        receiver.socket.close()
    return times


def test_sigint_stops_the_server_cleanly_within_2_seconds_50_times(tmp_path):
    with ThreadPoolExecutor(LANES) as pool:
        lanes = pool.map(stop_lane, range(LANES), [tmp_path / f"lane{i}" for i in range(LANES)])
        times = [took for lane in lanes for took in lane]
    assert len(times) == STOPS
    slow = [round(t, 2) for t in times if t > STOP_BOUND]
    count("clean stops within 2 s (of 50)", STOPS - len(slow))
    count("clean stop median (ms)", round(statistics.median(times) * 1000))
    assert not slow, f"stops over {STOP_BOUND} s: {slow}"


def test_sigterm_to_the_main_process_alone_stops_it_cleanly(tmp_path):
    server = LiveServer(tmp_path, "--patients", "5").start()
    token = server.token()
    requests.post(server.url + "/api/v1/connect/patients/resolve", headers={"Authorization": f"Bearer {token}"},
                  json={"first_name": "Term", "last_name": "Only", "date_of_birth": "1990-01-01"}, timeout=10)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)  # not the group: as `kill PID` or a service manager does it
    server.process.wait(STOP_BOUND * 5)
    assert time.monotonic() - started < STOP_BOUND and server.process.returncode == 0
    server.process = None
    assert not (tmp_path / "tenants" / "default" / "journal.jsonl").exists()


def test_waitress_stops_cleanly_on_sigint_too(tmp_path):
    server = LiveServer(tmp_path, "--patients", "5", "--server", "waitress").start()
    server.token()
    started = time.monotonic()
    os.killpg(server.process.pid, signal.SIGINT)
    server.process.wait(STOP_BOUND * 5)
    assert time.monotonic() - started < STOP_BOUND and server.process.returncode == 0
    server.process = None
    assert not (tmp_path / "tenants" / "default" / "journal.jsonl").exists()


def test_the_server_worker_hides_what_it_built_from_the_garbage_collector():
    """serve's worker freezes the app and worlds it built (full collections walked them: the p99) and runs full
    collections less often; a fresh interpreter, so this test process keeps its own collector settings."""
    import subprocess
    import sys

    code = ("import gc; from opescare_sandbox.asgi import build; from opescare_sandbox.serving import GC_THRESHOLDS, "
            "settle_garbage_collector; build({'IN_MEMORY': True, 'WEBHOOK_DELIVERY': False}); settle_garbage_collector(); "
            "print(gc.get_freeze_count(), gc.get_threshold() == GC_THRESHOLDS)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert int(out[0]) > 50_000 and out[1] == "True"  # the app and the default world: ~95,000 objects here
