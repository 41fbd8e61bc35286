"""Schemas of the patient endpoints: resolve, verify and search."""

from __future__ import annotations

import re
from datetime import date

import marshmallow as ma

from .common import AliasFieldsSchema, RequestSchema

SEXES = ("male", "female", "other")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_BIRTH = date(1900, 1, 1)


NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"  # not_blank (and no NUL), as an OpenAPI pattern


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


class IsoDate(ma.fields.String):
    """A real calendar date written exactly `YYYY-MM-DD`, kept as that string (it is compared as written)."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            parsed = date.fromisoformat(raw) if ISO_DATE.match(raw) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise ma.ValidationError("Not a valid date: use an existing date written YYYY-MM-DD.")
        if parsed < EARLIEST_BIRTH:
            raise ma.ValidationError("Must be 1900-01-01 or later.")
        return raw


def _name(example: str) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(max=100), not_blank],
                            metadata={"example": example, "pattern": NOT_BLANK})


class ResolveRequestSchema(RequestSchema):
    health_id = ma.fields.String(validate=[ma.validate.Length(max=64), not_blank],
                                 metadata={"description": "Known Health ID (either/or)", "example": "CM-HID-7KQ9-MP42-X8D1",
                                           "pattern": NOT_BLANK})
    first_name = _name("Marie")
    last_name = _name("Fouda")
    date_of_birth = IsoDate(metadata={"description": "YYYY-MM-DD, from 1900-01-01, not in the future",
                                      "example": "1990-07-22", "format": "date", "pattern": r"^(19|20)[0-9]{2}-"})
    country_code = ma.fields.String(load_default="CM", validate=ma.validate.Regexp(
        r"^[A-Za-z]{2}$", error="Use a 2-letter ISO country code."), metadata={"example": "CM"})
    sex = ma.fields.String(validate=ma.validate.OneOf(SEXES), metadata={"example": "female"})
    phone_number = ma.fields.String(validate=ma.validate.Regexp(
        r"^\+?[0-9][0-9 ()-]{3,30}$", error="Not a valid phone number."), metadata={"example": "+237677123456"})
    purpose = ma.fields.String(validate=ma.validate.Length(max=100), metadata={"example": "his_registration"})
    external_reference = ma.fields.String(validate=ma.validate.Length(max=128), metadata={"example": "HIS-PAT-00341"})

    @ma.post_load
    def upper_country(self, data, **kwargs):
        data["country_code"] = data["country_code"].upper()
        return data


class PatientSummarySchema(ma.Schema):
    display_name = ma.fields.String(required=True, metadata={"example": "Marie F."})
    sex = ma.fields.String(allow_none=True, metadata={"example": "female"})
    year_of_birth = ma.fields.Integer(required=True, metadata={"example": 1990})
    country_code = ma.fields.String(required=True, metadata={"example": "CM"})
    verification_status = ma.fields.String(required=True, metadata={"example": "unverified"})
    identity_status = ma.fields.String(required=True, metadata={"example": "provisional"})


class ResolveResponseSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "created"})
    health_id = ma.fields.String(required=True, metadata={"example": "CM-HID-DTLM-H42E-WFYC"})
    patient = ma.fields.Nested(PatientSummarySchema, required=True)
    next_action = ma.fields.String(required=True, metadata={"example": "push_records"})
    message = ma.fields.String(metadata={"description": "Only when the patient was created."})


class ResolveNotFoundSchema(ma.Schema):
    """The 404 of resolve: the error envelope, but `status` is the seed's string `not_found`."""

    class Meta:
        unknown = ma.INCLUDE

    error = ma.fields.String(required=True, metadata={"example": "patient_not_found"})
    error_code = ma.fields.String(required=True, metadata={"example": "PATIENT_NOT_FOUND"})
    message = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"example": "not_found"})
    health_id = ma.fields.String(required=True, metadata={"example": "CM-HID-7KQ9-MP42-WZFB"})


class VerifyResponseSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "valid"})
    health_id = ma.fields.String(required=True, metadata={"example": "CM-HID-7KQ9-MP42-X8D1",
                                                          "description": "The canonical ID (a merged ID's survivor)."})
    resolved_via_alias = ma.fields.Boolean(required=True, metadata={
        "description": "True when the ID asked for was merged into (or retired for) `health_id`.", "example": False})
    queried_health_id = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The ID asked for, when resolved via an alias; else null.", "example": None})
    patient = ma.fields.Nested(PatientSummarySchema, required=True)


class SearchQuerySchema(RequestSchema):
    health_id = ma.fields.String(required=True, validate=[ma.validate.Length(max=64), not_blank],
                                 metadata={"example": "OPC-2024-XK7T9", "pattern": NOT_BLANK})


class PatientProfileSchema(AliasFieldsSchema):
    health_id = ma.fields.String(required=True, metadata={"example": "OPC-2024-XK7T9"})
    name = ma.fields.String(required=True, metadata={"example": "Jean Dupont"})
    first_name = ma.fields.String(required=True, metadata={"example": "Jean"})
    last_name = ma.fields.String(required=True, metadata={"example": "Dupont"})
    date_of_birth = ma.fields.String(required=True, metadata={"example": "1990-05-15"})
    sex = ma.fields.String(allow_none=True, metadata={"example": "male"})
    blood_type = ma.fields.String(allow_none=True, metadata={"example": "O+"})
    allergies = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["Penicillin", "Aspirin"]})
    country_code = ma.fields.String(required=True, metadata={"example": "CM"})
