"""The scenario catalogue: magic inputs and personas (fixtures/scenarios.json) that trigger edge cases on purpose."""

from __future__ import annotations

FIELDS = ("name", "kind", "summary", "request", "input", "effect")


def catalogue(fixtures: dict) -> list[dict]:
    """Every scenario in the order of the fixture file, as the control lists them."""
    return [{key: scenario[key] for key in FIELDS} for scenario in fixtures["scenarios"]["scenarios"]]
