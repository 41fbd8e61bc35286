"""With an admin token configured, every /sandbox/* control but health needs `Authorization: Bearer <token>`."""

from __future__ import annotations

import pytest
import yaml

from opescare_sandbox.cli import _overrides
from opescare_sandbox.openapi import openapi_yaml

ADMIN = "s3cret-admin"
CONTROLS = [("get", "/sandbox/clock"), ("post", "/sandbox/reset"), ("get", "/sandbox/snapshots"),
            ("get", "/sandbox/requests"), ("delete", "/sandbox/requests"), ("get", "/sandbox/clients"),
            ("post", "/sandbox/snapshots/nope/restore"), ("get", "/sandbox/no-such-control")]


@pytest.fixture
def config():
    return {"ADMIN_TOKEN": ADMIN}


@pytest.mark.parametrize("method,path", CONTROLS)
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {ADMIN}", "Bearer", f"Bearer {ADMIN}x"])
def test_controls_without_the_admin_token_are_401(client, method, path, header):
    headers = {"Authorization": header} if header else {}
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "admin_token_required", "error_code": "ADMIN_TOKEN_REQUIRED",
                             "message": "This sandbox control needs the admin token.", "status": 401}


def test_a_refused_control_changes_nothing(client, world):
    before = world.export_json()
    assert client.post("/sandbox/clock", json={"advance_seconds": 3600}).status_code == 401
    assert world.export_json() == before


@pytest.mark.parametrize("method,path,status", [("get", "/sandbox/clock", 200), ("post", "/sandbox/reset", 200),
                                                ("delete", "/sandbox/requests", 204),
                                                ("post", "/sandbox/snapshots/nope/restore", 404)])
def test_controls_with_the_admin_token_work(client, method, path, status):
    response = getattr(client, method)(path, headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == status


def test_health_needs_no_admin_token(client):
    assert client.get("/sandbox/health").status_code == 200


def test_the_api_needs_no_admin_token(client, get_token):
    assert get_token()


def test_without_a_configured_token_controls_are_open():
    from opescare_sandbox import create_app

    client = create_app({"TESTING": True, "IN_MEMORY": True}).test_client()
    assert client.get("/sandbox/clock").status_code == 200


def test_cli_flags_reach_the_configuration():
    assert _overrides(admin_token="t", tenant_ttl=600, rate_limit=50, no_rate_limit=True) == {
        "ADMIN_TOKEN": "t", "TENANT_TTL": 600, "RATE_LIMIT": 50, "RATE_LIMIT_ENABLED": False}


def test_every_control_but_health_documents_the_admin_scheme():
    document = yaml.safe_load(openapi_yaml())
    assert document["components"]["securitySchemes"]["sandboxAdmin"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        if not path.startswith("/sandbox/"):
            continue
        for method, operation in operations.items():
            if method == "parameters":
                continue
            expected = [] if path == "/sandbox/health" else [{"sandboxAdmin": []}, {}]
            assert operation.get("security") == expected, f"{method.upper()} {path}"
            if path != "/sandbox/health":
                assert "401" in operation["responses"], f"{method.upper()} {path}"
