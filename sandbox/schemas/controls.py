"""Schemas of the sandbox controls (/sandbox/...)."""

from __future__ import annotations

import marshmallow as ma

from ..domain.clients import KNOWN_SCOPES
from ..domain.clock import parse_iso
from .common import RequestSchema

MAX_PATIENTS = 1_000_000


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    version = ma.fields.String(required=True, metadata={"example": "0.1.0"})
    seed = ma.fields.Integer(required=True, metadata={"example": 42})
    patients = ma.fields.Integer(required=True, metadata={"example": 200})
    tenants = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["default"]})
    worker = ma.fields.Integer(required=True, allow_none=True, metadata={
        "example": None, "description": "Index of the cluster worker that answered; null outside a cluster."})


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


# -- snapshots -------------------------------------------------------------------------------------
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
NAME_RULE = "Use 1-64 letters, digits, '-' or '_'."


class SnapshotRequestSchema(RequestSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Regexp(NAME_PATTERN, error=NAME_RULE),
                            metadata={"example": "before-consent"})


class SnapshotSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"example": "before-consent"})
    created_at = ma.fields.String(required=True, metadata={"description": "On the tenant's sandbox clock.",
                                                           "example": "2026-11-21T09:14:00Z"})
    seed = ma.fields.Integer(required=True, metadata={"example": 42})
    patients = ma.fields.Integer(required=True, metadata={"example": 200})


class SavedSnapshotSchema(SnapshotSchema):
    replaced = ma.fields.Boolean(required=True, metadata={"description": "An older snapshot of this name was replaced."})


class RestoredSnapshotSchema(SnapshotSchema):
    status = ma.fields.String(required=True, metadata={"example": "restored"})
    tenant = ma.fields.String(required=True, metadata={"example": "default"})


class SnapshotListSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(SnapshotSchema), required=True)


# -- request journal -------------------------------------------------------------------------------
class JournalQuerySchema(RequestSchema):
    method = ma.fields.String(validate=ma.validate.Length(min=1, max=16), metadata={"example": "POST"})
    path = ma.fields.String(validate=ma.validate.Length(min=1, max=2048),
                            metadata={"description": "Path prefix.", "example": "/api/v1/connect/patients"})
    status = ma.fields.Integer(validate=ma.validate.Range(min=100, max=599), metadata={"example": 409})
    client_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128), metadata={"example": "demo_dev_sandbox"})
    limit = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100_000), metadata={"example": 50})
    request_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128),
                                  metadata={"description": "The request's X-Request-Id.", "example": "req_000042"})


class JournalEntrySchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "req_000042"})
    at = ma.fields.String(required=True, metadata={"description": "On the tenant's sandbox clock."})
    method = ma.fields.String(required=True, metadata={"example": "POST"})
    path = ma.fields.String(required=True, metadata={"example": "/api/v1/connect/patients/resolve"})
    query = ma.fields.String(required=True, metadata={"example": ""})
    status = ma.fields.Integer(required=True, metadata={"example": 200})
    client_id = ma.fields.String(allow_none=True, metadata={"description": "From the verified bearer token, if any."})
    request_id = ma.fields.String(allow_none=True, metadata={
        "description": "The response's X-Request-Id: the client's own when it sent one, else the same as id.",
        "example": "req_000042"})
    duration_ms = ma.fields.Float(required=True, metadata={"example": 1.7})
    request_body = ma.fields.String(allow_none=True, metadata={"description": "Truncated to 2 KB; secrets redacted."})
    response_body = ma.fields.String(allow_none=True, metadata={"description": "Truncated to 2 KB; secrets redacted."})
    fault = ma.fields.Dict(metadata={"description": "Only on a request that met an armed fault: fault_id, kind."})


class JournalSchema(ma.Schema):
    size = ma.fields.Integer(required=True, metadata={"description": "The ring buffer's capacity.", "example": 1000})
    count = ma.fields.Integer(required=True, metadata={"description": "Entries returned."})
    data = ma.fields.List(ma.fields.Nested(JournalEntrySchema), required=True)


