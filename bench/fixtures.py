"""Per-test overhead of the pytest plugin's `sandbox` fixture (issue: 500 tests well under 10 s in fixtures).

Run: `.venv/bin/python bench/fixtures.py [--tests 500]`. Writes a throwaway suite with N trivial tests
that use `sandbox`, N that use nothing, N that use `sandbox` and make one authenticated request, and N
trivial tests of `sandbox_server`, N that use `sandbox_webhooks` (a subscribed receiver) and N that make one
request and check it with `assert_requested`; runs it in one pytest process; and prints, per group, the median /
p95 / total time spent in fixtures (setup + teardown, from pytest's own reports) plus the median call
time. The first test of a group may build the session's app or server: it is reported on its own and
left out of the medians, but counted in the totals.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SUITE = """
import pytest

N = {n}

@pytest.mark.parametrize("i", range(N))
def test_with_sandbox(sandbox, i):
    assert sandbox.tenant == "default"

@pytest.mark.parametrize("i", range(N))
def test_without_fixture(i):
    assert i >= 0

@pytest.mark.parametrize("i", range(N))
def test_with_one_request(sandbox, i):
    assert sandbox.get("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1").status_code == 200

@pytest.mark.parametrize("i", range(N))
def test_with_sandbox_server(sandbox_server, i):
    assert sandbox_server.url.startswith("http://127.0.0.1:")

@pytest.mark.parametrize("i", range(N * NEW))
def test_with_webhooks(sandbox_webhooks, i):
    assert sandbox_webhooks.url.startswith("http://127.0.0.1:")

@pytest.mark.parametrize("i", range(N * NEW))
def test_with_assert_requested(sandbox, i):
    assert sandbox.get("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1").status_code == 200
    sandbox.assert_requested("GET", "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1", times=1)
"""

RECORDER = """
import json, os
from collections import defaultdict

phases = defaultdict(dict)

def pytest_runtest_logreport(report):
    phases[report.nodeid][report.when] = report.duration

def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_BENCH_OUT"], "w") as out:
        json.dump(phases, out)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--no-new", action="store_true",
                        help="leave out the groups of fixtures added by issue 24 (to compare with a tree before it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_bench.py").write_text(textwrap.dedent(SUITE.format(n=args.tests).replace("NEW", "0" if args.no_new else "1")))
        (root / "conftest.py").write_text(RECORDER)
        out = root / "phases.json"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)], cwd=root, check=True,
                       env={**os.environ, "FIXTURE_BENCH_OUT": str(out)}, stdout=subprocess.DEVNULL)
        report(json.loads(out.read_text()), args.tests)


def report(phases: dict, n: int) -> None:
    groups: dict[str, list[tuple[float, float]]] = {}
    for nodeid, times in phases.items():  # in run order: the first `sandbox` test builds the app
        group = nodeid.split("::")[1].split("[")[0]
        groups.setdefault(group, []).append((times.get("setup", 0) + times.get("teardown", 0), times.get("call", 0)))
    baseline = statistics.median(f for f, _ in groups["test_without_fixture"]) * 1000
    print(f"{n} tests per group, one pytest process ({sys.platform}, Python {sys.version.split()[0]})")
    for group, samples in groups.items():
        if len(samples) < 2:
            continue
        first, rest = samples[0], samples[1:]
        fixture_ms = sorted(f * 1000 for f, _ in rest)
        median = statistics.median(fixture_ms)
        print(f"{group:<25} fixtures: median {median:6.3f} ms  p95 {fixture_ms[int(len(fixture_ms) * .95)]:6.3f} ms"
              f"  first {first[0] * 1000:7.1f} ms  total {sum(f for f, _ in samples):6.3f} s"
              f"  | call median {statistics.median(c for _, c in rest) * 1000:6.3f} ms"
              f"  | overhead vs no fixture {median - baseline:6.3f} ms/test")


if __name__ == "__main__":
    main()
