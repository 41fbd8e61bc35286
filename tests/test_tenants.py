"""Tenants: idle expiry (never mid-request, never `default`, files removed) and eight tenants in parallel threads."""

from __future__ import annotations

import threading

import pytest
from flask import Blueprint

from opescare_sandbox import create_app
from opescare_sandbox.domain.seed import template
from opescare_sandbox.runtime.expiry import IdleSweeper
from opescare_sandbox.storage.worlds import WorldStore

CLINIC = "00000000-0000-0000-0000-100000000002"


class FakeMonotonic:
    def __init__(self):
        self.now = 500.0

    def __call__(self):
        return self.now


def source(seed, patients):
    return template(seed, patients, "fixtures")


@pytest.fixture
def ticking():
    return FakeMonotonic()


@pytest.fixture
def disk_store(tmp_path, ticking):
    store = WorldStore(source, 42, 50, data_dir=tmp_path)
    store.monotonic = ticking
    return store


def touch(store, *tenants):
    for name in tenants:
        store.world(name)["audit"].insert({"tenant": name})  # something on disk


# -- expiry in the store -------------------------------------------------------------------------------

def test_idle_tenants_expire_and_their_files_go(disk_store, ticking, tmp_path):
    touch(disk_store, "default", "old", "fresh")
    ticking.now += 50
    touch(disk_store, "fresh")
    ticking.now += 20
    assert disk_store.expire_idle(60) == ["old"]
    assert not (tmp_path / "tenants" / "old").exists()
    assert disk_store.tenants() == ["default", "fresh"]
    ticking.now += 3600
    assert disk_store.expire_idle(60) == ["fresh"]
    assert disk_store.tenants() == ["default"]  # `default` never expires


def test_a_tenant_in_a_request_never_expires(disk_store, ticking):
    touch(disk_store, "busy")
    disk_store.hold("busy")
    ticking.now += 3600
    assert disk_store.expire_idle(60) == []
    disk_store.release("busy")
    assert disk_store.expire_idle(60) == []  # idle time counts from the end of its last request
    ticking.now += 61
    assert disk_store.expire_idle(60) == ["busy"]


def test_tenants_left_on_disk_by_an_earlier_run_expire_a_ttl_after_first_seen(disk_store, ticking, tmp_path):
    touch(disk_store, "earlier")
    restarted = WorldStore(source, 42, 50, data_dir=tmp_path)
    restarted.monotonic = ticking
    assert restarted.expire_idle(60) == []
    ticking.now += 61
    assert restarted.expire_idle(60) == ["earlier"]


def test_an_expired_tenant_starts_again_from_the_seed(disk_store, ticking):
    touch(disk_store, "again")
    ticking.now += 61
    disk_store.expire_idle(60)
    assert disk_store.world("again")["audit"].all() == []


def test_the_sweeper_runs_at_most_once_per_interval(disk_store, ticking):
    sweeper = IdleSweeper(disk_store, ttl=60)
    assert sweeper.interval == 30
    touch(disk_store, "t")
    ticking.now += 29
    assert sweeper.maybe_sweep() == []
    ticking.now += 40
    assert sweeper.maybe_sweep() == ["t"]


def test_ttl_zero_never_sweeps(disk_store, ticking):
    touch(disk_store, "t")
    ticking.now += 10 ** 9
    assert IdleSweeper(disk_store, ttl=0).maybe_sweep() == []


# -- expiry over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def ttl_app(tmp_path, ticking):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "TENANT_TTL": 60, "RATE_LIMIT_ENABLED": False})
    store = app.extensions["opescare_sandbox"].store
    store.monotonic = ticking
    app.extensions["opescare_sandbox"].extras["sweeper"] = IdleSweeper(store, 60)
    probe = Blueprint("expiry_probe", __name__)

    @probe.post("/sandbox/test/expire-now")  # runs a sweep from inside a request of the caller's tenant
    def expire_now():
        ticking.now += 3600
        return {"dropped": store.expire_idle(60)}

    app.register_blueprint(probe)
    return app


def as_tenant(name):
    return {"X-Sandbox-Tenant": name}


