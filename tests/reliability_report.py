"""Counters the reliability tests report at the end of the run (cases generated, kills survived, ...).

A pytest plugin (listed in conftest's `pytest_plugins`): the summary is written by the terminal
reporter, so it shows without `-s`.
"""

from __future__ import annotations

import threading
from collections import Counter

_counts: Counter = Counter()
_lock = threading.Lock()


def count(name: str, n: int = 1) -> None:
    with _lock:
        _counts[name] += n


def pytest_terminal_summary(terminalreporter):
    if not _counts:
        return
    terminalreporter.section("reliability counts")
    for name, value in sorted(_counts.items()):
        terminalreporter.write_line(f"{name}: {value}")
