"""Part 2: reset of the default world and of a 100,000-patient world, in-process (`store.reset`) and over
HTTP (`POST /sandbox/reset`), each the median of `runs` resets with a write before each (so there is
something to throw away). Disk-backed worlds, as `serve` runs by default: a reset also rewrites the
tenant's overlay file. The data directory is shared with the other parts, so templates come from its cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from common import HIS, HOST, ROOT, free_port, median, post_json, process, sandbox_args, until_ok

sys.path.insert(0, str(ROOT))


def new_person(n: int) -> dict:
    letters = "".join(chr(ord("a") + int(d)) for d in str(n))
    return {"first_name": f"Reset{letters}", "last_name": "Bench", "date_of_birth": "1975-05-05", "country_code": "CM"}


def in_process(patients: int, data_dir: str, runs: int) -> dict:
    from opescare_sandbox import create_app
    from opescare_sandbox.domain import patients as domain

    app = create_app({"DATA_DIR": data_dir, "PATIENTS": patients, "WEBHOOK_DELIVERY": False})
    store = app.extensions["opescare_sandbox"].store
    world, samples = store.world("reset-bench"), []
    for n in range(runs):
        domain.resolve(world, new_person(n), "opeshisos_production")
        started = time.perf_counter()
        store.reset("reset-bench")
        samples.append((time.perf_counter() - started) * 1000)
    return {"ms": median(samples), "runs": samples}


def over_http(patients: int, data_dir: str, runs: int) -> dict:
    port = free_port()
    base = f"http://{HOST}:{port}"
    with process(sandbox_args(port, "--no-rate-limit", "--data-dir", data_dir, "--patients", str(patients))):
        until_ok(base + "/sandbox/health", timeout=300)
        body = json.dumps({"grant_type": "client_credentials", "client_id": HIS[0], "client_secret": HIS[1]})
        token = json.loads(post_json(f"{base}/api/v1/connect/auth/token", body.encode()))["access_token"]
        samples = []
        for n in range(runs):
            post_json(f"{base}/api/v1/connect/patients/resolve", json.dumps(new_person(n)).encode(),
                      {"Authorization": f"Bearer {token}"})
            started = time.perf_counter()
            post_json(f"{base}/sandbox/reset", b"{}")
            samples.append((time.perf_counter() - started) * 1000)
    return {"ms": median(samples), "runs": samples}


def run(data_dir: str, sizes=(200, 100_000), runs: int = 20) -> dict:
    results = {}
    for size in sizes:
        out = subprocess.run([sys.executable, __file__, str(size), data_dir, str(runs)], cwd=ROOT, capture_output=True,
                             text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"reset.py {size} failed:\n{out.stderr[-3000:]}")
        results[size] = {"in_process": json.loads(out.stdout.strip().splitlines()[-1]),
                         "http": over_http(size, data_dir, runs)}
    return results


if __name__ == "__main__":
    print(json.dumps(in_process(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))))
