"""POST/GET /sandbox/clock: set, advance, freeze; per tenant; token expiry follows it."""

from __future__ import annotations

import pytest

from opescare_sandbox.domain import clock

from .probes import CONNECT_PROBE, add_probes

URL = "/sandbox/clock"


@pytest.fixture
def app(app):
    return add_probes(app)


def test_get_shows_real_time_at_first(client, world):
    body = client.get(URL).json
    assert body["frozen"] is False and abs(body["offset_seconds"]) < 1
    assert body["now"] == clock.isoformat(clock.now(world))


def test_set_and_freeze(client):
    response = client.post(URL, json={"now": "2030-06-01T12:00:00Z", "frozen": True})
    assert response.status_code == 200
    body = response.json
    assert (body["now"], body["frozen"]) == ("2030-06-01T12:00:00Z", True)
    assert client.get(URL).json["now"] == "2030-06-01T12:00:00Z"


def test_advance_a_frozen_clock_keeps_it_frozen(client):
    client.post(URL, json={"now": "2030-06-01T12:00:00", "frozen": True})  # naive: taken as UTC
    body = client.post(URL, json={"advance_seconds": 90}).json
    assert (body["now"], body["frozen"]) == ("2030-06-01T12:01:30Z", True)


def test_frozen_false_restarts_the_clock(client):
    client.post(URL, json={"now": "2030-06-01T12:00:00Z", "frozen": True})
    body = client.post(URL, json={"advance_seconds": 0, "frozen": False}).json
    assert body["frozen"] is False and body["now"].startswith("2030-06-01T12:00:0")


def test_advance_moves_a_running_clock(client):
    body = client.post(URL, json={"advance_seconds": 86_400}).json
    assert body["frozen"] is False and abs(body["offset_seconds"] - 86_400) < 1


def test_set_with_an_offset_is_converted_to_utc(client):
    body = client.post(URL, json={"now": "2030-06-01T12:00:00+01:00", "frozen": True}).json
    assert body["now"] == "2030-06-01T11:00:00Z"


@pytest.mark.parametrize("body,field", [
    ({}, "_schema"), ({"advance_seconds": 5, "now": "2030-01-01T00:00:00Z"}, "_schema"), ({"frozen": True}, "_schema"),
    ({"advance_seconds": "soon"}, "advance_seconds"), ({"advance_seconds": 10 ** 12}, "advance_seconds"),
    ({"now": "tomorrow"}, "now"), ({"now": "0001-01-01T00:00:00Z"}, "now"), ({"now": 5}, "now"),
    ({"now": "2030-01-01T00:00:00Z", "frozen": "maybe"}, "frozen"),
])
def test_bad_bodies_are_400_and_change_nothing(client, world, body, field):
    before = world.export_json()
    response = client.post(URL, json=body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert field in response.json["errors"]
    assert world.export_json() == before


def test_non_object_body_is_400(client):
    assert client.post(URL, data="[1]", content_type="application/json").status_code == 400


def test_each_tenant_has_its_own_clock(client):
    client.post(URL, json={"now": "2030-06-01T12:00:00Z", "frozen": True}, headers={"X-Sandbox-Tenant": "a"})
    assert client.get(URL, headers={"X-Sandbox-Tenant": "a"}).json["now"] == "2030-06-01T12:00:00Z"
    assert client.get(URL, headers={"X-Sandbox-Tenant": "b"}).json["frozen"] is False


def test_reset_puts_the_clock_back(client):
    client.post(URL, json={"now": "2030-06-01T12:00:00Z", "frozen": True})
    client.post("/sandbox/reset")
    assert client.get(URL).json["frozen"] is False


def test_tokens_expire_when_the_clock_is_advanced(client, get_token):
    headers = {"Authorization": f"Bearer {get_token()}"}
    assert client.post(URL, json={"advance_seconds": 3599}).status_code == 200
    assert client.get(CONNECT_PROBE, headers=headers).status_code == 200
    client.post(URL, json={"advance_seconds": 1})
    response = client.get(CONNECT_PROBE, headers=headers)
    assert (response.status_code, response.json["error"]) == (401, "token_expired")


def test_a_token_minted_in_the_future_is_not_yet_valid_after_going_back(client, get_token):
    client.post(URL, json={"advance_seconds": 7200})
    headers = {"Authorization": f"Bearer {get_token()}"}
    client.post(URL, json={"advance_seconds": -7200})
    assert client.get(CONNECT_PROBE, headers=headers).json["error"] == "token_invalid"
