"""Schemas of the sandbox controls (/sandbox/...)."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema

MAX_PATIENTS = 1_000_000


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    version = ma.fields.String(required=True, metadata={"example": "0.1.0"})
    seed = ma.fields.Integer(required=True, metadata={"example": 42})
    patients = ma.fields.Integer(required=True, metadata={"example": 200})
    tenants = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["default"]})


class ResetRequestSchema(RequestSchema):
    seed = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=2**63 - 1),
                             metadata={"example": 42})
    patients = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=MAX_PATIENTS),
                                 metadata={"example": 200})


class ResetResponseSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "reset"})
    tenant = ma.fields.String(required=True, metadata={"example": "default"})
    seed = ma.fields.Integer(required=True)
    patients = ma.fields.Integer(required=True)
    duration_ms = ma.fields.Float(required=True)
