"""Helpers shared by the benchmark parts: timing, medians, local servers and their ports. Loopback only."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
SANDBOX = str(VENV_BIN / "opescare-sandbox")
HOST = "127.0.0.1"  # every server and every load generator stays on loopback
DEMO = ("demo_dev_sandbox", "demo_secret_sandbox_2026")
HIS = ("opeshisos_production", "prod_secret_opeshisos_2026")


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def until_ok(url: str, timeout: float = 120.0, data: bytes | None = None, headers: dict | None = None) -> float:
    """Poll `url` until it answers 200; returns the perf_counter time of that answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=data, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.002)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


def post_json(url: str, body: bytes, headers: dict | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def sandbox_env(**extra: str) -> dict:
    """The environment of a sandbox process: no SANDBOX_* leaking in from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    env["SANDBOX_WEBHOOK_DELIVERY"] = "false"
    env.update(extra)
    return env


@contextlib.contextmanager
def process(args: list[str], cwd: Path = ROOT, env: dict | None = None):
    """A child process, ended (SIGTERM, then SIGKILL) when the block ends, whatever happens."""
    child = subprocess.Popen(args, cwd=cwd, env=env or sandbox_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def sandbox_args(port: int, *flags: str) -> list[str]:
    return [SANDBOX, "serve", "--host", HOST, "--port", str(port), *flags]


def hello_args(port: int, *threads: str) -> list[str]:
    """The bare Flask hello-world under granian with the sandbox's own server settings (sandbox.cli)."""
    return [sys.executable, str(BENCH / "serve_hello.py"), str(port), *threads]


def summary(results: list[dict]) -> dict:
    """Medians of wrk runs (each a dict with rps, p50_us, p99_us, errors), as every part reports them."""
    return {
        "rps": median([r["rps"] for r in results]),
        "p50_ms": median([r["p50_us"] for r in results]) / 1000,
        "p99_ms": median([r["p99_us"] for r in results]) / 1000,
        "non_2xx_or_errors": sum(sum(r["errors"].values()) for r in results),
        "runs": results,
    }
