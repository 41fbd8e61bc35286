"""Schemas of the lab-result amendment control (/sandbox/patients/{health_id}/lab-results/{id}/amend)."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema

FLAGS = ("normal", "low", "high", "critical", "abnormal")


class AmendLabResultSchema(RequestSchema):
    value = ma.fields.Raw(metadata={"description": "The corrected value (number or text).", "example": 6.2,
                                    "oneOf": [{"type": "number"}, {"type": "string", "maxLength": 64,
                                                                   "pattern": "^[^\\u0000]*$"}]})
    flag = ma.fields.String(validate=ma.validate.OneOf(FLAGS), metadata={"example": "normal"})
    note = ma.fields.String(validate=ma.validate.Length(max=500), metadata={"example": "Haemolysed sample; repeated."})

    @ma.validates_schema
    def _changes_something(self, data, **_kwargs):
        value = data.get("value", 0)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (
                isinstance(value, str) and (len(value) > 64 or "\x00" in value)):
            raise ma.ValidationError("value must be a number or a string of at most 64 characters.", "value")
