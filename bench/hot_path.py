"""Where a request's CPU goes, in-process: the first step of any performance work (docs/benchmarks.md).

    .venv/bin/python bench/hot_path.py                 # µs per request of each read, the write mix, a bare Flask app
    .venv/bin/python bench/hot_path.py verify          # the same, then pyinstrument's tree for one of them
    .venv/bin/python bench/hot_path.py writes --calls 2000

Each request is a raw WSGI call, as a server makes one (no test client, no sockets), on a fresh app: the
reads on an in-memory world, the write mix (bench/write_mix.lua's four writes, new names and keys every
time) on a disk-backed one. `make bench` installs pyinstrument; the timings need nothing but the sandbox.
For a live server, sample its worker with py-spy instead: `py-spy record -p <worker pid> -d 5 -f raw`.
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable

from common import DEMO, HIS
from flask import Flask
from werkzeug.test import EnvironBuilder

FACILITY = "00000000-0000-0000-0000-100000000001"
BASIC = {"Authorization": "Basic " + base64.b64encode(b"api_user:password").decode()}
READS = {
    "health": "/sandbox/health",
    "verify": "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1",
    "search": "/api/v1/connect/patient/search?health_id=OPC-2024-XK7T9",
    "consent": "/api/v1/connect/patient/OPC-2024-XK7T9/consent",
    "records": "/api/v1/connect/patient/OPC-2024-DEMO1/records?type=all",
    "pharmacy": f"/api/v1/connect/inventory/pharmacy/{FACILITY}",
    "blood": f"/api/v1/connect/inventory/blood/{FACILITY}",
    "openeyes": "/api/v1/patient/search?term=Smith",
}


def app_and_token(config: dict, client: tuple[str, str]):
    from opescare_sandbox import create_app

    app = create_app({"RATE_LIMIT_ENABLED": False, "WEBHOOK_DELIVERY": False, **config})
    answer = app.test_client().post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": client[0], "client_secret": client[1]})
    return app, answer.json["access_token"]


def wsgi_call(app, method: str, path: str, headers: dict, body: bytes = b"") -> str:
    environ = EnvironBuilder(path=path, method=method, headers=headers, data=body).get_environ()
    started: list[str] = []
    b"".join(app.wsgi_app(environ, lambda status, _headers, _exc=None: started.append(status)))
    return started[0]


def reader(app, token: str, name: str) -> Callable[[int], None]:
    headers = BASIC if name == "openeyes" else {"Authorization": f"Bearer {token}"} if name != "health" else {}
    environ = EnvironBuilder(path=READS[name], headers=headers).get_environ()

    def call(_n: int) -> None:
        copy = dict(environ, **{"wsgi.input": io.BytesIO(b"")})
        b"".join(app.wsgi_app(copy, lambda *_args: None))

    return call


def writer(app, token: str) -> Callable[[int], None]:
    """bench/write_mix.lua's rotation: resolve-create, consent grant, encounter push, lab-result push."""
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    counter = itertools.count()

    def call(_n: int) -> None:
        n = next(counter)  # new names and keys every time, whoever calls
        kind, unique = n % 4, f"p{n}"
        if kind == 0:
            body = {"first_name": "Bench" + "".join(chr(97 + int(d)) for d in str(n)), "last_name": "Load",
                    "date_of_birth": "1985-03-14", "country_code": "CM", "sex": "female", "purpose": "load_test"}
            path, extra = "/api/v1/connect/patients/resolve", {}
        elif kind == 1:
            body, path, extra = {"consent_type": "full_record"}, "/api/v1/connect/patient/OPC-2024-XK7T9/consent/grant", {}
        elif kind == 2:
            body = {"health_id": "OPC-2024-DEMO1", "external_encounter_id": f"ENC-{unique}", "encounter_type": "outpatient",
                    "occurred_at": "2026-11-20T08:30:00Z", "chief_complaint": "Fever", "source_system": "bench",
                    "diagnoses": [{"code_system": "ICD-10", "code": "B54", "display": "Malaria"}]}
            path, extra = "/api/v1/connect/records/encounters", {"Idempotency-Key": f"enc-{unique}"}
        else:
            body = {"health_id": "OPC-2024-DEMO1", "external_lab_order_id": f"LAB-{unique}", "test_name": "Hemoglobin",
                    "loinc_code": "718-7", "result_value": 10.9, "unit": "g/dL", "occurred_at": "2026-11-20T10:00:00Z",
                    "source_system": "bench"}
            path, extra = "/api/v1/connect/records/lab-results", {"Idempotency-Key": f"lab-{unique}"}
        status = wsgi_call(app, "POST", path, {**bearer, **extra}, json.dumps(body).encode())
        assert status.startswith("2"), (path, status)

    return call


def hello() -> Callable[[int], None]:
    app = Flask("hello")
    app.get("/")(lambda: {"hello": "world"})
    environ = EnvironBuilder(path="/").get_environ()
    return lambda _n: b"".join(app.wsgi_app(dict(environ, **{"wsgi.input": io.BytesIO(b"")}), lambda *_args: None))


def measure(call: Callable[[int], None], calls: int) -> float:
    for n in range(min(200, calls)):  # warm-up: caches, lazily compiled dumps
        call(-1 - n)
    started = time.perf_counter()
    for n in range(calls):
        call(n)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help=f"profile one: {', '.join([*READS, 'writes'])}")
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    reads, read_token = app_and_token({"IN_MEMORY": True}, DEMO)
    with tempfile.TemporaryDirectory() as data:
        writes, write_token = app_and_token({"DATA_DIR": data}, HIS)
        calls = {**{name: reader(reads, read_token, name) for name in READS}, "writes": writer(writes, write_token),
                 "flask hello-world": hello()}
        gc.collect()
        gc.freeze()  # as serve's worker does (opescare_sandbox.serving): full collections would walk the worlds
        if args.name:
            from pyinstrument import Profiler

            measure(calls[args.name], 200)
            profiler = Profiler(interval=0.0001)
            with profiler:
                for n in range(args.calls):
                    calls[args.name](10_000 + n)
            print(profiler.output_text(unicode=True, color=sys.stdout.isatty()))
            return
        for name, call in calls.items():
            print(f"{name:<18} {measure(call, args.calls):7.0f} µs per request")


if __name__ == "__main__":
    sys.exit(main())
