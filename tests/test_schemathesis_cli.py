"""The project's pinned Schemathesis, as its CLI, with every check (`--checks all`) against a live server.

`opescare-sandbox serve --in-memory --no-rate-limit` runs on a free port with webhook delivery off
(generated subscriptions point anywhere; nothing may leave 127.0.0.1). Credentials come from
`tests/schemathesis_hooks.py`; business-rule statuses that schema-valid data may meet are listed, one per
rule, in `tests/schemathesis.toml`. Deterministic (a fixed seed), bounded in examples and time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .live_server import LiveServer
from .reliability_report import count

ROOT = Path(__file__).resolve().parent.parent
ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 3
MAX_SECONDS = 600  # a liveness bound for the whole run (about 7,500 cases), not a speed target


def test_schemathesis_cli_with_every_check_is_clean(tmp_path):
    assert ST.exists(), "the schemathesis CLI comes with the test extra: make test installs it"
    with LiveServer(None, env={"SANDBOX_WEBHOOK_DELIVERY": "false"}) as server:
        env = {**os.environ, "SANDBOX_URL": server.url, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
               "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        run = subprocess.run(
            [str(ST), "--config-file", str(ROOT / "tests" / "schemathesis.toml"), "run", str(ROOT / "openapi.yaml"),
             "--url", server.url, "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "20",
             "--workers", "1", "--no-shrink", "--warnings", "off",
             # Arming faults makes the server answer 429/503 or drop on purpose: generated faults would turn later
             # cases into "server errors". tests/test_faults.py and tests/test_certification.py cover them.
             "--exclude-path", "/sandbox/faults", "--exclude-path", "/sandbox/certification"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=MAX_SECONDS)
    output = run.stdout + run.stderr
    cases = re.search(r"(\d+) generated", output)
    count("schemathesis CLI cases", int(cases.group(1)) if cases else 0)
    assert run.returncode == 0, output[-6000:]
    assert cases and int(cases.group(1)) > 0, output[-2000:]
