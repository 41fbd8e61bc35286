"""Schemas of the webhook endpoints (#10-12, #14) and of the webhook sandbox controls."""

from __future__ import annotations

import marshmallow as ma

from ..domain.clinical import LAB_TESTS
from ..domain.consent import CONSENT_TYPES
from ..domain.deliveries import STATUSES
from ..domain.event_catalogue import EVENT_TYPES, SUBSCRIBABLE
from .common import RequestSchema
from .patients import NOT_BLANK, IsoDate, not_blank

# The playground's field names -> the docs' names (both are accepted).
ALIASES = {"endpoint_url": "callback_url", "events": "subscribed_events"}
EXAMPLE_URL = "http://127.0.0.1:9000/webhooks/opescare"
# What marshmallow's URL check accepts, written for OpenAPI clients (host labels, optional port and path).
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
URL_PATTERN = rf"^https?://{_LABEL}(\.{_LABEL})*(:[1-9][0-9]{{0,3}})?(/[A-Za-z0-9._~/-]*)?$"


class SubscriptionRequestSchema(RequestSchema):
    callback_url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                                 validate=ma.validate.Length(max=2048),
                                 metadata={"description": "http(s) URL; `endpoint_url` is accepted too.",
                                           "example": EXAMPLE_URL, "format": "uri", "pattern": URL_PATTERN})
    subscribed_events = ma.fields.List(
        ma.fields.String(metadata={"enum": list(SUBSCRIBABLE)}), required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "Event types (the catalogue, the sandbox's own, or an older alias); `events` is "
                                 "accepted too. Unknown types: 422.", "example": ["patient.created"]})
    description = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500),
                                   metadata={"example": "HIS integration"})
    secret = ma.fields.String(
        validate=[ma.validate.Length(min=16, max=256), ma.validate.Regexp(r"^[\x21-\x7e]+$",
                                                                          error="Printable ASCII, no spaces.")],
        metadata={"description": "Optional: your own signing secret (16-256 printable ASCII characters). "
                                 "Absent: the sandbox issues a `whsec_` secret."})

    @ma.pre_load
    def accept_playground_names(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for alias, name in ALIASES.items():
            if alias in data:
                if name in data and data[name] != data[alias]:
                    raise ma.ValidationError(f"Give {name} or {alias}, not two different values.", alias)
                data.setdefault(name, data.pop(alias))
        return data


class SubscriptionSchema(ma.Schema):
    subscription_id = ma.fields.String(required=True, metadata={"example": "sub_3f9c2a7d41e0b6c85a1d9e47"})
    status = ma.fields.String(required=True, metadata={"example": "active"})
    callback_url = ma.fields.String(required=True, metadata={"example": EXAMPLE_URL})
    subscribed_events = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["patient.created"]})
    description = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(required=True, metadata={"example": "2026-11-21T09:14:00Z"})


class CreatedSubscriptionSchema(SubscriptionSchema):
    webhook_secret = ma.fields.String(required=True, metadata={"description": "Shown only in this response.",
                                                               "example": "whsec_0123456789abcdef0123456789abcdef"})


class SubscriptionListSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(SubscriptionSchema), required=True)


class ReplaySchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "replayed"})
    event_id = ma.fields.String(required=True, metadata={"example": "evt_5b2e0c9a7f13d48e6a01b2c3"})
    type = ma.fields.String(required=True, metadata={"example": "patient.created"})
    replayed_at = ma.fields.String(required=True, metadata={"example": "2026-11-21T09:14:00Z"})
    deliveries = ma.fields.Integer(required=True, metadata={"description": "Deliveries queued (one per matching "
                                                                           "subscription of yours)."})


# -- sandbox controls ----------------------------------------------------------------------------
class EventSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "evt_5b2e0c9a7f13d48e6a01b2c3"})
    type = ma.fields.String(required=True, metadata={"example": "patient.created"})
    version = ma.fields.String(required=True, metadata={"example": "1.0"})
    created_at = ma.fields.String(required=True)
    data = ma.fields.Dict(required=True)
    meta = ma.fields.Dict(required=True)


_PICK_ID = ma.validate.Length(min=1, max=64)