def test_requests_sweep_idle_tenants_with_their_journal_and_snapshots(ttl_app, ticking, tmp_path):
    client = ttl_app.test_client()
    client.post("/sandbox/snapshots", json={"name": "s"}, headers=as_tenant("ci-1"))
    assert (tmp_path / "tenants" / "ci-1" / "snapshots" / "s.json").exists()
    ticking.now += 61
    client.get("/sandbox/health")
    assert not (tmp_path / "tenants" / "ci-1").exists()
    assert client.get("/sandbox/requests", headers=as_tenant("ci-1")).json["data"] == []
    assert client.get("/sandbox/snapshots", headers=as_tenant("ci-1")).json["data"] == []


def test_a_sweep_during_a_request_spares_the_requesting_tenant(ttl_app):
    client = ttl_app.test_client()
    client.get("/sandbox/clock", headers=as_tenant("idle"))
    response = client.post("/sandbox/test/expire-now", headers=as_tenant("busy"))
    assert response.json == {"dropped": ["idle"]}


@pytest.mark.parametrize("name", ["a b", "../x", "x" * 65, "é"])
def test_bad_tenant_names_are_400_everywhere(client, name):
    for path in ("/sandbox/clock", "/sandbox/requests", "/api/v1/connect/auth/token"):
        response = client.get(path, headers={"X-Sandbox-Tenant": name})
        assert (response.status_code, response.json["error"]) == (400, "invalid_request")


# -- eight tenants in parallel -------------------------------------------------------------------------

def tenant_session(app, name: str, results: dict, barrier: threading.Barrier) -> None:
    """One CI job: its own client, token, snapshot, a change, a restore, a reset; records what it saw."""
    client, headers = app.test_client(), as_tenant(name)
    barrier.wait()
    created = client.post("/sandbox/clients", json={"client_id": f"ci_{name}", "client_secret": f"secret_{name}",
                                                    "scopes": ["patient:read"], "facility_id": CLINIC}, headers=headers)
    token = client.post("/api/v1/connect/auth/token", json={"grant_type": "client_credentials",
                                                            "client_id": f"ci_{name}", "client_secret": f"secret_{name}"},
                        headers=headers)
    client.post("/sandbox/snapshots", json={"name": "with-client"}, headers=headers)
    client.post("/sandbox/reset", headers=headers)
    after_reset = [c["client_id"] for c in client.get("/sandbox/clients", headers=headers).json["data"]]
    client.post("/sandbox/snapshots/with-client/restore", headers=headers)
    clients = [c["client_id"] for c in client.get("/sandbox/clients", headers=headers).json["data"]]
    journal = client.get("/sandbox/requests", headers=headers).json["data"]
    results[name] = {"statuses": (created.status_code, token.status_code), "after_reset": after_reset,
                     "clients": clients, "snapshots": [s["name"] for s in
                                                       client.get("/sandbox/snapshots", headers=headers).json["data"]],
                     "journal": [(e["method"], e["path"]) for e in journal]}


def test_eight_tenants_in_parallel_each_see_only_their_own_data(app):
    names = [f"job-{i}" for i in range(8)]
    results, barrier = {}, threading.Barrier(len(names))
    threads = [threading.Thread(target=tenant_session, args=(app, name, results, barrier)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    fixtures = ["demo_dev_sandbox", "opeshisos_production"]
    for name in names:
        assert results[name] == {
            "statuses": (201, 200), "after_reset": fixtures, "clients": fixtures + [f"ci_{name}"],
            "snapshots": ["with-client"],
            "journal": [("GET", "/sandbox/clients"), ("POST", "/sandbox/snapshots/with-client/restore"),
                        ("GET", "/sandbox/clients"), ("POST", "/sandbox/reset"), ("POST", "/sandbox/snapshots"),
                        ("POST", "/api/v1/connect/auth/token"), ("POST", "/sandbox/clients")],
        }, name
    default_clients = [c["client_id"] for c in app.test_client().get("/sandbox/clients").json["data"]]
    assert default_clients == fixtures


def test_resetting_one_tenant_leaves_the_others_alone(client):
    for name in ("keep", "wipe"):
        client.post("/sandbox/clients", json={"client_id": f"ci_{name}", "scopes": [], "facility_id": CLINIC},
                    headers=as_tenant(name))
    client.post("/sandbox/reset", headers=as_tenant("wipe"))
    ids = {name: [c["client_id"] for c in client.get("/sandbox/clients", headers=as_tenant(name)).json["data"]]
           for name in ("keep", "wipe")}
    assert ids["keep"][-1] == "ci_keep" and "ci_wipe" not in ids["wipe"]

