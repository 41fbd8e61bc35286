"""Endpoints 8-9 and their stock controls: every facility × both inventories, scopes, statuses and stock.low."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opescare_sandbox.domain import clock
from opescare_sandbox.domain.events import list_events
from opescare_sandbox.domain.inventory import BLOOD_GROUPS, COMPONENTS, DISCLAIMER, stock_status

CENTRAL, CITY, SPECIALIST, PHARMACY, LAB = (f"00000000-0000-0000-0000-10000000000{n}" for n in range(1, 6))
STOCK_OUT = "00000000-0000-0000-0000-100000000099"
FACILITIES = {  # id: (name, has_pharmacy, has_blood_bank, pharmacy items)
    CENTRAL: ("Demo Central Hospital", True, True, 40),
    CITY: ("Demo City Clinic", True, False, 34),
    SPECIALIST: ("Demo Specialist Hospital", True, True, 40),
    PHARMACY: ("DemoCare Pharmacy", True, False, 34),
    LAB: ("Demo Diagnostic Laboratory", False, False, 0),
    STOCK_OUT: ("Demo Stock-Out Pharmacy", True, True, 34),
}
PHARMACY_KEYS = ["id", "medicine_name", "generic_name", "form", "strength", "available_quantity", "stock_status",
                 "expiry_date", "last_stock_update"]
BLOOD_KEYS = ["blood_group", "component", "available_units", "expiring_within_7_days", "last_stock_update"]
NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)


def inventory(client, auth, kind, facility_id):
    return client.get(f"/api/v1/connect/inventory/{kind}/{facility_id}", headers=auth)


def set_pharmacy(client, facility_id, item_id, quantity):
    return client.post(f"/sandbox/inventory/{facility_id}/pharmacy",
                       json={"item_id": item_id, "available_quantity": quantity})


def set_blood(client, facility_id, group, component, units):
    return client.post(f"/sandbox/inventory/{facility_id}/blood",
                       json={"blood_group": group, "component": component, "available_units": units})


@pytest.fixture
def frozen(world):
    """List it before `auth` in a test's arguments, so the token is issued on the frozen clock."""
    clock.set_now(world, NOW, frozen=True)
    return world


@pytest.mark.parametrize("facility_id", FACILITIES)
@pytest.mark.parametrize("kind", ["pharmacy", "blood"])
def test_every_facility_answers_both_inventories(client, frozen, auth, facility_id, kind):
    name, has_pharmacy, has_blood_bank, _ = FACILITIES[facility_id]
    body = inventory(client, auth, kind, facility_id).json
    assert list(body) == ["facility_id", "facility_name", "as_of", "disclaimer", "items"]
    assert (body["facility_id"], body["facility_name"], body["disclaimer"]) == (facility_id, name, DISCLAIMER)
    stocked = has_pharmacy if kind == "pharmacy" else has_blood_bank
    assert bool(body["items"]) is stocked
    for item in body["items"]:
        assert list(item) == (PHARMACY_KEYS if kind == "pharmacy" else BLOOD_KEYS)
    expected_as_of = max(i["last_stock_update"] for i in body["items"]) if stocked else "2026-03-15T10:30:00Z"
    assert body["as_of"] == expected_as_of


@pytest.mark.parametrize("facility_id", [f for f, spec in FACILITIES.items() if spec[1]])
def test_pharmacy_items_are_the_catalogue_with_statuses_from_quantity(client, auth, facility_id):
    items = inventory(client, auth, "pharmacy", facility_id).json["items"]
    assert len(items) == FACILITIES[facility_id][3]
    assert len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item["stock_status"] == stock_status(item["available_quantity"])
        assert item["available_quantity"] >= 0 and item["medicine_name"] and item["generic_name"]
        datetime.strptime(item["expiry_date"], "%Y-%m-%d")
        clock.parse_iso(item["last_stock_update"])


def test_seeded_stock_shows_every_status_and_realistic_medicines(client, auth):
    items = {i["id"]: i for f in (CENTRAL, CITY, SPECIALIST, PHARMACY)
             for i in inventory(client, auth, "pharmacy", f).json["items"]}
    statuses = {i["stock_status"] for i in items.values()}
    assert statuses == {"in_stock", "low_stock", "out_of_stock"}
    assert items["med_artemether_lumefantrine_20_120_tab"]["strength"] == "20 mg/120 mg"
    assert items["med_oxytocin_10iu_inj"]["form"] == "injection"


def test_hospital_only_medicines_are_not_stocked_by_the_clinic(client, auth):
    ids = {i["id"] for i in inventory(client, auth, "pharmacy", CITY).json["items"]}
    assert "med_oxytocin_10iu_inj" not in ids and "med_amoxicillin_500_cap" in ids


