"""The public profile's bounds: every limit hit is a 4xx in the envelope naming the limit and its value."""

from __future__ import annotations

import os
import threading
import time

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.config import PUBLIC_BOUNDS, fixtures_dir, load_config
from opescare_sandbox.domain import clock
from opescare_sandbox.domain.seed import template
from opescare_sandbox.storage import template_cache
from opescare_sandbox.storage.journal import RequestJournal
from tests.conftest import DEMO_CLIENT, PROD_CLIENT
from tests.hosted import PUBLIC, SUBSCRIPTIONS, TOKEN_URL, Visitor
from tests.live_server import LiveServer
from tests.test_pushes import LAB, LAB_URL, NOW


@pytest.fixture(scope="module")
def public():
    with LiveServer(None, env=PUBLIC) as server:
        yield server


@pytest.fixture(scope="module")
def three_tenants(tmp_path_factory):
    """A public server that holds at most 3 tenants (one is `default`) and 2 templates on disk."""
    env = {**PUBLIC, "SANDBOX_MAX_TENANTS": "3", "SANDBOX_TEMPLATE_MAX_COUNT": "2"}
    with LiveServer(tmp_path_factory.mktemp("bounded"), env=env) as server:
        yield server


def limit_of(response) -> tuple[int, str, str, int]:
    body = response.json() if hasattr(response, "json") and callable(response.json) else response.json
    return response.status_code, body["error"], body["limit"], body["limit_value"]


def test_public_defaults_are_the_documented_bounds():
    config = load_config({"PUBLIC": True}, environ={})
    assert {k: config[k] for k in PUBLIC_BOUNDS} == PUBLIC_BOUNDS
    assert load_config({"PUBLIC": True, "MAX_TENANTS": 7}, environ={})["MAX_TENANTS"] == 7  # explicit wins
    assert load_config({}, environ={})["MAX_TENANTS"] == 0  # local: unbounded, as before


def test_a_new_tenant_past_the_cap_is_429_tenant_limit(three_tenants):
    assert Visitor(three_tenants.url, "first").request("GET", "/sandbox/clock").status_code == 200
    assert Visitor(three_tenants.url, "second").request("GET", "/sandbox/clock").status_code == 200
    refused = Visitor(three_tenants.url, "third").request("GET", "/sandbox/clock")
    assert limit_of(refused) == (429, "tenant_limit", "tenants", 3)
    assert Visitor(three_tenants.url, "first").request("GET", "/sandbox/clock").status_code == 200  # known: fine


def test_templates_on_disk_are_bounded_oldest_removed(three_tenants):
    visitor = Visitor(three_tenants.url, "first")
    for seed in (1, 2, 3):
        assert visitor.request("POST", "/sandbox/reset", json={"seed": seed, "patients": 20}).status_code == 200
    names = sorted(p.name.split("-")[0] for p in (three_tenants.data_dir / "templates").glob("*.json"))
    assert names == ["seed2", "seed3"]


def test_patients_per_world_are_bounded(public):
    response = Visitor(public.url).request("POST", "/sandbox/reset", json={"patients": 1_000_000})
    assert limit_of(response) == (422, "patient_limit", "patients", 2000)


def test_subscriptions_per_client_are_bounded(public):
    visitor = Visitor(public.url)
    for n in range(10):
        assert visitor.subscribe(f"https://8.8.8.8/hook/{n}").status_code == 201
    assert limit_of(visitor.subscribe("https://8.8.8.8/hook/10")) == (
        422, "subscription_limit", "subscriptions_per_client", 10)


def test_snapshots_per_tenant_are_bounded(public):
    visitor = Visitor(public.url)
    for n in range(10):
        assert visitor.request("POST", "/sandbox/snapshots", json={"name": f"s{n}"}).status_code == 201
    assert limit_of(visitor.request("POST", "/sandbox/snapshots", json={"name": "s10"})) == (
        422, "snapshot_limit", "snapshots_per_tenant", 10)


# -- in-process: bounds set small, and the sandbox's own clocks driven instead of waiting -----------------
@pytest.fixture
def bounded_app():
    return create_app({"TESTING": True, "IN_MEMORY": True, "PUBLIC": True, "RATE_LIMIT_ENABLED": False,
                       "MAX_TENANTS": 3, "TENANT_TTL": 60, "MAX_SUBSCRIPTIONS_PER_TENANT": 2,
                       "MAX_IDEMPOTENCY_KEYS": 2, "JOURNAL_BYTES": 4000, "WEBHOOK_DELIVERY": False})


