"""Schemas of the records endpoint and the record pushes."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma

from ..domain.clock import isoformat
from ..domain.records import DEFAULT_TYPE, TYPES
from .common import AliasFieldsSchema, RequestSchema

_ID = ma.validate.Length(min=1, max=128)
_TEXT = ma.validate.Length(max=10_000)
_SHORT = ma.validate.Length(max=256)


class Instant(ma.fields.AwareDateTime):
    """An ISO-8601 instant (naive means UTC), stored as `2026-03-01T10:00:00Z` so records sort by time."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return isoformat(super()._deserialize(value, attr, data, **kwargs))


class StringOrNumber(ma.fields.Field):
    """A lab value as labs send it: a number (`7.2`) or text (`Positive`, `<50`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ma.ValidationError("Must be a string or a number.")
        return value

    def __init__(self, **kwargs):
        metadata = {"oneOf": [{"type": "string"}, {"type": "number"}], **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)


class RecordsQuerySchema(RequestSchema):
    type = ma.fields.String(load_default=DEFAULT_TYPE, validate=ma.validate.OneOf(list(TYPES)),
                            metadata={"description": "Which records. lab_results also needs lab:results:read; all includes "
                                                   "lab results only for tokens that hold it."})


class DiagnosisSchema(ma.Schema):
    id = ma.fields.String(required=True)
    code_system = ma.fields.String(required=True, metadata={"example": "ICD-10"})
    code = ma.fields.String(required=True, metadata={"example": "E11.9"})
    display_name = ma.fields.String(allow_none=True,
                                    metadata={"example": "Type 2 diabetes mellitus without complications"})
    status = ma.fields.String(required=True, metadata={"enum": ["active", "resolved"]})
    recorded_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    facility_id = ma.fields.String(allow_none=True)


class PrescriptionItemSchema(ma.Schema):
    drug_name = ma.fields.String(required=True, metadata={"example": "metformin 500 mg tablet"})
    dose = ma.fields.String(required=True, metadata={"example": "1 tablet"})
    frequency = ma.fields.String(required=True, metadata={"example": "twice daily"})
    route = ma.fields.String(required=True, metadata={"example": "oral"})
    duration_days = ma.fields.Integer(required=True, metadata={"example": 30})
    quantity = ma.fields.Integer(required=True, metadata={"example": 60})


class PrescriptionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={
        "enum": ["active", "completed", "dispensed", "cancelled"],
        "description": "Seeded history: active or completed; issued by the sandbox controls: active, then "
                       "dispensed or cancelled."})
    prescribed_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    facility_id = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(PrescriptionItemSchema), required=True)


class LabResultVersionSchema(ma.Schema):
    version = ma.fields.Integer(required=True, metadata={"example": 1})
    value = StringOrNumber(allow_none=True, metadata={"example": 7.1})
    flag = ma.fields.String(allow_none=True, metadata={"example": "high"})
    amended_at = ma.fields.String(allow_none=True, metadata={"description": "null for the version as released."})
    note = ma.fields.String(allow_none=True)


class LabResultSchema(ma.Schema):
    id = ma.fields.String(required=True)
    test_name = ma.fields.String(allow_none=True, metadata={"example": "Hemoglobin A1c/Hemoglobin.total in Blood"})
    loinc_code = ma.fields.String(allow_none=True, metadata={"example": "4548-4"})
    value = ma.fields.Float(allow_none=True, metadata={
        "example": 7.8, "description": "The result as a number; null when it is not one (see value_text)."})
    value_text = ma.fields.String(allow_none=True, metadata={
        "example": "7.8", "description": "The result as reported: `12.1`, `positive`, `<0.5`."})
    unit = ma.fields.String(allow_none=True, metadata={"example": "%"})
    reference_range = ma.fields.String(allow_none=True, metadata={"example": "4.0-5.6"})
    flag = ma.fields.String(allow_none=True, metadata={
        "description": "normal, low, high, critical (beyond critical limits); abnormal for text results."})
    resulted_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    # Only on an amended result (domain/amendments.py): an unamended one is version 1.
    version = ma.fields.Integer(metadata={"description": "Only when amended: 2 for the first amendment, ...",
                                          "example": 2})
    amended_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    amendment_note = ma.fields.String(allow_none=True, metadata={"example": "Haemolysed sample; repeated."})
    previous_versions = ma.fields.List(ma.fields.Nested(LabResultVersionSchema), metadata={
        "description": "Only when amended: the earlier versions, newest first (version 1 is as released)."})


class VitalsSchema(ma.Schema):
    id = ma.fields.String(required=True)
    temperature_c = ma.fields.Float(required=True, metadata={"example": 36.8})
    systolic_bp = ma.fields.Integer(required=True, metadata={"example": 118})
    diastolic_bp = ma.fields.Integer(required=True, metadata={"example": 76})
    pulse = ma.fields.Integer(required=True, metadata={"example": 72})
    respiratory_rate = ma.fields.Integer(required=True, metadata={"example": 16})
    spo2 = ma.fields.Integer(required=True, metadata={"example": 98})
    weight_kg = ma.fields.Float(required=True, metadata={"example": 68.4})
    height_cm = ma.fields.Float(required=True, metadata={"example": 171.2})
    recorded_at = ma.fields.String(required=True, metadata={"format": "date-time"})


class RecordSetSchema(ma.Schema):
    diagnoses = ma.fields.List(ma.fields.Nested(DiagnosisSchema))
    prescriptions = ma.fields.List(ma.fields.Nested(PrescriptionSchema))
    lab_results = ma.fields.List(ma.fields.Nested(LabResultSchema))
    vitals = ma.fields.List(ma.fields.Nested(VitalsSchema))


class OmittedSectionSchema(ma.Schema):
    section = ma.fields.String(required=True, metadata={"example": "lab_results"})
    reason = ma.fields.String(required=True, metadata={"example": "missing_scope"})
    required_scopes = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["lab:results:read"]})


class RecordsResponseSchema(AliasFieldsSchema):
    health_id = ma.fields.String(required=True, metadata={"example": "OPC-2024-DEMO1"})
    type = ma.fields.String(required=True, metadata={"example": "all"})
    records = ma.fields.Nested(RecordSetSchema, required=True,
                               metadata={"description": "Only the requested key, unless type=all."})
    omitted = ma.fields.List(ma.fields.Nested(OmittedSectionSchema), metadata={
        "description": "Sections of type=all left out, and why (lab results without lab:results:read)."})


class DiagnosisPushSchema(RequestSchema):
    code_system = ma.fields.String(load_default="ICD-10", validate=ma.validate.Length(min=1, max=32))
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32), metadata={"example": "B54"})
    display = ma.fields.String(allow_none=True, validate=_SHORT, metadata={"example": "Unspecified malaria"})


class PushSchema(RequestSchema):
    health_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                                 metadata={"example": "CM-HID-7KQ9-MP42-X8D1"})
    occurred_at = Instant(allow_none=True, metadata={"example": "2026-03-01T10:00:00Z",
                                                     "description": "Absent: the time it is received."})
    source_system = ma.fields.String(allow_none=True, validate=_SHORT, metadata={"example": "OpesHIS"})


class EncounterPushSchema(PushSchema):
    external_encounter_id = ma.fields.String(required=True, validate=_ID, metadata={"example": "HIS-ENC-0001"})
    encounter_type = ma.fields.String(allow_none=True, validate=_SHORT, metadata={"example": "outpatient"})
    chief_complaint = ma.fields.String(allow_none=True, validate=_TEXT, metadata={"example": "Fever for three days"})
    clinical_note = ma.fields.String(allow_none=True, validate=_TEXT)
    diagnoses = ma.fields.List(ma.fields.Nested(DiagnosisPushSchema), allow_none=True,
                               validate=ma.validate.Length(max=50))


class LabResultPushSchema(PushSchema):
    external_lab_order_id = ma.fields.String(required=True, validate=_ID, metadata={"example": "LAB-ORD-0001"})
    test_name = ma.fields.String(allow_none=True, validate=_SHORT,
                                 metadata={"example": "Hemoglobin [Mass/volume] in Blood"})
    loinc_code = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=16), metadata={"example": "718-7"})
    result_value = StringOrNumber(allow_none=True, metadata={"example": 10.9})
    unit = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=32), metadata={"example": "g/dL"})
    reference_range = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64),
                                       metadata={"example": "12.0-17.5"})
    flagged = ma.fields.Boolean(allow_none=True, metadata={"example": True})
    flag_level = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=32), metadata={"example": "low"})
    interpretation = ma.fields.String(allow_none=True, validate=_TEXT)


class PushResultSchema(ma.Schema):
    """200 accepted; on 202 (unknown Health ID) the pending_reconciliation fields instead."""

    status = ma.fields.String(required=True, metadata={"example": "accepted"})
    opescare_record_id = ma.fields.String(allow_none=True, metadata={"example": "opc_lab_000001"})
    sync_status = ma.fields.String(allow_none=True, metadata={"example": "synced"})
    error_code = ma.fields.String(allow_none=True, )
    reconciliation_case_id = ma.fields.String(allow_none=True, )
    message = ma.fields.String(allow_none=True, )


class PendingReconciliationSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "pending_reconciliation"})
    error_code = ma.fields.String(required=True, metadata={"example": "RECONCILIATION_REQUIRED"})
    reconciliation_case_id = ma.fields.String(required=True, metadata={"example": "rc_000001"})
    message = ma.fields.String(required=True)
