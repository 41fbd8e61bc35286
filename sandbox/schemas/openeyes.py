"""Schemas of the OpenEyes patient search: its parameters and the patient objects of the response array."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema


class OpenEyesSearchSchema(RequestSchema):
    """Every parameter is read as a plain string and judged by the search itself: a bad value answers `[]`
    with 200, never a validation error (OpenEyes' behaviour)."""

    term = ma.fields.String(metadata={
        "description": "Name (`Smith`, `John Smith`, `Smith, John`, optionally followed by a day-first date "
                       "`15/03/1970`) or identifier (`H123456`, `1234567890`). Missing or empty: `[]`.",
        "example": "Smith"})
    patient_identifier_type = ma.fields.String(metadata={
        "description": "Only this identifier type: integer id (1 Hospital Number, 2 NHS Number) or key "
                       "(`LOCAL-1-0`, `GLOBAL-1-0`). Unknown: `[]`.", "example": "2"})
    pageSize = ma.fields.String(metadata={"description": "Page size: default 20, 0 or less means 10, at most 100.",
                                          "example": "20"})
    Patient_page = ma.fields.String(metadata={"description": "1-based page; past the end gives the last page.",
                                              "example": "1"})


class IdentifierSchema(ma.Schema):
    title = ma.fields.String(required=True, metadata={"example": "Hospital Number"})
    value = ma.fields.String(required=True, metadata={"example": "H123456"})


class OpenEyesPatientSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"example": 12345})
    first_name = ma.fields.String(required=True, metadata={"example": "John"})
    last_name = ma.fields.String(required=True, metadata={"example": "Smith"})
    age = ma.fields.String(required=True, metadata={"description": 'Whole years, or "Deceased".', "example": "54"})
    genderletter = ma.fields.String(required=True, allow_none=True, metadata={"description": "M, F, U, O or null.",
                                                                              "example": "M"})
    dob = ma.fields.String(required=True, metadata={"description": "YYYY-MM-DD", "example": "1970-03-15"})
    is_deceased = ma.fields.Boolean(required=True, metadata={"example": False})
    patient_identifiers = ma.fields.List(ma.fields.Nested(IdentifierSchema), required=True)
    primary_patient_identifiers = ma.fields.Nested(IdentifierSchema, required=True, metadata={
        "description": 'The Hospital Number; {"title": "N/A", "value": "None"} when patient_identifier_type is '
                       "given or the patient has none."})
