"""Schemas of the consent endpoints and the consent-revoke sandbox control."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma

from ..domain.consent import CONSENT_TYPES, DEFAULT_TYPE, STATUSES
from .common import AliasFieldsSchema, RequestSchema


class ConsentSchema(AliasFieldsSchema):
    health_id = ma.fields.String(required=True, metadata={"example": "OPC-2024-XK7T9"})
    consent_status = ma.fields.String(required=True, metadata={"enum": list(STATUSES), "example": "granted"})
    consent_type = ma.fields.String(allow_none=True, metadata={"enum": list(CONSENT_TYPES), "example": DEFAULT_TYPE})
    granted_at = ma.fields.String(allow_none=True, metadata={"format": "date-time", "example": "2026-11-21T09:14:00Z"})
    expires_at = ma.fields.String(allow_none=True, metadata={"format": "date-time", "example": "2026-12-31T23:59:59Z"})


class ConsentGrantRequestSchema(RequestSchema):
    consent_type = ma.fields.String(
        load_default=DEFAULT_TYPE, validate=ma.validate.OneOf(list(CONSENT_TYPES)),
        metadata={"description": "full_record (default), diagnostics_only (diagnoses, prescriptions, vitals), "
                                 "lab_results_only, emergency_access (everything).", "example": DEFAULT_TYPE})
    expires_at = ma.fields.AwareDateTime(
        allow_none=True, load_default=None, default_timezone=UTC,
        metadata={"description": "ISO-8601; must be in the future on the sandbox clock. Absent: no expiry.",
                  "example": "2026-12-31T23:59:59Z"})


class ConsentRevokeRequestSchema(RequestSchema):
    client_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "Revoke only this client's consent; absent: every active consent of the patient.",
                  "example": "demo_dev_sandbox"})


class RevokedConsentSchema(ConsentSchema):
    client_id = ma.fields.String(required=True, metadata={"example": "demo_dev_sandbox"})
    revoked_at = ma.fields.String(required=True, metadata={"format": "date-time"})


class ConsentRevokeResponseSchema(ma.Schema):
    health_id = ma.fields.String(required=True, metadata={"example": "OPC-2024-XK7T9"})
    revoked = ma.fields.List(ma.fields.Nested(RevokedConsentSchema), required=True,
                             metadata={"description": "The consents this call revoked (empty if none was active)."})
