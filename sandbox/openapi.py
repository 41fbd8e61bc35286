"""The OpenAPI document as YAML, generated from the code (flask-smorest) for `make spec` and its staleness test."""

from __future__ import annotations

import yaml


def openapi_yaml() -> str:
    from .app import create_app

    app = create_app({"IN_MEMORY": True, "TESTING": True})
    document = app.extensions["opescare_sandbox_api"].spec.to_dict()
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
