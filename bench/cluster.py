"""Part 5: the multi-tenant read mix (16 connections over 64 tenants) straight to one worker, then through
HAProxy with 1 worker and with 2 workers (`opescare-sandbox cluster`). Rate limiting off; loopback only.

The three servers run side by side (fresh, every tenant's world created and its token fetched before the
clock starts) and the wrk runs take turns between them; each figure is the median of `runs` runs of
`seconds` each, after a one-second warm-up.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import urllib.request
from pathlib import Path

from common import DEMO, HOST, SANDBOX, free_port, median, process, sandbox_args, sandbox_env, until_ok
from load import OPENEYES_BASIC, wrk

TENANTS = 64


def tenant_tokens(base: str, path: Path) -> None:
    """One token per tenant (tokens are tenant-bound), written as "tenant token" lines for the wrk script."""
    lines = []
    for n in range(TENANTS):
        tenant = f"bench-{n:02d}"
        body = json.dumps({"grant_type": "client_credentials", "client_id": DEMO[0], "client_secret": DEMO[1]})
        request = urllib.request.Request(f"{base}/api/v1/connect/auth/token", data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/json", "X-Sandbox-Tenant": tenant})
        with urllib.request.urlopen(request, timeout=120) as response:
            lines.append(f"{tenant} {json.loads(response.read())['access_token']}")
    path.write_text("\n".join(lines) + "\n")


def summary(results: list[dict]) -> dict:
    return {
        "rps": median([r["rps"] for r in results]),
        "p50_ms": median([r["p50_us"] for r in results]) / 1000,
        "p99_ms": median([r["p99_us"] for r in results]) / 1000,
        "non_2xx_or_errors": sum(sum(r["errors"].values()) for r in results),
        "runs": results,
    }


def measure(setups: dict, runs: int, seconds: float) -> dict:
    """All servers up at once (idle ones cost nothing), then wrk runs taking turns: A B C, A B C, ...
    so a change in the machine's background load falls on every row alike."""
    with contextlib.ExitStack() as stack:
        targets = {}
        for name, args in setups.items():
            port, data = free_port(), stack.enter_context(tempfile.TemporaryDirectory())
            stack.enter_context(process(args(port, data)))
            base = f"http://{HOST}:{port}"
            until_ok(base + "/sandbox/health")
            tokens = Path(data) / "tenants.txt"
            tenant_tokens(base, tokens)
            targets[name] = (base + "/", sandbox_env(BENCH_BASIC=OPENEYES_BASIC, BENCH_TENANTS=str(tokens)))
            wrk(targets[name][0], "tenant_mix.lua", 1, targets[name][1])
        results = {name: [] for name in setups}
        for _ in range(runs):
            for name, (url, env) in targets.items():
                results[name].append(wrk(url, "tenant_mix.lua", seconds, env))
    return {name: summary(found) for name, found in results.items()}


def cluster_args(workers: int):
    def args(port: int, data: str) -> list[str]:
        return [SANDBOX, "cluster", "--workers", str(workers), "--host", HOST, "--port", str(port),
                "--worker-port", "0", "--data-dir", data, "--no-rate-limit"]
    return args


def run(runs: int = 3, seconds: float = 5) -> dict:
    return measure({
        "direct": lambda port, data: sandbox_args(port, "--no-rate-limit", "--data-dir", data),
        "haproxy_1": cluster_args(1),
        "haproxy_2": cluster_args(2),
    }, runs, seconds)


if __name__ == "__main__":
    for name, figures in run().items():
        print(f"{name:<10} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:7.2f} ms  "
              f"errors {figures['non_2xx_or_errors']}")
