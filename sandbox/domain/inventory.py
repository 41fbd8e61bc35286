"""Pharmacy stock and blood bank inventory per facility: seeded stock, reads, and the stock-setting control. No Flask.

Stock status is never stored: `stock_status(quantity)` derives it on every read, so it can never disagree
with the quantity. Setting stock fires `stock.low` only when an item gets worse (in → low, in → out,
low → out); restocking, or setting the same level again, fires nothing.
"""

from __future__ import annotations

from datetime import timedelta

from ..errors import NotFound
from . import clock
from .anchor import ANCHOR_DATE, anchor_datetime, part_rng
from .events import record_event
from .lookup import facility_or_404

DISCLAIMER = "Availability is indicative only and not a guarantee of supply."
LOW_STOCK_THRESHOLD = 10
STATUS_RANK = {"in_stock": 0, "low_stock": 1, "out_of_stock": 2}
BLOOD_GROUPS = ("O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-")
COMPONENTS = ("whole_blood", "packed_cells", "plasma", "platelets")
OUT_OF_STOCK_SCENARIO = "out_of_stock"
STALE_SCENARIO = "stale_inventory"  # its stock feed stopped: nothing it stocks changes, whatever the clock says
STALE_DAYS = 45  # before the anchor date: when that feed stopped

PHARMACY_FIELDS = ("id", "medicine_name", "generic_name", "form", "strength", "available_quantity")
BLOOD_FIELDS = ("blood_group", "component", "available_units", "expiring_within_7_days", "last_stock_update")


def stock_status(quantity: int) -> str:
    """The one rule for every quantity: 0 → out_of_stock, 1–10 → low_stock, more → in_stock."""
    if quantity <= 0:
        return "out_of_stock"
    return "low_stock" if quantity <= LOW_STOCK_THRESHOLD else "in_stock"


def blood_item_id(blood_group: str, component: str) -> str:
    """Internal key of a blood stock line (the wire format has none): `bld_O-_platelets`."""
    return f"bld_{blood_group}_{component}"


# -- reads ------------------------------------------------------------------------------------

def pharmacy_item(doc: dict) -> dict:
    quantity = doc["available_quantity"]
    return {**{name: doc[name] for name in PHARMACY_FIELDS}, "stock_status": stock_status(quantity),
            "expiry_date": doc["expiry_date"], "last_stock_update": doc["last_stock_update"]}


def blood_item(doc: dict) -> dict:
    return {name: doc[name] for name in BLOOD_FIELDS}


def _envelope(world, facility: dict, items: list[dict]) -> dict:
    """`as_of` is the newest stock update of the list; an empty list is as of the sandbox clock's now."""
    updates = [item["last_stock_update"] for item in items]
    as_of = max(updates) if updates else clock.isoformat(clock.now(world))
    return {"facility_id": facility["facility_id"], "facility_name": facility["name"], "as_of": as_of,
            "disclaimer": DISCLAIMER, "items": items}


def pharmacy_inventory(world, facility_id: str) -> dict:
    facility = facility_or_404(world, facility_id)
    docs = world["pharmacy_stock"].find("facility_id", facility["facility_id"])
    return _envelope(world, facility, [pharmacy_item(doc) for doc in docs])


def blood_inventory(world, facility_id: str) -> dict:
    facility = facility_or_404(world, facility_id)
    docs = world["blood_stock"].find("facility_id", facility["facility_id"])
    return _envelope(world, facility, [blood_item(doc) for doc in docs])


# -- the stock control ------------------------------------------------------------------------

def _stock_line(world, table: str, facility: dict, item_id: str, missing: NotFound):
    for doc in world[table].find("item_id", item_id):
        if doc["facility_id"] == facility["facility_id"]:
            return doc
    raise missing


def _alert_if_worse(world, facility_id: str, inventory: str, before: int, item: dict, quantity: int) -> None:
    old, new = stock_status(before), stock_status(quantity)
    if STATUS_RANK[new] > STATUS_RANK[old]:
        record_event(world, "stock.low", {"facility_id": facility_id, "inventory": inventory, "item": item,
                                          "quantity": quantity, "status": new}, facility_id=facility_id)


def set_pharmacy_stock(world, facility_id: str, item_id: str, quantity: int) -> dict:
    """Set an item's available quantity now; `stock.low` when it falls into low or out of stock."""
    with world.transaction():
        facility = facility_or_404(world, facility_id)
        doc = _stock_line(world, "pharmacy_stock", facility, item_id, NotFound(
            f"{facility['name']} stocks no pharmacy item {item_id}.", facility_id=facility["facility_id"],
            item_id=item_id))
        if facility.get("scenario") == STALE_SCENARIO:  # its feed is broken: the change never reaches OpesCare
            return pharmacy_item(doc)
        updated = world["pharmacy_stock"].update(
            doc.doc_id, {"available_quantity": quantity, "last_stock_update": clock.isoformat(clock.now(world))})
        item = pharmacy_item(updated)
        _alert_if_worse(world, facility["facility_id"], "pharmacy", doc["available_quantity"], item, quantity)
        return item


