"""Schemas of the armed-faults control (/sandbox/faults)."""

from __future__ import annotations

import marshmallow as ma

from ..errors import SPECIFIC_ERRORS
from .common import RequestSchema

METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_DELAY_MS = 10_000  # as `Prefer: delay=`'s default cap: a fault slows a client down, it never hangs a worker
MAX_TIMES = 1000


class FaultRequestSchema(RequestSchema):
    method = ma.fields.String(load_default="*", validate=ma.validate.OneOf(METHODS),
                              metadata={"description": "HTTP method, or `*` for any.", "example": "POST"})
    path = ma.fields.String(required=True, validate=[ma.validate.Length(min=2, max=512),
                                                     ma.validate.Regexp(r"^/api/v1/(connect|patient)/")],
                            metadata={"description": "A Connect or OpenEyes path; `*` stands for one path segment.",
                                      "example": "/api/v1/connect/patients/resolve"})
    client_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128), allow_none=True,
                                 metadata={"description": "Only this client's requests (absent: any client's).",
                                           "example": "demo_dev_sandbox"})
    times = ma.fields.Integer(strict=True, load_default=1, validate=ma.validate.Range(min=1, max=MAX_TIMES),
                              metadata={"description": "How many matching requests meet the fault.", "example": 2})
    status = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=400, max=599),
                               metadata={"description": "Answer the documented error for this status.", "example": 503})
    error = ma.fields.String(validate=ma.validate.OneOf(sorted(SPECIFIC_ERRORS)),
                             metadata={"description": "With `status`: this documented error of that status instead "
                                                      "of the status's usual one.", "example": "consent_required"})
    delay_ms = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=MAX_DELAY_MS),
                                 metadata={"description": "Wait this long, then answer normally.", "example": 1500})
    drop = ma.fields.Boolean(validate=ma.validate.Equal(True),
                             metadata={"description": "Close the connection without an answer.", "example": True})

    @ma.validates_schema
    def _exactly_one_kind(self, data, **_kwargs):
        if sum(name in data for name in ("status", "delay_ms", "drop")) != 1:
            raise ma.ValidationError("Send exactly one of status, delay_ms and drop.", "_schema")
        if "error" in data and SPECIFIC_ERRORS[data["error"]].status != data.get("status"):
            raise ma.ValidationError(f"{data['error']} is a {SPECIFIC_ERRORS[data['error']].status} error.", "error")


class FiredSchema(ma.Schema):
    at = ma.fields.String(required=True, metadata={"description": "On the tenant's sandbox clock."})
    method = ma.fields.String(required=True)
    path = ma.fields.String(required=True)
    client_id = ma.fields.String(allow_none=True)


class FaultSchema(ma.Schema):
    fault_id = ma.fields.String(required=True, metadata={"example": "flt_000001"})
    method = ma.fields.String(required=True, metadata={"example": "POST"})
    path = ma.fields.String(required=True, metadata={"example": "/api/v1/connect/patients/resolve"})
    client_id = ma.fields.String(allow_none=True)
    times = ma.fields.Integer(required=True, metadata={"example": 2})
    remaining = ma.fields.Integer(required=True, metadata={"description": "Matching requests still to meet it."})
    kind = ma.fields.String(required=True, metadata={"example": "status"})
    status = ma.fields.Integer(allow_none=True, metadata={"example": 503})
    error = ma.fields.String(allow_none=True, metadata={"example": None})
    delay_ms = ma.fields.Integer(allow_none=True)
    drop = ma.fields.Boolean(required=True)
    armed_at = ma.fields.String(allow_none=True, metadata={"description": "On the tenant's sandbox clock."})
    fired = ma.fields.List(ma.fields.Nested(FiredSchema), required=True,
                           metadata={"description": "The requests that met it (the first 100)."})


class FaultListSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(FaultSchema), required=True)


# -- signing-secret rotation (/sandbox/webhooks/subscriptions/{id}/rotate-secret) ---------------------------
class RotateSecretRequestSchema(RequestSchema):
    grace_seconds = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=30 * 86_400), metadata={
        "description": "How long (sandbox clock) the old secret keeps signing too; default the server's setting "
                       "(24 h).", "example": 86400})


class RotateSecretSchema(ma.Schema):
    subscription_id = ma.fields.String(required=True, metadata={"example": "sub_b8311b9cc4471bdd3b26a176"})
    webhook_secret = ma.fields.String(required=True, metadata={"description": "The new secret (only in this answer)."})
    rotated_at = ma.fields.String(required=True, metadata={"description": "On the tenant's sandbox clock."})
    previous_secret_expires_at = ma.fields.String(required=True, metadata={
        "description": "Until then every delivery carries both v1= signatures, new first."})


# -- adversarial deliveries (/sandbox/webhooks/subscriptions/{id}/chaos) ------------------------------------
DAY = 86_400


class ChaosSchema(RequestSchema):
    duplicate = ma.fields.Boolean(load_default=False, metadata={"description": "Send every delivery twice (same event id)."})
    reorder_window_seconds = ma.fields.Integer(strict=True, load_default=0, validate=ma.validate.Range(min=0, max=DAY),
                                               metadata={"description": "Hold deliveries this long, then send them "
                                                                        "newest first.", "example": 60})
    delay_seconds = ma.fields.Integer(strict=True, load_default=0, validate=ma.validate.Range(min=0, max=DAY),
                                      metadata={"description": "Delay every first attempt (sandbox clock).", "example": 0})
    bad_signature_every = ma.fields.Integer(strict=True, load_default=0, validate=ma.validate.Range(min=0, max=1000),
                                            metadata={"description": "Every Nth delivery, a wrongly signed probe too.",
                                                      "example": 3})
    stale_timestamp_every = ma.fields.Integer(strict=True, load_default=0, validate=ma.validate.Range(min=0, max=1000),
                                              metadata={"description": "Every Nth delivery, a probe with a t older "
                                                                       "than 300 s too.", "example": 5})


class ChaosResponseSchema(ChaosSchema):
    subscription_id = ma.fields.String(required=True, metadata={"example": "sub_b8311b9cc4471bdd3b26a176"})