@pytest.mark.parametrize("facility_id", [CENTRAL, SPECIALIST])
def test_blood_bank_has_every_group_and_component_with_plausible_scarcity(client, auth, facility_id):
    items = inventory(client, auth, "blood", facility_id).json["items"]
    units = {(i["blood_group"], i["component"]): i for i in items}
    assert sorted(units) == sorted((g, c) for g in BLOOD_GROUPS for c in COMPONENTS)
    assert all(0 <= i["expiring_within_7_days"] <= i["available_units"] for i in items)
    for component in COMPONENTS:
        assert units[("O-", component)]["available_units"] < units[("O+", component)]["available_units"]
        assert units[("AB-", component)]["available_units"] <= 3
    platelets = sum(i["available_units"] for i in items if i["component"] == "platelets")
    assert platelets < sum(i["available_units"] for i in items if i["component"] == "whole_blood") / 2


def test_scenario_facility_is_out_of_stock_of_everything(client, auth):
    pharmacy = inventory(client, auth, "pharmacy", STOCK_OUT).json["items"]
    blood = inventory(client, auth, "blood", STOCK_OUT).json["items"]
    assert {(i["available_quantity"], i["stock_status"]) for i in pharmacy} == {(0, "out_of_stock")}
    assert {(i["available_units"], i["expiring_within_7_days"]) for i in blood} == {(0, 0)}


@pytest.mark.parametrize("kind", ["pharmacy", "blood"])
@pytest.mark.parametrize("facility_id", ["00000000-0000-0000-0000-100000000006", "nope", "%20", "DROP TABLE",
                                         "00000000-0000-0000-0000-1000000000011"])
def test_unknown_or_malformed_facility_is_404(client, auth, kind, facility_id):
    response = inventory(client, auth, kind, facility_id)
    assert (response.status_code, response.json["error"]) == (404, "facility_not_found")


@pytest.mark.parametrize("kind,other_scope,needed", [("pharmacy", "blood:inventory:read", "pharmacy:stock:read"),
                                                     ("blood", "pharmacy:stock:read", "blood:inventory:read")])
def test_token_narrowed_to_another_scope_is_invalid_scope(client, get_token, kind, other_scope, needed):
    response = inventory(client, {"Authorization": f"Bearer {get_token(scope=other_scope)}"}, kind, CENTRAL)
    assert (response.status_code, response.json["error"]) == (403, "invalid_scope")
    assert response.json["required_scopes"] == [needed]


@pytest.mark.parametrize("kind", ["pharmacy", "blood"])
def test_inventory_without_token_is_401(client, kind):
    response = inventory(client, {}, kind, CENTRAL)
    assert (response.status_code, response.json["error"]) == (401, "missing_token")


# -- the stock controls -----------------------------------------------------------------------

@pytest.mark.parametrize("quantity,status", [(0, "out_of_stock"), (1, "low_stock"), (10, "low_stock"),
                                             (11, "in_stock"), (5000, "in_stock")])
def test_setting_pharmacy_stock_drives_the_status(client, frozen, auth, quantity, status):
    response = set_pharmacy(client, CENTRAL, "med_paracetamol_500_tab", quantity)
    assert response.status_code == 200
    item = response.json
    assert (item["id"], item["available_quantity"], item["stock_status"]) == ("med_paracetamol_500_tab", quantity, status)
    assert item["last_stock_update"] == "2026-03-15T10:30:00Z"
    body = inventory(client, auth, "pharmacy", CENTRAL).json
    assert item in body["items"] and body["as_of"] == "2026-03-15T10:30:00Z"


def test_stock_low_fires_exactly_once_per_crossing(client, frozen):  # frozen clock: the item's last_stock_update is compared below
    steps = [(500, 0), (8, 1), (5, 1), (0, 2), (0, 2), (9, 2), (400, 2), (0, 3), (12, 3), (10, 4)]
    for quantity, events_so_far in steps:
        assert set_pharmacy(client, CENTRAL, "med_metformin_500_tab", quantity).status_code == 200
        assert len(list_events(frozen, "stock.low")) == events_so_far, f"after setting {quantity}"
    newest = list_events(frozen, "stock.low")[0]
    item = set_pharmacy(client, CENTRAL, "med_metformin_500_tab", 10).json
    assert newest["data"] == {"inventory": "pharmacy", "item_id": "med_metformin_500_tab",
                              "item_name": item["medicine_name"], "available_quantity": 10,
                              "stock_status": "low_stock", "facility_id": CENTRAL}
    assert newest["meta"]["facility_id"] == CENTRAL


