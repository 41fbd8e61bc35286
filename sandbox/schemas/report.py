"""The integration report (GET /sandbox/report): checks of a client's behaviour, each with its evidence."""

from __future__ import annotations

import marshmallow as ma

from ..runtime.grading import CHECKS
from .common import RequestSchema

CHECK_IDS = [check.__name__ for check in CHECKS]


class ReportQuerySchema(RequestSchema):
    client_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128),
                                 metadata={"description": "Default: the client with the most requests (ties: by name).",
                                           "example": "demo_dev_sandbox"})


class WindowSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", attribute="from", allow_none=True, metadata={"example": "2026-11-30T10:00:00Z"})
    to = ma.fields.String(allow_none=True, metadata={"example": "2026-11-30T10:05:00Z"})


class CheckSchema(ma.Schema):
    id = ma.fields.String(required=True, validate=ma.validate.OneOf(CHECK_IDS), metadata={"example": "retry_after"})
    title = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["pass", "fail", "not_exercised"]))
    why = ma.fields.String(required=True)
    evidence = ma.fields.List(ma.fields.String(), required=True,
                              metadata={"description": "Request journal ids (req_…) or delivery ids (dlv_…)."})


class SummarySchema(ma.Schema):
    pass_ = ma.fields.Integer(data_key="pass", attribute="pass", required=True)
    fail = ma.fields.Integer(required=True)
    not_exercised = ma.fields.Integer(required=True)


class ReportSchema(ma.Schema):
    client_id = ma.fields.String(allow_none=True, required=True)
    window = ma.fields.Nested(WindowSchema, required=True)
    checks = ma.fields.List(ma.fields.Nested(CheckSchema), required=True)
    summary = ma.fields.Nested(SummarySchema, required=True)


class CertificationRequestSchema(RequestSchema):
    client_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128),
                                 metadata={"description": "Default: the client with the most requests.",
                                           "example": "demo_dev_sandbox"})


class ProbedSchema(ma.Schema):
    subscription_id = ma.fields.String(required=True)
    event_id = ma.fields.String(required=True)
    delivery_ids = ma.fields.List(ma.fields.String(), required=True,
                                  metadata={"description": "The real delivery and its two probes."})


class CertificationSchema(ma.Schema):
    client_id = ma.fields.String(required=True, metadata={"example": "demo_dev_sandbox"})
    faults = ma.fields.List(ma.fields.Dict(), required=True,
                            metadata={"description": "The armed faults (as GET /sandbox/faults lists them)."})
    expired_token = ma.fields.String(allow_none=True, required=True,
                                     metadata={"description": "The jti of the client's token now marked expired."})
    probes = ma.fields.List(ma.fields.Nested(ProbedSchema), required=True)
