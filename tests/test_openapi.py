"""openapi.yaml is generated from the code and committed; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

import yaml

from opescare_sandbox.openapi import openapi_yaml

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.yaml"


def test_committed_openapi_yaml_is_up_to_date():
    assert COMMITTED.read_text(encoding="utf-8") == openapi_yaml(), "openapi.yaml is stale: run `make spec`"


def test_every_operation_has_a_summary_and_documented_errors():
    document = yaml.safe_load(openapi_yaml())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # path-level parameters (e.g. {health_id}), not an operation
                continue
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("tags"), f"{method.upper()} {path} has no tag"
            statuses = set(operation["responses"])
            assert any(s.startswith("2") for s in statuses), f"{method.upper()} {path}: no success response"