class PicksSchema(RequestSchema):
    """Which records a world control or the trigger acts on; every field optional (absent: a documented default)."""

    health_id = ma.fields.String(validate=_PICK_ID, metadata={"example": "CM-HID-7KQ9-MP42-X8D1",
                                                              "description": "Default CM-HID-7KQ9-MP42-X8D1."})
    client_id = ma.fields.String(validate=_PICK_ID, metadata={"description": "Default demo_dev_sandbox."})
    facility_id = ma.fields.String(validate=_PICK_ID, metadata={"description": "Default the client's facility."})
    first_name = ma.fields.String(validate=[_PICK_ID, not_blank], metadata={"pattern": NOT_BLANK})
    last_name = ma.fields.String(validate=[_PICK_ID, not_blank], metadata={"pattern": NOT_BLANK})
    date_of_birth = IsoDate(metadata={"format": "date", "pattern": r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}$"})
    phone_number = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    consent_type = ma.fields.String(validate=ma.validate.OneOf(list(CONSENT_TYPES)))
    encounter_type = ma.fields.String(validate=_PICK_ID)
    loinc_code = ma.fields.String(validate=ma.validate.OneOf(sorted(LAB_TESTS)), metadata={"example": "718-7"})
    result_value = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=-1e9, max=1e9))
    document_type = ma.fields.String(validate=_PICK_ID, metadata={"example": "medical_certificate"})
    reason = ma.fields.String(validate=_PICK_ID)
    amount = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=10**9))
    method = ma.fields.String(validate=ma.validate.OneOf(["cash", "mtn_momo", "orange_money", "card", "insurance"]))
    error_code = ma.fields.String(validate=_PICK_ID)
    item_id = ma.fields.String(validate=_PICK_ID)
    encounter_id = ma.fields.String(validate=_PICK_ID)
    lab_order_id = ma.fields.String(validate=_PICK_ID)
    lab_result_id = ma.fields.String(validate=_PICK_ID)
    prescription_id = ma.fields.String(validate=_PICK_ID)
    appointment_id = ma.fields.String(validate=_PICK_ID)
    document_id = ma.fields.String(validate=_PICK_ID)


class TriggerRequestSchema(RequestSchema):
    type = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                            metadata={"enum": list(SUBSCRIBABLE), "example": "lab_result.released",
                                      "description": "Any subscribable type (an older name fires what it stands "
                                                     "for); unknown: 422."})
    data = ma.fields.Nested(PicksSchema, load_default=dict, metadata={
        "description": "Only which records are involved; the payload is always built from the world.",
        "example": {"health_id": "CM-HID-7KQ9-MP42-X8D1"}})
    facility_id = ma.fields.String(load_default=None, allow_none=True, validate=_PICK_ID,
                                   metadata={"description": "Same as data.facility_id."})


class AttemptSchema(ma.Schema):
    attempt = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    status_code = ma.fields.Integer(allow_none=True)
    latency_ms = ma.fields.Float(required=True)
    error = ma.fields.String(allow_none=True)
    signature = ma.fields.String(required=True, metadata={"description": "The X-OpesCare-Signature header sent."})
    response_body = ma.fields.String(allow_none=True, metadata={"description": "First 500 characters of the answer."})
    attempted_at = ma.fields.String(required=True, metadata={"description": "Sandbox clock."})
    next_retry_at = ma.fields.String(allow_none=True, metadata={"description": "Sandbox clock; null when settled."})


class DeliverySchema(ma.Schema):
    delivery_id = ma.fields.String(required=True)
    subscription_id = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    replay = ma.fields.Boolean(required=True)
    attempt_count = ma.fields.Integer(required=True)
    created_at = ma.fields.String(required=True)
    next_retry_at = ma.fields.String(allow_none=True)
    attempts = ma.fields.List(ma.fields.Nested(AttemptSchema), required=True)
    # Only on deliveries bent by a subscription's chaos setting (domain/chaos.py):
    probe = ma.fields.Dict(metadata={"description": "A signature probe: kind (bad_signature, stale_timestamp), "
                                                    "expected (4xx: what a correct receiver answers), receiver_refused."})
    duplicate_of = ma.fields.String(metadata={"description": "A duplicate: the delivery it repeats (same event id)."})
    held_until = ma.fields.String(metadata={"description": "Held by a reorder window until then (sandbox clock)."})


class EventDeliveriesSchema(EventSchema):
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema), required=True)


class DeliveriesQuerySchema(RequestSchema):
    event_id = ma.fields.String(validate=ma.validate.Length(max=64))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    type = ma.fields.String(validate=ma.validate.OneOf(EVENT_TYPES))
    request_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128),
                                  metadata={"description": "Only events caused by the request with this X-Request-Id."})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class DeliveriesReportSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(EventDeliveriesSchema), required=True)


class RetryResultSchema(ma.Schema):
    delivery_id = ma.fields.String(required=True)
    event_id = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    attempt = ma.fields.Integer(required=True)
    status_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"description": "The delivery's status after the attempt."})


class RetryPendingSchema(ma.Schema):
    attempted = ma.fields.List(ma.fields.Nested(RetryResultSchema), required=True)
    awaited = ma.fields.Integer(required=True, metadata={"description": "Attempts already under way that this "
                                                                        "call waited for."})
    pending = ma.fields.Integer(required=True, metadata={"description": "Deliveries still pending (not yet due)."})