def test_blood_control_sets_units_caps_expiring_and_fires_stock_low(client, frozen, auth):
    seeded = next(i for i in inventory(client, auth, "blood", CENTRAL).json["items"]
                  if (i["blood_group"], i["component"]) == ("O+", "whole_blood"))
    assert seeded["expiring_within_7_days"] > 3  # so the cap below is exercised
    response = set_blood(client, CENTRAL, "O+", "whole_blood", 3)
    assert response.json == {"blood_group": "O+", "component": "whole_blood", "available_units": 3,
                             "expiring_within_7_days": 3, "last_stock_update": "2026-03-15T10:30:00Z"}
    assert response.json in inventory(client, auth, "blood", CENTRAL).json["items"]
    events = list_events(frozen, "stock.low")
    assert [(e["data"]["inventory"], e["data"]["item_id"], e["data"]["stock_status"], e["data"]["available_quantity"])
            for e in events] == [("blood", "bld_O+_whole_blood", "low_stock", 3)]


@pytest.mark.parametrize("facility_id,body,message", [
    ("00000000-0000-0000-0000-100000000006", {"item_id": "med_zinc_20_tab", "available_quantity": 1},
     "facility_not_found"),
    (CENTRAL, {"item_id": "med_unobtainium", "available_quantity": 1}, "not_found"),
    (CITY, {"item_id": "med_oxytocin_10iu_inj", "available_quantity": 1}, "not_found"),
    (LAB, {"item_id": "med_zinc_20_tab", "available_quantity": 1}, "not_found"),
])
def test_pharmacy_control_404s(client, world, facility_id, body, message):
    response = client.post(f"/sandbox/inventory/{facility_id}/pharmacy", json=body)
    assert (response.status_code, response.json["error"]) == (404, message)


@pytest.mark.parametrize("facility_id,error", [(CITY, "not_found"), ("x", "facility_not_found")])
def test_blood_control_404s_without_a_blood_bank(client, facility_id, error):
    response = set_blood(client, facility_id, "O-", "plasma", 2)
    assert (response.status_code, response.json["error"]) == (404, error)


@pytest.mark.parametrize("path,body,fields", [
    ("pharmacy", {}, {"item_id", "available_quantity"}),
    ("pharmacy", {"item_id": "med_zinc_20_tab", "available_quantity": -1}, {"available_quantity"}),
    ("pharmacy", {"item_id": "med_zinc_20_tab", "available_quantity": "5"}, {"available_quantity"}),
    ("pharmacy", {"item_id": "med_zinc_20_tab", "available_quantity": 2.5}, {"available_quantity"}),
    ("pharmacy", {"item_id": "med_zinc_20_tab", "available_quantity": True}, {"available_quantity"}),
    ("pharmacy", {"item_id": "", "available_quantity": 1}, {"item_id"}),
    ("blood", {"blood_group": "O", "component": "whole_blood", "available_units": 1}, {"blood_group"}),
    ("blood", {"blood_group": "O-", "component": "serum", "available_units": 1}, {"component"}),
    ("blood", {"blood_group": "O-", "component": "plasma"}, {"available_units"}),
    ("blood", {"blood_group": "O-", "component": "plasma", "available_units": 10**7}, {"available_units"}),
])
def test_bad_control_bodies_are_400_and_change_nothing(client, auth, world, path, body, fields):
    before = {kind: inventory(client, auth, kind, CENTRAL).json for kind in ("pharmacy", "blood")}
    response = client.post(f"/sandbox/inventory/{CENTRAL}/{path}", json=body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert set(response.json["errors"]) == fields
    assert {kind: inventory(client, auth, kind, CENTRAL).json for kind in ("pharmacy", "blood")} == before
    assert list_events(world, "stock.low") == []


def test_broken_json_body_is_400(client):
    response = client.post(f"/sandbox/inventory/{CENTRAL}/pharmacy", data="{", content_type="application/json")
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_stock_changes_stay_in_their_tenant_and_reset_restores_seeded_stock(client, auth, get_token):
    seeded = inventory(client, auth, "pharmacy", CENTRAL).json
    client.post(f"/sandbox/inventory/{CENTRAL}/pharmacy", json={"item_id": "med_ors_sachet", "available_quantity": 0},
                headers={"X-Sandbox-Tenant": "team-a"})
    assert inventory(client, auth, "pharmacy", CENTRAL).json == seeded
    team_a = {"Authorization": f"Bearer {get_token(tenant='team-a')}", "X-Sandbox-Tenant": "team-a"}
    ors = [i for i in inventory(client, team_a, "pharmacy", CENTRAL).json["items"] if i["id"] == "med_ors_sachet"]
    assert ors[0]["available_quantity"] == 0
    client.post("/sandbox/reset", headers={"X-Sandbox-Tenant": "team-a"})
    team_a = {"Authorization": f"Bearer {get_token(tenant='team-a')}", "X-Sandbox-Tenant": "team-a"}
    assert inventory(client, team_a, "pharmacy", CENTRAL).json == seeded