def set_blood_stock(world, facility_id: str, blood_group: str, component: str, units: int) -> dict:
    """Set the units of one group and component now; expiring units are capped at the new total."""
    with world.transaction():
        facility = facility_or_404(world, facility_id)
        doc = _stock_line(world, "blood_stock", facility, blood_item_id(blood_group, component), NotFound(
            f"{facility['name']} has no blood bank.", facility_id=facility["facility_id"]))
        updated = world["blood_stock"].update(doc.doc_id, {
            "available_units": units,
            "expiring_within_7_days": min(doc["expiring_within_7_days"], units),
            "last_stock_update": clock.isoformat(clock.now(world)),
        })
        item = blood_item(updated)
        _alert_if_worse(world, facility["facility_id"], "blood", doc["available_units"], item, units)
        return item


# -- seeding ----------------------------------------------------------------------------------

# Share of donors per group in Cameroon (O- scarce, AB- rarest) and units per component relative to whole blood.
BLOOD_SHARE = {"O+": 0.47, "O-": 0.03, "A+": 0.23, "A-": 0.02, "B+": 0.18, "B-": 0.02, "AB+": 0.04, "AB-": 0.01}
COMPONENT_FACTOR = {"whole_blood": 1.0, "packed_cells": 1.2, "plasma": 0.8, "platelets": 0.25}
# Chance that a unit expires within 7 days: platelets keep 5 days, red cells 35-42, frozen plasma a year.
EXPIRING_SHARE = {"whole_blood": 0.2, "packed_cells": 0.15, "plasma": 0.02, "platelets": 1.0}
BULK_FORMS = ("tablet", "capsule", "dispersible tablet", "chewable tablet")



def seed_inventory(world, seed: int, patients: int, fixtures: dict) -> None:
    """Stock for every facility with a pharmacy or blood bank, each from its own random stream."""
    medicines = fixtures["essential_medicines"]["medicines"]
    for facility in fixtures["facilities"]["facilities"]:
        rng = part_rng(seed, f"inventory:{facility['facility_id']}")
        if facility.get("has_pharmacy"):
            for medicine in medicines:
                if facility["type"] == "hospital" or not medicine.get("hospital_only"):
                    world["pharmacy_stock"].insert(_seed_medicine(rng, facility, medicine))
        if facility.get("has_blood_bank"):
            scale = rng.randint(90, 160)
            for group in BLOOD_GROUPS:
                for component in COMPONENTS:
                    world["blood_stock"].insert(_seed_blood(rng, facility, group, component, scale))


def _seed_medicine(rng, facility: dict, medicine: dict) -> dict:
    roll = rng.random()
    bulk = (100, 3000) if medicine["form"] in BULK_FORMS else (11, 400)
    quantity = 0 if roll < 0.07 else rng.randint(1, LOW_STOCK_THRESHOLD) if roll < 0.17 else rng.randint(*bulk)
    if facility.get("scenario") == OUT_OF_STOCK_SCENARIO:
        quantity = 0
    stale = facility.get("scenario") == STALE_SCENARIO
    return {
        "facility_id": facility["facility_id"],
        **{k: medicine[k] for k in ("id", "medicine_name", "generic_name", "form", "strength")},
        "available_quantity": quantity,
        "expiry_date": (ANCHOR_DATE + timedelta(days=rng.randint(365, 1095))).isoformat(),
        "last_stock_update": anchor_datetime(STALE_DAYS, 17 * 3600) if stale
        else anchor_datetime(rng.randint(1, 20), rng.randint(6 * 3600, 19 * 3600)),
    }


def _seed_blood(rng, facility: dict, group: str, component: str, scale: int) -> dict:
    units = round(scale * BLOOD_SHARE[group] * COMPONENT_FACTOR[component] * rng.uniform(0.6, 1.4))
    if facility.get("scenario") == OUT_OF_STOCK_SCENARIO:
        units = 0
    expiring = sum(rng.random() < EXPIRING_SHARE[component] for _ in range(units))
    return {"facility_id": facility["facility_id"], "id": blood_item_id(group, component), "blood_group": group,
            "component": component, "available_units": units, "expiring_within_7_days": expiring,
            "last_stock_update": anchor_datetime(rng.randint(1, 3), rng.randint(0, 86_399))}
