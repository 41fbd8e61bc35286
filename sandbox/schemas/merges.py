"""Schemas of the patient-merge control (/sandbox/patients/merge)."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema

HEALTH_ID = {"validate": ma.validate.Length(min=1, max=64)}


class MergeRequestSchema(RequestSchema):
    survivor_health_id = ma.fields.String(required=True, **HEALTH_ID, metadata={
        "description": "The record that stays canonical.", "example": "CM-HID-7KQ9-MP42-X8D1"})
    merged_health_id = ma.fields.String(required=True, **HEALTH_ID, metadata={
        "description": "The record merged into it; its ID keeps working as an alias.", "example": "OPC-2024-XK7T9"})


class MergedConsentSchema(ma.Schema):
    client_id = ma.fields.String(required=True, metadata={"example": "demo_dev_sandbox"})
    consent_status = ma.fields.String(required=True, metadata={"example": "granted"})
    from_health_id = ma.fields.String(required=True, metadata={"description": "Which record's consent was kept."})


class MergeResponseSchema(ma.Schema):
    survivor_health_id = ma.fields.String(required=True, metadata={"example": "CM-HID-7KQ9-MP42-X8D1"})
    merged_health_id = ma.fields.String(required=True, metadata={"example": "OPC-2024-XK7T9"})
    merged_at = ma.fields.String(required=True, metadata={"description": "On the tenant's sandbox clock."})
    records_moved = ma.fields.Integer(required=True, metadata={"example": 4})
    consents = ma.fields.List(ma.fields.Nested(MergedConsentSchema), required=True,
                              metadata={"description": "Each client's consent after the merge (docs/faults.md)."})

