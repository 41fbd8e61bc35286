"""The HAProxy configuration on its own: the committed template and error files, what HAProxy forwards to a
worker, the health field, and deploy/compose.yaml (no Docker engine here: checked, never run).

The live cluster (HAProxy and two real workers) is tests/test_cluster.py. HAProxy missing is a failure.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from opescare_sandbox.cluster.haproxy import PROXY_ERRORS, haproxy_binary, render_haproxy, write_haproxy
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent


# -- the configuration ---------------------------------------------------------------------------------
def test_the_committed_template_differs_from_a_rendering_only_in_bind_and_server_lines():
    template = (ROOT / "deploy" / "haproxy.cfg").read_text()
    rendered = render_haproxy(template, "127.0.0.1:9000", [9001, 9002, 9003])
    kept = [line for line in template.splitlines() if line.split()[:1] not in (["bind"], ["server"])]
    assert [line for line in rendered.splitlines() if line.split()[:1] not in (["bind"], ["server"])] == kept
    assert "    bind 127.0.0.1:9000" in rendered.splitlines()
    assert [line.split()[1:4] for line in rendered.splitlines() if line.split()[:1] == ["server"]] == [
        ["worker-0", "127.0.0.1:9001", "id"], ["worker-1", "127.0.0.1:9002", "id"], ["worker-2", "127.0.0.1:9003", "id"]]


@pytest.mark.parametrize("name", sorted(PROXY_ERRORS))
def test_committed_error_files_are_the_envelopes_of_their_error_classes(name):
    body = json.loads((ROOT / "deploy" / "errors" / name).read_text())
    assert body == PROXY_ERRORS[name].to_dict()
    assert set(body) >= {"error", "error_code", "message", "status"} and body["status"] == int(name[:3])


@pytest.mark.parametrize("public", [False, True])
def test_haproxy_accepts_the_rendered_configuration(tmp_path, public):
    env = {k: v for k, v in os.environ.items() if k != "SANDBOX_PUBLIC"} | ({"SANDBOX_PUBLIC": "1"} if public else {})
    config = write_haproxy(tmp_path, "127.0.0.1:9000", [9001, 9002, 9003])
    done = subprocess.run([haproxy_binary(), "-c", "-f", str(config)], capture_output=True, text=True, env=env,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration file is valid" in done.stdout


# -- the worker field of GET /sandbox/health --------------------------------------------------------------
@pytest.mark.parametrize(("setting", "expected"), [(None, None), ("0", 0), ("3", 3)])
def test_health_names_the_worker_index_and_null_outside_a_cluster(setting, expected):
    from opescare_sandbox import create_app

    app = create_app({"TESTING": True, "IN_MEMORY": True, "PATIENTS": 5, "WORKER": setting})
    try:
        assert app.test_client().get("/sandbox/health").json["worker"] == expected
    finally:
        app.extensions["opescare_sandbox"].extras["webhooks"].close()


class Echo(http.server.BaseHTTPRequestHandler):
    """Stands in for a worker: answers with the header lines HAProxy forwarded to it."""

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        body = json.dumps({"server": self.server.server_port, "headers": self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def test_workers_get_the_proxys_x_forwarded_for_and_the_default_tenant_header(tmp_path):
    echoes = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo) for _ in range(2)]
    for echo in echoes:
        threading.Thread(target=echo.serve_forever, daemon=True).start()
    port = free_port()
    config = write_haproxy(tmp_path, f"127.0.0.1:{port}", [echo.server_port for echo in echoes])
    proxy = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        def forwarded(headers: dict) -> tuple[int, list]:
            deadline = time.monotonic() + 30
            while True:
                try:
                    answer = requests.get(f"http://127.0.0.1:{port}/", headers=headers, timeout=10).json()
                    return answer["server"], [(k.lower(), v) for k, v in answer["headers"]]
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, "HAProxy did not start"
                    time.sleep(0.05)

        server, seen = forwarded({"X-Forwarded-For": "203.0.113.9"})
        assert [v for k, v in seen if k == "x-forwarded-for"] == ["127.0.0.1"]  # the client's spoofed value is gone
        assert [v for k, v in seen if k == "x-sandbox-tenant"] == ["default"]
        assert forwarded({"X-Sandbox-Tenant": ""})[0] == forwarded({"X-Sandbox-Tenant": "default"})[0] == server
    finally:
        proxy.terminate()
        proxy.wait(10)
        for echo in echoes:
            echo.shutdown()
            echo.server_close()


# -- deploy/compose.yaml (no Docker engine here: checked against the CLI and haproxy.cfg, never run) -----------
def compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def test_compose_workers_run_serve_commands_the_cli_accepts_each_with_its_index_and_volume():
    from opescare_sandbox.cli import main

    services = compose()["services"]
    workers = sorted(name for name in services if name.startswith("worker-"))
    assert workers == ["worker-0", "worker-1"]
    volumes = set()
    for index, name in enumerate(workers):
        command = services[name]["command"]
        assert command[:2] == ["opescare-sandbox", "serve"]
        params = main.commands["serve"].make_context("serve", command[2:]).params  # raises on an unknown flag
        assert (params["host"], params["port"], params["data_dir"]) == ("0.0.0.0", 8080, "/data")
        assert services[name]["environment"]["SANDBOX_WORKER"] == str(index)
        volumes.add(services[name]["volumes"][0].split(":")[0])
        assert services["haproxy"]["environment"][f"SANDBOX_WORKER_{index}_ADDR"] == f"{name}:8080"
    assert len(volumes) == len(workers)  # a data directory per worker, never shared


def test_compose_haproxy_runs_the_committed_configuration_on_its_published_port():
    haproxy_service = compose()["services"]["haproxy"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in haproxy_service["volumes"]}
    assert mounts["./haproxy.cfg"] == haproxy_service["command"][-1]
    assert Path(mounts["./errors"]).parent == Path(mounts["./haproxy.cfg"]).parent  # default-path config
    port = haproxy_service["environment"]["SANDBOX_BIND"].rsplit(":", 1)[1]
    assert haproxy_service["ports"] == [f"{port}:{port}"]
    template = (ROOT / "deploy" / "haproxy.cfg").read_text()
    servers = [line.split()[1] for line in template.splitlines() if line.split()[:1] == ["server"]]
    assert servers == sorted(name for name in compose()["services"] if name.startswith("worker-"))
    # The compose environment, with loopback addresses for the names only Docker's DNS knows.
    env = {**haproxy_service["environment"], "PATH": os.environ.get("PATH", ""),
           "SANDBOX_WORKER_0_ADDR": "127.0.0.1:8081", "SANDBOX_WORKER_1_ADDR": "127.0.0.1:8082"}
    done = subprocess.run([haproxy_binary(), "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")], capture_output=True,
                          text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
