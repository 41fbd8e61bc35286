"""Endpoints 8-9: pharmacy stock and blood bank inventory per facility, plus the controls that set stock."""

from __future__ import annotations

from flask.views import MethodView

from ..domain import inventory
from ..schemas.common import ErrorSchema
from ..schemas.inventory import (
    BloodInventorySchema,
    BloodItemSchema,
    BloodStockRequestSchema,
    PharmacyInventorySchema,
    PharmacyItemSchema,
    PharmacyStockRequestSchema,
)
from .blueprint import FACILITY, Blueprint
from .context import world
from .controls.blueprint import admin_only
from .security import requires_token

blp = Blueprint("Inventory", __name__, description="Pharmacy stock and blood bank inventory by facility")

CONTROLS = ["Sandbox controls"]


@blp.route("/api/v1/connect/inventory/pharmacy/<string:facility_id>", parameters=[FACILITY])
class PharmacyInventory(MethodView):
    @blp.response(200, PharmacyInventorySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="facility_not_found: unknown or malformed facility id")
    @requires_token(blp, "pharmacy:stock:read")
    def get(self, facility_id):
        """Pharmacy stock levels of a facility."""
        return inventory.pharmacy_inventory(world(), facility_id)


@blp.route("/api/v1/connect/inventory/blood/<string:facility_id>", parameters=[FACILITY])
class BloodInventory(MethodView):
    @blp.response(200, BloodInventorySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="facility_not_found: unknown or malformed facility id")
    @requires_token(blp, "blood:inventory:read")
    def get(self, facility_id):
        """Blood bank inventory of a facility by blood group and component."""
        return inventory.blood_inventory(world(), facility_id)


@blp.route("/sandbox/inventory/<string:facility_id>/pharmacy", parameters=[FACILITY])
class PharmacyStockControl(MethodView):
    @blp.doc(tags=CONTROLS)
    @blp.arguments(PharmacyStockRequestSchema)
    @blp.response(200, PharmacyItemSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Missing or invalid item_id or available_quantity")
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown facility, or an item the facility does not stock")
    @admin_only
    def post(self, body, facility_id):
        """Set a pharmacy item's quantity (fires stock.low when it falls into low or out of stock)."""
        return inventory.set_pharmacy_stock(world(), facility_id, body["item_id"], body["available_quantity"])


@blp.route("/sandbox/inventory/<string:facility_id>/blood", parameters=[FACILITY])
class BloodStockControl(MethodView):
    @blp.doc(tags=CONTROLS)
    @blp.arguments(BloodStockRequestSchema)
    @blp.response(200, BloodItemSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Missing or invalid blood_group, component or units")
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown facility, or one without a blood bank")
    @admin_only
    def post(self, body, facility_id):
        """Set the units of a blood group and component (fires stock.low when they fall into low or out)."""
        return inventory.set_blood_stock(world(), facility_id, body["blood_group"], body["component"],
                                         body["available_units"])
