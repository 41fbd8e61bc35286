"""Schemas of the audit trail control (GET /sandbox/audit)."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema


class AuditQuerySchema(RequestSchema):
    action = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"example": "patient.resolve"})
    health_id = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"example": "CM-HID-7KQ9-MP42-X8D1"})
    client_id = ma.fields.String(validate=ma.validate.Length(max=128), metadata={"example": "demo_dev_sandbox"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class AuditEntrySchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "aud_000001"})
    at = ma.fields.String(required=True, metadata={"example": "2026-11-21T09:14:00Z"})
    action = ma.fields.String(required=True, metadata={"example": "patient.resolve"})
    client_id = ma.fields.String(allow_none=True, metadata={"example": "demo_dev_sandbox"})
    health_id = ma.fields.String(allow_none=True)
    purpose = ma.fields.String(allow_none=True, metadata={"example": "his_registration"})
    external_reference = ma.fields.String(allow_none=True, metadata={"example": "HIS-PAT-00341"})
    outcome = ma.fields.String(required=True, metadata={"example": "created"})
    details = ma.fields.Dict(metadata={"description": "Outcome details, e.g. http_status, candidates"})
    request_id = ma.fields.String(allow_none=True, metadata={"description": "X-Request-Id of the request that caused it."})


class AuditListSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(AuditEntrySchema), required=True)
