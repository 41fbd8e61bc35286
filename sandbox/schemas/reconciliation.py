"""Schemas of the payment reconciliation: the date query and the day's document."""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

import marshmallow as ma

from .common import RequestSchema

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
METHODS = ("cash", "mtn_momo", "orange_money", "card", "insurance")
STATUSES = ("balanced", "discrepancy")


class StrictDate(ma.fields.Field):
    """A calendar date written exactly YYYY-MM-DD (no `2026-1-5`, no week dates, no impossible days)."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Use a real calendar date written YYYY-MM-DD, e.g. 2026-03-15."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not DATE_PATTERN.match(value):
            raise self.make_error("invalid")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None


class ReconciliationQuerySchema(RequestSchema):
    date = StrictDate(metadata={"description": "YYYY-MM-DD; default today on the sandbox clock.",
                                "type": "string", "format": "date", "example": "2026-03-15"})


class PaymentSchema(ma.Schema):
    payment_reference = ma.fields.String(required=True, metadata={"example": "PAY-20260315-0001-1001"})
    method = ma.fields.String(required=True, metadata={"enum": list(METHODS)})
    amount = ma.fields.Integer(required=True, metadata={"description": "Whole XAF.", "example": 5000})
    currency = ma.fields.String(required=True, metadata={"example": "XAF"})
    status = ma.fields.String(required=True, metadata={"enum": ["confirmed", "pending", "failed"]})
    payer_phone = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Mobile money payer (+2376...); null for other methods.", "example": "+237671234567"})
    confirmed_at = ma.fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class ReconciliationRecordSchema(ma.Schema):
    reconciliation_id = ma.fields.String(required=True, metadata={"example": "RCN-20260315-0001-01"})
    cashier_session_id = ma.fields.String(required=True, metadata={"example": "CSH-20260315-0001-01"})
    expected_cash = ma.fields.Integer(required=True)
    actual_cash = ma.fields.Integer(required=True)
    expected_digital = ma.fields.Integer(required=True)
    actual_digital = ma.fields.Integer(required=True)
    variance = ma.fields.Integer(required=True, metadata={"description": "actual − expected; negative = short."})
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    notes = ma.fields.String(required=True, allow_none=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema), required=True)


class ReconciliationSummarySchema(ma.Schema):
    expected_total = ma.fields.Integer(required=True)
    actual_total = ma.fields.Integer(required=True)
    variance = ma.fields.Integer(required=True, metadata={"description": "actual_total − expected_total."})
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})


class ReconciliationSchema(ma.Schema):
    date = ma.fields.String(required=True, metadata={"format": "date", "example": "2026-03-15"})
    facility_id = ma.fields.String(required=True, metadata={"example": "00000000-0000-0000-0000-100000000001"})
    currency = ma.fields.String(required=True, metadata={"example": "XAF"})
    summary = ma.fields.Nested(ReconciliationSummarySchema, required=True)
    records = ma.fields.List(ma.fields.Nested(ReconciliationRecordSchema), required=True)
