"""A real `opescare-sandbox serve` process (granian, as users run it) on a free port, for the over-the-wire tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.conftest import DEMO_CLIENT, PROD_CLIENT

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`with LiveServer(data_dir) as server:` ... `server.url`, `server.kill()`, `server.start()` again."""

    def __init__(self, data_dir: Path | None = None, *flags: str, env: dict | None = None):
        self.data_dir, self.flags, self.env = data_dir, flags, env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix=f"sandbox-{self.port}-", suffix=".log")[1])

    def start(self) -> LiveServer:
        storage = ["--data-dir", str(self.data_dir)] if self.data_dir else ["--in-memory"]
        command = [sys.executable, "-m", "opescare_sandbox", "serve", "--port", str(self.port), "--no-rate-limit",
                   *storage, *self.flags]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")} | self.env
        with open(self.log, "ab") as output:  # the child keeps its own descriptor
            self.process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_text()}")
            try:
                if requests.get(self.url + "/sandbox/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"server not ready after {STARTUP_SECONDS}s: {self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL the whole process group (granian runs workers): no clean-up code runs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def token(self, session: requests.Session | None = None, creds: dict = DEMO_CLIENT) -> str:
        answer = (session or requests).post(self.url + "/api/v1/connect/auth/token", timeout=10,
                                            json={"grant_type": "client_credentials", **creds})
        answer.raise_for_status()
        return answer.json()["access_token"]

    def prod_token(self) -> str:
        return self.token(creds=PROD_CLIENT)


def export_world(data_dir: Path, tenant: str = "default") -> dict:
    """The stored world, read the way a restarted server reads it (the CLI's export, in a fresh process)."""
    done = subprocess.run([sys.executable, "-m", "opescare_sandbox", "export", "--data-dir", str(data_dir), "--tenant", tenant],
                          capture_output=True, timeout=120, check=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")})
    return json.loads(done.stdout)
