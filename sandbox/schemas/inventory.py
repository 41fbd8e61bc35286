"""Schemas of the pharmacy and blood bank inventories, and of the stock-setting controls."""

from __future__ import annotations

import marshmallow as ma

from ..domain.inventory import BLOOD_GROUPS, COMPONENTS, DISCLAIMER, STATUS_RANK
from .common import RequestSchema

MAX_STOCK = 1_000_000


class PharmacyItemSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "med_amoxicillin_500_cap"})
    medicine_name = ma.fields.String(required=True, metadata={"example": "Amoxicillin 500 mg capsule"})
    generic_name = ma.fields.String(required=True, metadata={"example": "Amoxicillin"})
    form = ma.fields.String(required=True, metadata={"example": "capsule"})
    strength = ma.fields.String(required=True, metadata={"example": "500 mg"})
    available_quantity = ma.fields.Integer(required=True, metadata={"example": 240})
    stock_status = ma.fields.String(required=True, metadata={
        "enum": list(STATUS_RANK), "description": "0 → out_of_stock, 1–10 → low_stock, more → in_stock."})
    expiry_date = ma.fields.String(required=True, metadata={"format": "date", "example": "2027-08-17"})
    last_stock_update = ma.fields.String(required=True, metadata={"format": "date-time",
                                                                  "example": "2025-12-23T16:07:22Z"})


class BloodItemSchema(ma.Schema):
    blood_group = ma.fields.String(required=True, metadata={"enum": list(BLOOD_GROUPS), "example": "O-"})
    component = ma.fields.String(required=True, metadata={"enum": list(COMPONENTS), "example": "packed_cells"})
    available_units = ma.fields.Integer(required=True, metadata={"example": 4})
    expiring_within_7_days = ma.fields.Integer(required=True, metadata={"example": 1})
    last_stock_update = ma.fields.String(required=True, metadata={"format": "date-time",
                                                                  "example": "2025-12-31T06:39:44Z"})


class InventorySchema(ma.Schema):
    facility_id = ma.fields.String(required=True, metadata={"example": "00000000-0000-0000-0000-100000000001"})
    facility_name = ma.fields.String(required=True, metadata={"example": "Demo Central Hospital"})
    as_of = ma.fields.String(required=True, metadata={
        "format": "date-time", "description": "The newest last_stock_update; the sandbox clock's now if no items."})
    disclaimer = ma.fields.String(required=True, metadata={"example": DISCLAIMER})


class PharmacyInventorySchema(InventorySchema):
    items = ma.fields.List(ma.fields.Nested(PharmacyItemSchema), required=True)


class BloodInventorySchema(InventorySchema):
    items = ma.fields.List(ma.fields.Nested(BloodItemSchema), required=True)


class PharmacyStockRequestSchema(RequestSchema):
    item_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128),
                               metadata={"example": "med_amoxicillin_500_cap"})
    available_quantity = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0, max=MAX_STOCK),
                                           metadata={"example": 5})


class BloodStockRequestSchema(RequestSchema):
    blood_group = ma.fields.String(required=True, validate=ma.validate.OneOf(BLOOD_GROUPS), metadata={"example": "O-"})
    component = ma.fields.String(required=True, validate=ma.validate.OneOf(COMPONENTS),
                                 metadata={"example": "whole_blood"})
    available_units = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0, max=MAX_STOCK),
                                        metadata={"example": 0})
