"""Shared fixtures: an in-memory app per test (templates are cached, so this is cheap), its client, tokens."""

from __future__ import annotations

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.api import fastdump

fastdump.CHECK = True  # every response the suite makes is also dumped by marshmallow and compared

pytest_plugins = ["tests.webhook_fixtures", "tests.reliability_report"]

DEMO_CLIENT = {"client_id": "demo_dev_sandbox", "client_secret": "demo_secret_sandbox_2026"}
PROD_CLIENT = {"client_id": "opeshisos_production", "client_secret": "prod_secret_opeshisos_2026"}


@pytest.fixture
def config():
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def app(config):
    app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, **config})
    yield app
    app.extensions["opescare_sandbox"].extras["webhooks"].close()  # stop delivery threads: tests create many apps


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app):
    return app.extensions["opescare_sandbox"].store


@pytest.fixture
def world(store):
    return store.world("default")


@pytest.fixture
def get_token(client):
    """`get_token(scope=None, creds=DEMO_CLIENT, tenant=None)` -> an access token string."""

    def _get(scope: str | None = None, creds: dict = DEMO_CLIENT, tenant: str | None = None) -> str:
        body = {"grant_type": "client_credentials", **creds}
        if scope is not None:
            body["scope"] = scope
        headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
        response = client.post("/api/v1/connect/auth/token", json=body, headers=headers)
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    return _get


@pytest.fixture
def auth(get_token):
    """Authorization headers for the demo client with all its scopes."""
    return {"Authorization": f"Bearer {get_token()}"}