def _token(client, tenant: str, creds=DEMO_CLIENT) -> dict:
    answer = client.post(TOKEN_URL, json={"grant_type": "client_credentials", **creds},
                         headers={"X-Sandbox-Tenant": tenant})
    return {"Authorization": f"Bearer {answer.json['access_token']}", "X-Sandbox-Tenant": tenant}


def test_at_the_cap_idle_tenants_past_their_ttl_make_room(bounded_app):
    store, now = bounded_app.extensions["opescare_sandbox"].store, [1000.0]
    store.monotonic = lambda: now[0]
    client = bounded_app.test_client()
    for name in ("default", "a", "b"):
        assert client.get("/sandbox/clock", headers={"X-Sandbox-Tenant": name}).status_code == 200
    assert client.get("/sandbox/clock", headers={"X-Sandbox-Tenant": "c"}).status_code == 429
    now[0] += 61
    assert client.get("/sandbox/clock", headers={"X-Sandbox-Tenant": "c"}).status_code == 200
    assert store.tenants() == ["c", "default"]  # `default` never expires


def test_subscriptions_per_tenant_are_bounded(bounded_app):
    client = bounded_app.test_client()
    demo, prod = _token(client, "t"), _token(client, "t", PROD_CLIENT)
    for n, headers in enumerate((demo, prod)):
        assert client.post(SUBSCRIPTIONS, headers=headers, json={"callback_url": f"https://8.8.8.8/{n}",
                                                                 "subscribed_events": ["patient.created"]}).status_code == 201
    refused = client.post(SUBSCRIPTIONS, headers=demo, json={"callback_url": "https://8.8.8.8/x",
                                                             "subscribed_events": ["patient.created"]})
    assert limit_of(refused) == (422, "subscription_limit", "subscriptions_per_tenant", 2)


def test_idempotency_keys_per_tenant_are_bounded_and_replays_still_answer(bounded_app):
    client = bounded_app.test_client()
    clock.set_now(bounded_app.extensions["opescare_sandbox"].store.world("t"), NOW, frozen=True)
    headers = _token(client, "t")
    for key in ("k1", "k2"):
        assert client.post(LAB_URL, json=LAB, headers={**headers, "Idempotency-Key": key}).status_code in (200, 202)
    assert limit_of(client.post(LAB_URL, json=LAB, headers={**headers, "Idempotency-Key": "k3"})) == (
        422, "idempotency_key_limit", "idempotency_keys_per_tenant", 2)
    assert client.post(LAB_URL, json=LAB, headers={**headers, "Idempotency-Key": "k1"}).status_code in (200, 202)


def test_the_request_journal_is_bounded_in_bytes(bounded_app):
    client = bounded_app.test_client()
    for _ in range(50):
        client.post("/sandbox/clock", json={"now": "2030-01-01T00:00:00Z", "pad": "x" * 500},
                    headers={"X-Sandbox-Tenant": "j"})
    journal = bounded_app.extensions["opescare_sandbox"].extras["journals"]("j")
    assert 0 < journal.bytes <= 4000 and len(journal) < 50


def test_a_journal_keeps_its_newest_entry_even_past_the_budget():
    journal = RequestJournal(10, max_bytes=100)
    journal.record({"path": "/", "request_body": "x" * 1000})
    assert len(journal) == 1


def test_building_a_large_template_never_blocks_another_tenant(tmp_path):
    """A template being built holds only its own lock: the shared default template stays available."""
    template(42, 200, fixtures_dir())  # the shared one, as every server has it
    building = threading.Thread(target=template, args=(987, 5000, fixtures_dir()))
    building.start()
    started = time.monotonic()
    template(42, 200, fixtures_dir())
    waited = time.monotonic() - started
    still_building = building.is_alive()
    building.join(60)
    assert still_building and waited < 0.25, (still_building, waited)


def test_prune_removes_the_oldest_templates(tmp_path):
    paths = []
    for n in range(4):
        path = tmp_path / f"seed{n}-n10-abc.json"
        path.write_bytes(b"x" * 100)
        os.utime(path, (1000 + n, 1000 + n))
        paths.append(path)
    removed = template_cache.prune(tmp_path, max_count=3, max_bytes=250, keep=paths[0])
    assert sorted(removed) == sorted(paths[1:3]) and {p.exists() for p in (paths[0], paths[3])} == {True}
