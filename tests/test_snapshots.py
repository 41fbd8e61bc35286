"""Snapshots: save, list, restore (per tenant, across seeds, across restarts)."""

from __future__ import annotations

import pytest

from opescare_sandbox import create_app

URL = "/sandbox/snapshots"
NEW_PATIENT = {"health_id": "CM-HID-AAAA-AAAA-XXXX", "first_name": "Snap"}


def save(client, name, tenant=None):
    return client.post(URL, json={"name": name}, headers={"X-Sandbox-Tenant": tenant} if tenant else {})


def restore(client, name, tenant=None):
    return client.post(f"{URL}/{name}/restore", headers={"X-Sandbox-Tenant": tenant} if tenant else {})


def test_restore_puts_the_world_back_exactly(client, world):
    world["patients"].insert(NEW_PATIENT)
    world["patients"].remove(5)
    saved = world.export_json()
    response = save(client, "after-setup")
    assert response.status_code == 201
    assert response.json == {"name": "after-setup", "created_at": response.json["created_at"], "seed": 42,
                             "patients": 200, "replaced": False}
    world["patients"].update(6, {"first_name": "Changed"})
    world["audit"].insert({"action": "later"})
    restored = restore(client, "after-setup")
    assert restored.status_code == 200
    assert restored.json["status"] == "restored" and restored.json["tenant"] == "default"
    assert world.export_json() == saved


def test_list_shows_name_and_creation_time_oldest_first(client):
    client.post("/sandbox/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    save(client, "b")
    client.post("/sandbox/clock", json={"advance_seconds": 60})
    save(client, "a")
    assert client.get(URL).json == {"data": [
        {"name": "b", "created_at": "2030-01-01T00:00:00Z", "seed": 42, "patients": 200},
        {"name": "a", "created_at": "2030-01-01T00:01:00Z", "seed": 42, "patients": 200}]}


def test_saving_an_existing_name_replaces_it(client, world):
    save(client, "s")
    world["patients"].insert(NEW_PATIENT)
    assert save(client, "s").json["replaced"] is True
    client.post("/sandbox/reset")
    restore(client, "s")
    assert world["patients"].first("health_id", NEW_PATIENT["health_id"]) is not None
    assert len(client.get(URL).json["data"]) == 1


def test_restore_rebuilds_on_the_snapshots_own_template(client, world):
    client.post("/sandbox/reset", json={"seed": 7, "patients": 20})
    world["patients"].insert(NEW_PATIENT)
    saved = world.export_json()
    save(client, "seed7")
    client.post("/sandbox/reset")
    assert world.meta["seed"] == 42
    assert restore(client, "seed7").json["seed"] == 7
    assert world.export_json() == saved


def test_restore_brings_back_the_clock(client):
    client.post("/sandbox/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    save(client, "c")
    client.post("/sandbox/clock", json={"advance_seconds": 86_400})
    restore(client, "c")
    assert client.get("/sandbox/clock").json["now"] == "2030-01-01T00:00:00Z"


def test_unknown_snapshot_is_404_and_changes_nothing(client, world):
    world["patients"].insert(NEW_PATIENT)
    before = world.export_json()
    response = restore(client, "never-saved")
    assert response.status_code == 404
    assert response.json == {"error": "snapshot_not_found", "error_code": "SNAPSHOT_NOT_FOUND",
                             "message": "This tenant has no snapshot with this name.", "status": 404,
                             "name": "never-saved"}
    assert world.export_json() == before


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "a b"}, {"name": "../etc"}, {"name": "x" * 65},
                                  {"name": 5}])
def test_bad_names_are_400(client, body):
    response = client.post(URL, json=body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert "name" in response.json["errors"]


def test_snapshots_belong_to_their_tenant(client):
    save(client, "mine", tenant="a")
    assert [s["name"] for s in client.get(URL, headers={"X-Sandbox-Tenant": "a"}).json["data"]] == ["mine"]
    assert client.get(URL, headers={"X-Sandbox-Tenant": "b"}).json["data"] == []
    assert restore(client, "mine", tenant="b").status_code == 404


def test_a_tenant_keeps_a_bounded_number_of_snapshots(client, app):
    app.extensions["opescare_sandbox"].extras["snapshots"].limit = 2
    save(client, "one"), save(client, "two")
    response = save(client, "three")
    assert (response.status_code, response.json["error"]) == (422, "snapshot_limit")
    assert (response.json["limit"], response.json["limit_value"]) == ("snapshots_per_tenant", 2)
    assert save(client, "two").status_code == 201  # replacing one is still fine


def test_snapshots_survive_a_restart(tmp_path):
    config = {"TESTING": True, "DATA_DIR": str(tmp_path), "RATE_LIMIT_ENABLED": False}
    first = create_app(config)
    world = first.extensions["opescare_sandbox"].store.world("ci")
    world["patients"].insert(NEW_PATIENT)
    saved = world.export_json()
    assert save(first.test_client(), "kept", tenant="ci").status_code == 201
    assert (tmp_path / "tenants" / "ci" / "snapshots" / "kept.json").exists()
    first.test_client().post("/sandbox/reset", headers={"X-Sandbox-Tenant": "ci"})

    second = create_app(config).test_client()
    assert [s["name"] for s in second.get(URL, headers={"X-Sandbox-Tenant": "ci"}).json["data"]] == ["kept"]
    assert restore(second, "kept", tenant="ci").status_code == 200

    third = create_app(config)  # the restored world itself was written back to disk
    assert third.extensions["opescare_sandbox"].store.world("ci").export_json() == saved


def test_dropping_a_tenant_drops_its_snapshots(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "RATE_LIMIT_ENABLED": False})
    client = app.test_client()
    save(client, "gone", tenant="ci")
    app.extensions["opescare_sandbox"].store.drop("ci")
    assert not (tmp_path / "tenants" / "ci").exists()
    assert client.get(URL, headers={"X-Sandbox-Tenant": "ci"}).json["data"] == []
