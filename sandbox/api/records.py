"""Endpoint 7 (a patient's records) and endpoints 15-16 (record pushes with Idempotency-Key)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from ..domain import pushes, records
from ..domain.merges import with_alias
from ..schemas.common import ErrorSchema
from ..schemas.records import (
    EncounterPushSchema,
    LabResultPushSchema,
    PendingReconciliationSchema,
    PushResultSchema,
    RecordsQuerySchema,
    RecordsResponseSchema,
)
from .blueprint import DOC_PATIENT, Blueprint
from .context import sandbox, world
from .security import bearer_claims, requires_token

blp = Blueprint("Records", __name__, description="Medical records: read with consent, push encounters and lab results")

IDEMPOTENCY_HEADER = {"in": "header", "name": "Idempotency-Key", "required": True,
                      "schema": {"type": "string", "minLength": 1, "maxLength": pushes.MAX_KEY_LENGTH, "pattern": r"\S"},
                      "description": "Same key and body: the stored response again (X-Idempotent-Replay: true)."}
REPLAY_HEADER = {"X-Idempotent-Replay": {"description": "true when this is a stored response replayed",
                                         "schema": {"type": "string"}}}


def _push(kind: str, body: dict):
    status, response, replayed = pushes.push(world(), kind, body, request.get_json(silent=True),
                                             request.headers.get("Idempotency-Key"), bearer_claims(),
                                             max_keys=int(sandbox().settings.get("MAX_IDEMPOTENCY_KEYS") or 0))
    return response, status, ({"X-Idempotent-Replay": "true"} if replayed else {})


@blp.route("/api/v1/connect/patient/<string:health_id>/records", parameters=[DOC_PATIENT])
class PatientRecords(MethodView):
    @blp.arguments(RecordsQuerySchema, location="query")
    @blp.response(200, RecordsResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid_request: unknown type")
    @blp.alt_response(403, schema=ErrorSchema, description="consent_required (no active consent), or invalid_scope "
                      "(patient:diagnostics:read; plus lab:results:read for lab_results and all)")
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found")
    @requires_token(blp, records.BASE_SCOPE)
    def get(self, query, health_id):
        """A patient's diagnoses, prescriptions, lab results and vitals, newest first."""
        return with_alias(health_id, records.read_records(world(), health_id, query["type"], bearer_claims()))


def push_operation(schema):
    """The decorators both record pushes share: Idempotency-Key, the 200/202 answers, 400 and 409."""
    decorators = (
        blp.doc(parameters=[IDEMPOTENCY_HEADER]),
        blp.arguments(schema),
        blp.response(200, PushResultSchema, headers=REPLAY_HEADER),
        blp.alt_response(202, schema=PendingReconciliationSchema, description="Unknown Health ID: pending_reconciliation"),
        blp.alt_response(400, schema=ErrorSchema, description="invalid_request or idempotency_key_required"),
        blp.alt_response(409, schema=ErrorSchema, description="idempotency_conflict: key reused with another body"),
        requires_token(blp),
    )

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


@blp.route("/api/v1/connect/records/encounters")
class EncounterPush(MethodView):
    @push_operation(EncounterPushSchema)
    def post(self, body):
        """Push an encounter and its diagnoses (fires encounter.created)."""
        return _push("encounter", body)


@blp.route("/api/v1/connect/records/lab-results")
class LabResultPush(MethodView):
    @push_operation(LabResultPushSchema)
    def post(self, body):
        """Push a lab result (fires lab_result.released)."""
        return _push("lab_result", body)
