"""Part 1: cold start, process start to the first 200, median of `runs` fresh processes each.

Sandbox: `opescare-sandbox serve` (granian) --in-memory, and on disk in a new temporary data directory
(a first start: it generates the template and writes the cache) and again in that directory (a restart:
template from the cache, worlds from their files). First 200 from GET /sandbox/health, and in separate
starts from POST /api/v1/connect/auth/token. References: `python -c "import flask"` and the bare Flask
hello-world on the same server with the same settings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

from common import DEMO, HOST, free_port, hello_args, median, process, sandbox_args, until_ok

TOKEN_BODY = json.dumps({"grant_type": "client_credentials", "client_id": DEMO[0], "client_secret": DEMO[1]}).encode()


def first_ok(args: list[str], path: str, token: bool = False) -> float:
    """Seconds from spawning the process to its first 200 on `path`."""
    port = free_port()
    started = time.perf_counter()
    with process(args(port)):
        data, headers = (TOKEN_BODY, {"Content-Type": "application/json"}) if token else (None, None)
        answered = until_ok(f"http://{HOST}:{port}{path}", data=data, headers=headers)
    return answered - started


def import_flask() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import flask"], check=True)
    return time.perf_counter() - started


def run(runs: int = 5) -> dict:
    figures = {
        "import_flask_s": median([import_flask() for _ in range(runs)]),
        "hello_first_200_s": median([first_ok(hello_args, "/") for _ in range(runs)]),
    }
    for endpoint, path, token in (("health", "/sandbox/health", False), ("token", "/api/v1/connect/auth/token", True)):
        figures[f"memory_{endpoint}_s"] = median(
            [first_ok(lambda p: sandbox_args(p, "--in-memory"), path, token) for _ in range(runs)])
        first, again = [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as data:
                first.append(first_ok(lambda p, d=data: sandbox_args(p, "--data-dir", d), path, token))
                again.append(first_ok(lambda p, d=data: sandbox_args(p, "--data-dir", d), path, token))
        figures[f"disk_new_{endpoint}_s"], figures[f"disk_restart_{endpoint}_s"] = median(first), median(again)
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
