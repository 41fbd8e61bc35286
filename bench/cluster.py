"""Part 5: the multi-tenant read mix (16 connections over 64 tenants) straight to one worker, then through
HAProxy with 1 worker and with 2 workers (`opescare-sandbox cluster`). Rate limiting off; loopback only.

Two clusters run side by side (fresh, every tenant's world created and its token fetched before the clock
starts); "straight to one worker" is the 1-worker cluster's worker on its own port. The wrk runs take turns
between the three targets; each figure is the median of `runs` runs of `seconds` each, after a one-second
warm-up.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import urllib.request
from pathlib import Path

from common import DEMO, HOST, SANDBOX, free_port, process, sandbox_env, summary, until_ok
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




def start_cluster(stack: contextlib.ExitStack, workers: int) -> tuple[str, dict]:
    """A cluster on a free port; its URL and its <data-dir>/cluster.json (who runs where)."""
    port, data = free_port(), stack.enter_context(tempfile.TemporaryDirectory())
    stack.enter_context(process([SANDBOX, "cluster", "--workers", str(workers), "--host", HOST, "--port", str(port),
                                 "--worker-port", "0", "--data-dir", data, "--no-rate-limit"]))
    state = Path(data) / "cluster.json"
    until_ok(f"http://{HOST}:{port}/sandbox/health")
    while not state.exists():  # written just after HAProxy's first 200
        time.sleep(0.05)
    return f"http://{HOST}:{port}", json.loads(state.read_text())


def run(runs: int = 3, seconds: float = 5) -> dict:
    """"Straight to one worker" is the 1-worker cluster's own worker, addressed on its port: the same process
    (and the same scheduling) as behind HAProxy, so the difference between the two rows is HAProxy alone."""
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        one, one_state = start_cluster(stack, 1)
        two, _ = start_cluster(stack, 2)
        worker = f"http://{HOST}:{one_state['workers'][0]['port']}"
        targets = {}
        for name, base in (("direct", worker), ("haproxy_1", one), ("haproxy_2", two)):
            tokens = Path(scratch) / f"{name}.txt"
            tenant_tokens(base, tokens)
            targets[name] = (base + "/", sandbox_env(BENCH_BASIC=OPENEYES_BASIC, BENCH_TENANTS=str(tokens)))
            wrk(targets[name][0], "tenant_mix.lua", 1, targets[name][1])
        results = {name: [] for name in targets}
        for _ in range(runs):  # taking turns: a drift in the machine's load falls on every row alike
            for name, (url, env) in targets.items():
                results[name].append(wrk(url, "tenant_mix.lua", seconds, env))
    return {name: summary(found) for name, found in results.items()}


if __name__ == "__main__":
    for name, figures in run().items():
        print(f"{name:<10} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:7.2f} ms  "
              f"errors {figures['non_2xx_or_errors']}")
