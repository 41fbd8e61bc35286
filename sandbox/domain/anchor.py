"""Determinism: the fixed anchor date every generated date hangs off, and one seeded random stream per world part.

Generated data never reads today's date or uuid4(): it uses these, so a seed means the same world everywhere.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from .clock import isoformat

ANCHOR_DATE = date(2026, 1, 1)


def part_rng(seed: int, part: str) -> random.Random:
    """The random stream of one part of the world (string seeds hash with SHA-512: stable everywhere)."""
    return random.Random(f"{seed}:{part}")


def anchor_datetime(days_before: int, seconds: int = 0) -> str:
    moment = datetime.combine(ANCHOR_DATE, time(), tzinfo=UTC) - timedelta(days=days_before)
    return isoformat(moment + timedelta(seconds=seconds))