# -- clock -----------------------------------------------------------------------------------------
HUNDRED_YEARS = 100 * 366 * 86_400


class ClockRequestSchema(RequestSchema):
    advance_seconds = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=-HUNDRED_YEARS, max=HUNDRED_YEARS),
                                      metadata={"description": "Move the clock by this many seconds (negative: back).",
                                                "example": 3600})
    now = ma.fields.String(validate=ma.validate.Length(min=1, max=64),
                           metadata={"description": "ISO-8601 instant (naive = UTC).", "example": "2027-01-01T00:00:00Z"})
    frozen = ma.fields.Boolean(metadata={"description": "Stop (true) or restart (false) the clock; absent keeps its mode."})

    @ma.pre_load
    def _json_boolean(self, data, **_kwargs):
        """JSON true or false only, as the document says (marshmallow would also read 0, 1, "yes"...)."""
        if isinstance(data, dict) and "frozen" in data and not isinstance(data["frozen"], bool):
            raise ma.ValidationError("Must be true or false.", "frozen")
        return data

    @ma.validates_schema
    def _exactly_one(self, data, **_kwargs):
        if ("advance_seconds" in data) == ("now" in data):
            raise ma.ValidationError("Send exactly one of advance_seconds and now.", "_schema")

    @ma.post_load
    def _parse_now(self, data, **_kwargs):
        if "now" in data:
            data["instant"] = _instant(data["now"])
        return data


def _instant(raw: str):
    try:
        instant = parse_iso(raw)
    except ValueError:
        raise ma.ValidationError("Not an ISO-8601 date-time.", "now") from None
    if not 1971 <= instant.year <= 9998:
        raise ma.ValidationError("Choose a year between 1971 and 9998.", "now")
    return instant


class ClockSchema(ma.Schema):
    now = ma.fields.String(required=True, metadata={"example": "2026-11-21T10:14:00Z"})
    frozen = ma.fields.Boolean(required=True, metadata={"example": False})
    offset_seconds = ma.fields.Float(required=True, metadata={"description": "Sandbox time minus real time.",
                                                              "example": 3600.0})


# -- clients ---------------------------------------------------------------------------------------
class ClientRequestSchema(RequestSchema):
    client_id = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9_.-]{3,128}$",
                                                             error="Use 3-128 letters, digits, '.', '-' or '_'."),
                                 metadata={"description": "Generated when absent.", "example": "ci_no_scopes"})
    client_secret = ma.fields.String(validate=ma.validate.Length(min=8, max=256),
                                     metadata={"description": "Generated when absent.", "example": "ci_secret_2026"})
    scopes = ma.fields.List(ma.fields.String(metadata={"enum": list(KNOWN_SCOPES)}), required=True,
                            metadata={"example": ["pharmacy:stock:read"]})
    facility_id = ma.fields.String(validate=ma.validate.Length(min=1, max=64),
                                   metadata={"description": "Default: the demo client's facility (Demo Central Hospital).",
                                             "example": "00000000-0000-0000-0000-100000000002"})
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200), metadata={"example": "CI scope tests"})

    @ma.validates("scopes")
    def _known_scopes(self, scopes, **_kwargs):
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            raise ma.ValidationError(f"Unknown scopes {unknown}; choose from {list(KNOWN_SCOPES)}.")


class ClientSchema(ma.Schema):
    client_id = ma.fields.String(required=True, metadata={"example": "ci_no_scopes"})
    name = ma.fields.String(required=True)
    facility_id = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    source = ma.fields.String(required=True, metadata={"description": "fixture | sandbox", "example": "sandbox"})
    created_at = ma.fields.String(allow_none=True)


class CreatedClientSchema(ClientSchema):
    client_secret = ma.fields.String(required=True, metadata={"description": "Shown only in this response."})


class ClientListSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(ClientSchema), required=True)
