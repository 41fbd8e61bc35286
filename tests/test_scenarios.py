"""Every scenario that GET /sandbox/scenarios lists does what its entry says (one test per scenario)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from opescare_sandbox.domain import clock, health_ids
from opescare_sandbox.domain.seed import load_fixtures

CATALOGUE = {s["name"]: s for s in load_fixtures("fixtures")["scenarios"]["scenarios"]}
PERSONAS = load_fixtures("fixtures")["scenarios"]["patients"]
PROVEN = set()


def proves(name):
    """Marks a test as the proof of a catalogue entry (the completeness test checks every entry has one)."""
    PROVEN.add(name)
    return lambda test: test


def test_the_control_lists_the_catalogue(client):
    response = client.get("/sandbox/scenarios")
    assert response.status_code == 200
    assert [s["name"] for s in response.json["data"]] == list(CATALOGUE)
    assert all(set(s) == {"name", "kind", "summary", "request", "input", "effect"} for s in response.json["data"])


def test_every_listed_scenario_has_a_proof():
    assert set(CATALOGUE) == PROVEN


def test_persona_health_ids_pass_the_checksum():
    assert all(health_ids.is_valid(p["health_id"]) for p in PERSONAS)


@proves("multiple_patient_matches")
def test_twin_demographics_are_a_409(client, auth):
    body = CATALOGUE["multiple_patient_matches"]["input"]
    response = client.post("/api/v1/connect/patients/resolve", json=body, headers=auth)
    assert (response.status_code, response.json["error"]) == (409, "multiple_patient_matches")
    assert sorted(response.json["candidates"]) == sorted(["CM-HID-VY5Y-A2X6-R5Q7", "CM-HID-SQRC-FHTX-2SXW"])


@proves("consent_expiring")
def test_consent_expires_a_minute_after_first_read(client, auth, world):
    health_id = CATALOGUE["consent_expiring"]["input"]["health_id"]
    records = f"/api/v1/connect/patient/{health_id}/records?type=vitals"
    assert client.get(records, headers=auth).status_code == 200
    consent = client.get(f"/api/v1/connect/patient/{health_id}/consent", headers=auth).json
    assert consent["consent_status"] == "granted" and consent["expires_at"] is not None
    clock.advance(world, 59)
    assert client.get(records, headers=auth).status_code == 200
    clock.advance(world, 2)
    response = client.get(records, headers=auth)
    assert (response.status_code, response.json["consent_status"]) == (403, "expired")
    assert [e["type"] for e in world["events"].all()].count("consent.expired") == 1


@proves("out_of_stock_facility")
def test_stock_out_facility_has_nothing(client, auth):
    facility = CATALOGUE["out_of_stock_facility"]["input"]["facility_id"]
    pharmacy = client.get(f"/api/v1/connect/inventory/pharmacy/{facility}", headers=auth).json["items"]
    blood = client.get(f"/api/v1/connect/inventory/blood/{facility}", headers=auth).json["items"]
    assert pharmacy and all(i["available_quantity"] == 0 and i["stock_status"] == "out_of_stock" for i in pharmacy)
    assert blood and all(i["available_units"] == 0 for i in blood)


@proves("reconciliation_discrepancy")
@pytest.mark.parametrize("config", [{"SEED": 42}, {"SEED": 7}])
def test_magic_date_is_always_a_discrepancy(client, auth):
    date = CATALOGUE["reconciliation_discrepancy"]["input"]["date"]
    body = client.get(f"/api/v1/connect/reconciliation?date={date}", headers=auth).json
    assert body["summary"]["status"] == "discrepancy" and body["summary"]["variance"] != 0
    assert any(r["status"] == "discrepancy" and r["notes"] for r in body["records"])


@proves("long_record_history")
def test_long_history_persona_has_over_a_thousand_records(client, auth):
    health_id = CATALOGUE["long_record_history"]["input"]["health_id"]
    response = client.get(f"/api/v1/connect/patient/{health_id}/records", headers=auth)
    assert response.status_code == 200
    records = response.json["records"]
    assert sum(len(v) for v in records.values()) > 1000
    years = {r["recorded_at"][:4] for r in records["vitals"]}
    assert len(years) >= 20


@proves("deceased_openeyes_patient")
def test_deceased_openeyes_patient(client):
    basic = base64.b64encode(b"api_user:password").decode()
    term = CATALOGUE["deceased_openeyes_patient"]["input"]["term"]
    found = client.get(f"/api/v1/patient/search?term={term}", headers={"Authorization": f"Basic {basic}"}).json
    assert [(p["id"], p["age"], p["is_deceased"]) for p in found] == [(12346, "Deceased", True)]


@proves("invalid_webhook_signature")
def test_magic_callback_gets_a_signature_that_does_not_verify(client, auth, receiver):
    url = receiver.url("/webhooks?sandbox_signature=invalid")
    good_url = receiver.url("/good")
    subscriptions = [client.post("/api/v1/connect/webhooks/subscriptions", headers=auth,
                                 json={"callback_url": u, "subscribed_events": ["stock.low"]}).json
                     for u in (url, good_url)]
    client.post("/sandbox/webhooks/trigger", json={"type": "stock.low", "data": {}})
    by_path = {r.path: r for r in receiver.wait(2)}
    for sub, path, valid in ((subscriptions[0], "/webhooks?sandbox_signature=invalid", False),
                             (subscriptions[1], "/good", True)):
        received = by_path[path]
        parts = dict(p.split("=", 1) for p in received.headers["X-OpesCare-Signature"].split(","))
        expected = hmac.new(sub["webhook_secret"].encode(), f"{parts['t']}.".encode() + received.body,
                            hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, parts["v1"]) is valid


# -- issue 22: faults a real integration meets (each control is tested in depth in its own module) ------------
STALE = "00000000-0000-0000-0000-100000000098"


@proves("stale_inventory")
def test_a_stale_facility_never_updates_while_others_do(client, auth, world, get_token):
    url = f"/api/v1/connect/inventory/pharmacy/{CATALOGUE['stale_inventory']['input']['facility_id']}"
    before = client.get(url, headers=auth).json
    assert before["as_of"] == "2025-11-17T17:00:00Z" and {i["last_stock_update"] for i in before["items"]} == {
        "2025-11-17T17:00:00Z"}
    assert any(i["stock_status"] == "in_stock" for i in before["items"])  # the trap: it still reads in stock
    item = before["items"][0]["id"]
    clock.advance(world, 7 * 86_400)
    auth = {"Authorization": f"Bearer {get_token()}"}  # the first token's hour is long past
    for facility in (STALE, "00000000-0000-0000-0000-100000000004"):  # dispensing here and elsewhere
        assert client.post(f"/sandbox/inventory/{facility}/pharmacy",
                           json={"item_id": item, "available_quantity": 3}).status_code == 200
    assert client.get(url, headers=auth).json == before
    elsewhere = client.get("/api/v1/connect/inventory/pharmacy/00000000-0000-0000-0000-100000000004", headers=auth).json
    assert elsewhere["as_of"] == clock.isoformat(clock.now(world))


@proves("armed_fault")
def test_an_armed_fault_meets_the_next_resolves(client, auth):
    scenario = CATALOGUE["armed_fault"]
    assert client.post("/sandbox/faults", json=scenario["input"]).status_code == 201
    body = {"health_id": "CM-HID-7KQ9-MP42-X8D1"}
    statuses = [client.post("/api/v1/connect/patients/resolve", json=body, headers=auth).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


@proves("patient_merge")
def test_a_merged_id_verifies_via_its_alias(client, auth):
    scenario = CATALOGUE["patient_merge"]["input"]
    assert client.post("/sandbox/patients/merge", json=scenario).status_code == 200
    body = client.get(f"/api/v1/connect/patients/verify/{scenario['merged_health_id']}", headers=auth).json
    assert (body["health_id"], body["resolved_via_alias"], body["queried_health_id"]) == (
        scenario["survivor_health_id"], True, scenario["merged_health_id"])


def _subscription(client, auth) -> str:
    response = client.post("/api/v1/connect/webhooks/subscriptions", headers=auth, json={
        "callback_url": "http://127.0.0.1:9/hook", "subscribed_events": ["patient.created"]})
    return response.json["subscription_id"]


@proves("secret_rotation")
def test_a_rotation_gives_a_new_secret_and_a_grace_window(client, auth):
    subscription_id = _subscription(client, auth)
    rotated = client.post(f"/sandbox/webhooks/subscriptions/{subscription_id}/rotate-secret",
                          json=CATALOGUE["secret_rotation"]["input"]).json
    grace = clock.parse_iso(rotated["previous_secret_expires_at"]) - clock.parse_iso(rotated["rotated_at"])
    assert rotated["webhook_secret"].startswith("whsec_") and grace.total_seconds() == 86_400


@proves("amended_lab_result")
def test_an_amended_result_is_version_2(client, auth, world):
    labs = client.get("/api/v1/connect/patient/OPC-2024-DEMO1/records?type=lab_results", headers=auth).json
    lab_id = labs["records"]["lab_results"][0]["id"]
    amended = client.post(f"/sandbox/patients/OPC-2024-DEMO1/lab-results/{lab_id}/amend",
                          json=CATALOGUE["amended_lab_result"]["input"]).json
    assert (amended["version"], amended["value"], [v["version"] for v in amended["previous_versions"]]) == (2, 9.9, [1])
    assert [e["type"] for e in world["events"].all()].count("lab_result.amended") == 1


@proves("adversarial_deliveries")
def test_chaos_bends_the_next_deliveries(client, auth, world):
    subscription_id = _subscription(client, auth)
    settings = CATALOGUE["adversarial_deliveries"]["input"]
    assert client.put(f"/sandbox/webhooks/subscriptions/{subscription_id}/chaos", json=settings).json == {
        "subscription_id": subscription_id, **settings}
    for n in range(3):
        client.post("/sandbox/webhooks/trigger", json={"type": "patient.created", "data": {"n": n}})
    rows = [d for e in client.get("/sandbox/webhooks/deliveries").json["data"] for d in e["deliveries"]]
    assert len(rows) == 3 * 2 + 1  # each twice, and one bad-signature probe after the 3rd
    assert sum("duplicate_of" in d for d in rows) == 3 and [d["probe"]["kind"] for d in rows if "probe" in d] == [
        "bad_signature"]
    assert all(d["held_until"] and d["attempt_count"] == 0 for d in rows)  # held by the reorder window
