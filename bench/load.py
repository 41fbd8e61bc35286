"""Part 3: throughput and p50/p99 latency over loopback with wrk, 16 connections, rate limiting off.

Every run is a fresh server: the bare hello-world reference, then the sandbox's read mix and write mix
(granian, the default server), the read mix again under waitress, and finally the hello-world and the
read mix again with one server thread instead of the default 8 (what the tails owe to GIL contention). Each figure is the median of
`runs` wrk runs of `seconds` each, after a one-second warm-up, against the same server.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile

from common import (
    BENCH,
    DEMO,
    HIS,
    HOST,
    free_port,
    hello_args,
    post_json,
    process,
    sandbox_args,
    sandbox_env,
    summary,
    until_ok,
)

CONNECTIONS = 16
OPENEYES_BASIC = base64.b64encode(b"api_user:password").decode()


def wrk(url: str, script: str, seconds: float, env: dict) -> dict:
    """One wrk run (one thread: the other core is the server's); the JSON line its `done` prints."""
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", script, url]
    out = subprocess.run(args, cwd=BENCH, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def token(base: str, creds: tuple[str, str]) -> str:
    body = json.dumps({"grant_type": "client_credentials", "client_id": creds[0], "client_secret": creds[1]})
    return json.loads(post_json(f"{base}/api/v1/connect/auth/token", body.encode()))["access_token"]


def measure(args: list[str], health: str, script: str, runs: int, seconds: float, creds=None, env=None) -> dict:
    """Start the server, warm it up, run wrk `runs` times; medians of throughput and latencies."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    with process(args(port), env=env):
        until_ok(base + health)
        wrk_env = sandbox_env(BENCH_BASIC=OPENEYES_BASIC, BENCH_TOKEN=token(base, creds) if creds else "")
        wrk(base + "/", script, 1, {**wrk_env, "BENCH_RUN": "0"})
        results = [wrk(base + "/", script, seconds, {**wrk_env, "BENCH_RUN": str(n + 1)}) for n in range(runs)]
    return summary(results)


def run(runs: int = 3, seconds: float = 5) -> dict:
    def sandbox(script: str, creds, *flags: str) -> dict:
        # A data directory of its own: after the write mix, OPC-2024-DEMO1 has thousands of pushed records.
        with tempfile.TemporaryDirectory() as data:
            return measure(lambda port: sandbox_args(port, "--no-rate-limit", "--data-dir", data, *flags),
                           "/sandbox/health", script, runs, seconds, creds)

    return {
        "hello": measure(hello_args, "/", "hello.lua", runs, seconds),
        "read": sandbox("read_mix.lua", DEMO),
        "read_in_memory": sandbox("read_mix.lua", DEMO, "--in-memory"),
        "write": sandbox("write_mix.lua", HIS),
        "read_waitress": sandbox("read_mix.lua", DEMO, "--server", "waitress"),
        # One server thread instead of 8: no GIL convoy between threads, so shorter tails (same for both).
        "hello_1_thread": measure(lambda port: hello_args(port, "1"), "/", "hello.lua", runs, seconds),
        "read_1_thread": sandbox("read_mix.lua", DEMO, "--threads", "1"),
    }


if __name__ == "__main__":
    for name, figures in run().items():
        print(f"{name:<16} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:7.2f} ms  "
              f"errors {figures['non_2xx_or_errors']}")
