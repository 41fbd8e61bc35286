"""Schemas of the scenario catalogue (GET /sandbox/scenarios)."""

from __future__ import annotations

import marshmallow as ma


class ScenarioSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"example": "multiple_patient_matches"})
    kind = ma.fields.String(required=True, metadata={"description": "magic_input | persona | control", "example": "magic_input"})
    summary = ma.fields.String(required=True)
    request = ma.fields.String(required=True, metadata={"example": "POST /api/v1/connect/patients/resolve"})
    input = ma.fields.Dict(required=True, metadata={"description": "The magic values to send"})
    effect = ma.fields.String(required=True, metadata={"description": "What the sandbox does with them"})


class ScenarioListSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(ScenarioSchema), required=True)
