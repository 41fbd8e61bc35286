"""Schemas of the webhook inbox controls (/sandbox/inbox)."""

from __future__ import annotations

import marshmallow as ma

EXAMPLE_ID = "ibx_0c5b4f5d2d5e4f3a9b8c7d6e5f4a3b2c"


class InboxSchema(ma.Schema):
    inbox_id = ma.fields.String(required=True, metadata={"example": EXAMPLE_ID})
    url = ma.fields.String(required=True, metadata={
        "description": "Subscribe this URL: deliveries to it are stored here, in process (no network hop).",
        "example": f"http://127.0.0.1:8080/sandbox/inbox/{EXAMPLE_ID}"})


class InboxEntrySchema(ma.Schema):
    received_at = ma.fields.String(required=True, metadata={"description": "On the tenant's sandbox clock."})
    delivery_id = ma.fields.String(allow_none=True)
    subscription_id = ma.fields.String(allow_none=True)
    headers = ma.fields.Dict(required=True, metadata={"example": {"X-OpesCare-Signature": "t=1764500000,v1=5d41..."}})
    body = ma.fields.Raw(required=True, metadata={"description": "The event envelope as delivered."})
    signature_valid = ma.fields.Boolean(required=True, metadata={
        "description": "The signature matches the subscription's secret (either one during a rotation) "
                       "and its `t` is within 300 s."})


class InboxContentSchema(InboxSchema):
    created_at = ma.fields.String(required=True)
    entries = ma.fields.List(ma.fields.Nested(InboxEntrySchema), required=True,
                             metadata={"description": "Newest first; the newest 50 are kept."})
