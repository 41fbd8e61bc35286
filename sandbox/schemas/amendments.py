"""Schemas of the lab-result amendment control (/sandbox/patients/{health_id}/lab-results/{id}/amend)."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema

FLAGS = ("normal", "low", "high", "critical", "abnormal")


class AmendLabResultSchema(RequestSchema):
    value = ma.fields.Raw(metadata={"description": "The corrected value (number or text).", "example": 6.2})
    flag = ma.fields.String(validate=ma.validate.OneOf(FLAGS), metadata={"example": "normal"})
    note = ma.fields.String(validate=ma.validate.Length(max=500), metadata={"example": "Haemolysed sample; repeated."})

    @ma.validates_schema
    def _changes_something(self, data, **_kwargs):
        if "value" not in data and "flag" not in data:
            raise ma.ValidationError("Send value, flag or both (and optionally a note).", "_schema")
        value = data.get("value", 0)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ma.ValidationError("value must be a number or a string.", "value")
