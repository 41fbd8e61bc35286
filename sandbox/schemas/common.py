"""Schemas shared by every resource: the error envelope and the base request schema."""

from __future__ import annotations

import marshmallow as ma


class RequestSchema(ma.Schema):
    """Base of every request body/query schema. Unknown fields are ignored, as a tolerant production API does."""

    class Meta:
        unknown = ma.EXCLUDE


class ErrorSchema(ma.Schema):
    """The one error envelope of every endpoint (extra fields may follow)."""

    class Meta:
        unknown = ma.INCLUDE

    error = ma.fields.String(required=True, metadata={"example": "consent_required"})
    error_code = ma.fields.String(required=True, metadata={"example": "CONSENT_REQUIRED"})
    message = ma.fields.String(required=True, metadata={"example": "The patient has not granted consent to this client."})
    status = ma.fields.Integer(required=True, metadata={"example": 403})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field-level messages (validation errors only)."},
    )
