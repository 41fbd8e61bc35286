"""Counters the reliability tests report at the end of the run (cases generated, kills survived, ...).

A pytest plugin (listed in conftest's `pytest_plugins`): the summary is written by the terminal
reporter, so it shows without `-s`; under pytest-xdist the workers' counts are added up by the controller.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

_counts: Counter = Counter()
_lock = threading.Lock()


def count(name: str, n: int = 1) -> None:
    with _lock:
        _counts[name] += n


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its counts to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["reliability_counts"] = dict(_counts)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for name, value in getattr(node, "workeroutput", {}).get("reliability_counts", {}).items():
        count(name, value)


def pytest_terminal_summary(terminalreporter):
    if not _counts:
        return
    terminalreporter.section("reliability counts")
    for name, value in sorted(_counts.items()):
        terminalreporter.write_line(f"{name}: {value}")
