"""How long a new tenant's world takes to be ready at the default size (issue: under 50 ms).

Run: `.venv/bin/python bench/tenants.py [--patients 200] [--tenants 200] [--disk]`. Prints the one-off template
build (once per process and seed) and the median / p95 / max time of:
- `store.world(name)` for a never-seen tenant (the copy-on-write overlay over the cached template),
- the first HTTP request of a new tenant (a token request through the Flask test client), which
  includes creating its world.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from opescare_sandbox import create_app


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (f"{label:<44} median {statistics.median(ordered):7.3f} ms   p95 {p95:7.3f} ms   "
            f"max {ordered[-1]:7.3f} ms   (n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--disk", action="store_true", help="Store worlds in a temporary data directory.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        run(args, data_dir if args.disk else None)


def run(args, data_dir: str | None) -> None:
    app = create_app({"IN_MEMORY": data_dir is None, "DATA_DIR": data_dir, "PATIENTS": args.patients,
                      "RATE_LIMIT_ENABLED": False})
    print(f"{args.patients} patients, worlds {'on disk in ' + data_dir if data_dir else 'in memory'}")
    store = app.extensions["opescare_sandbox"].store
    print(f"template build (once per process)            {timed(lambda: store.world('default')):9.1f} ms")

    worlds = [timed(lambda n=n: store.world(f"bench-{n}")) for n in range(args.tenants)]
    print(summary("new tenant world (store.world)", worlds))

    client = app.test_client()
    body = {"grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
            "client_secret": "demo_secret_sandbox_2026"}
    first = [timed(lambda n=n: client.post("/api/v1/connect/auth/token", json=body,
                                           headers={"X-Sandbox-Tenant": f"http-{n}"}))
             for n in range(args.tenants)]
    print(summary("first request of a new tenant (token, HTTP)", first))


if __name__ == "__main__":
    main()
