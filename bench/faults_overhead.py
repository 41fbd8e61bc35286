"""The per-request cost of armed faults' hot path (the DropConnections layer and the fault check), in process.

GET patient search through Flask's test client, 3000 requests a run, median of 3 runs, bare and as shipped
interleaved four times (the machine may be shared), then with one fault armed that the request does not match.
Run: .venv/bin/python bench/faults_overhead.py
"""

from __future__ import annotations

import statistics
import time

from opescare_sandbox import create_app

app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "WEBHOOK_DELIVERY": False})
client = app.test_client()
token = client.post("/api/v1/connect/auth/token", json={
    "grant_type": "client_credentials", "client_id": "demo_dev_sandbox", "client_secret": "demo_secret_sandbox_2026",
}).json["access_token"]
headers = {"Authorization": f"Bearer {token}"}
URL = "/api/v1/connect/patient/search?health_id=CM-HID-7KQ9-MP42-X8D1"
wrapped, bare = app.wsgi_app, app.wsgi_app.wsgi_app


def run(n=3000):
    started = time.perf_counter()
    for _ in range(n):
        assert client.get(URL, headers=headers).status_code == 200
    return (time.perf_counter() - started) / n * 1e6


def median_of(setup):
    setup()
    run(300)
    return statistics.median(run() for _ in range(3))


def arm_other():
    client.post("/sandbox/faults", json={"path": "/api/v1/connect/patients/resolve", "status": 503, "times": 1000})


results = {"bare (no DropConnections, no faults)": [], "as shipped, no fault armed": []}
for _ in range(4):  # interleaved: the machine is shared, so alternate rather than run one after the other
    results["bare (no DropConnections, no faults)"].append(median_of(lambda: setattr(app, "wsgi_app", bare)))
    results["as shipped, no fault armed"].append(median_of(lambda: setattr(app, "wsgi_app", wrapped)))
results["as shipped, one non-matching fault armed"] = [median_of(arm_other)]
for name, runs in results.items():
    print(f"{name}: " + ", ".join(f"{us:.0f}" for us in runs) + " us/request")
app.extensions["opescare_sandbox"].extras["webhooks"].close()
