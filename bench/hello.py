"""The reference app of the benchmarks: a bare Flask hello-world, served by the same server as the sandbox.

It also serves the verify body (bench/peers.py writes it to VERIFY_BODY_FILE) so it stands beside the peers.
"""

import os
from pathlib import Path

from flask import Flask, Response

app = Flask("hello")
VERIFY_BODY = Path(os.environ["VERIFY_BODY_FILE"]).read_bytes() if os.environ.get("VERIFY_BODY_FILE") else b"{}"


@app.get("/")
def hello():
    return "Hello, World!"


@app.get("/api/v1/connect/patients/verify/<health_id>")
def verify(health_id):
    return Response(VERIFY_BODY, mimetype="application/json")
