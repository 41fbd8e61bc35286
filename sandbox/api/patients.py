"""Endpoints 2-4: resolve a patient to a Health ID, verify a Health ID, search a patient by Health ID."""

from __future__ import annotations

from functools import wraps

from flask import request
from flask.views import MethodView

from ..domain import patients
from ..domain.merges import with_alias
from ..errors import InvalidRequest
from ..schemas.common import ErrorSchema
from ..schemas.patients import (
    PatientProfileSchema,
    ResolveNotFoundSchema,
    ResolveRequestSchema,
    ResolveResponseSchema,
    SearchQuerySchema,
    VerifyResponseSchema,
)
from .blueprint import Blueprint, path_example
from .context import world
from .jsonbody import safe_loads
from .security import bearer_claims, requires_token

blp = Blueprint("Patients", __name__, description="Health ID resolution, verification and patient search",
                url_prefix="/api/v1/connect")


# The docs' two cases, as printed; the playground pre-fills the first.
RESOLVE_EXAMPLES = {
    "case_a_new_patient": {
        "summary": "Case A: no Health ID yet (auto-creates, then finds)",
        "value": {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM",
                  "sex": "female", "purpose": "his_registration", "external_reference": "HIS-PAT-00341"},
    },
    "case_b_known_health_id": {
        "summary": "Case B: the patient already has a Health ID (lookup only)",
        "value": {"health_id": "CM-HID-7KQ9-MP42-X8D1"},
    },
}


def json_object_body(view):
    """An empty, non-JSON or non-object body is a 400 with a field message, not a lookup without criteria."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        raw = request.get_data(cache=True)
        if not raw.strip():
            raise InvalidRequest("The request body is empty.", errors={"body": ["Send a JSON object."]})
        if not request.is_json:
            raise InvalidRequest("The body must be JSON.",
                                 errors={"body": ["Send a JSON object with Content-Type: application/json."]})
        try:
            data = safe_loads(raw)
        except ValueError:
            raise InvalidRequest("The body is not valid JSON.", errors={"body": ["Invalid JSON body."]}) from None
        if not isinstance(data, dict):
            raise InvalidRequest("The body must be a JSON object.", errors={"body": ["Send a JSON object."]})
        return view(*args, **kwargs)

    return wrapper


@blp.route("/patients/resolve")
class Resolve(MethodView):
    decorators = (json_object_body,)

    @blp.arguments(ResolveRequestSchema, examples=RESOLVE_EXAMPLES)
    @blp.response(200, ResolveResponseSchema, description="found: the patient is registered")
    @blp.alt_response(201, schema=ResolveResponseSchema, description="created: new patient, new Health ID")
    @blp.alt_response(400, schema=ErrorSchema, description="Malformed body or invalid field (field-level errors)")
    @blp.alt_response(404, schema=ResolveNotFoundSchema,
                      description="not_found: health_id unknown and no demographics (status is the string not_found)")
    @blp.alt_response(409, schema=ErrorSchema, description="multiple_patient_matches, with candidates")
    @blp.alt_response(422, schema=ErrorSchema,
                      description="missing_lookup_criteria, or validation_failed (date_of_birth in the future)")
    @requires_token(blp)
    def post(self, body):
        """Resolve a patient to a Health ID (find, or register and issue one)."""
        claims = bearer_claims()
        result = patients.resolve(world(), body, claims["client_id"], claims.get("facility_id"))
        return result, 201 if result["status"] == "created" else 200


@blp.route("/patients/verify/<string:health_id>",
           parameters=[path_example("health_id", "CM-HID-7KQ9-MP42-X8D1", "OpesCare Health ID (both formats)")])
class Verify(MethodView):
    @blp.response(200, VerifyResponseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found: well-formed but not registered")
    @blp.alt_response(422, schema=ErrorSchema, description="health_id_invalid: bad format or checksum")
    @requires_token(blp)
    def get(self, health_id):
        """Verify a Health ID's format and checksum and that it is registered."""
        claims = bearer_claims()
        return patients.verify(world(), health_id, claims["client_id"], claims.get("facility_id"))


@blp.route("/patient/search")
class PatientSearch(MethodView):
    @blp.arguments(SearchQuerySchema, location="query")
    @blp.response(200, PatientProfileSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="health_id missing or blank")
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found")
    @requires_token(blp, "patient:profile:read")
    def get(self, query):
        """Look up a patient's profile by Health ID."""
        return with_alias(query["health_id"], patients.search(world(), query["health_id"], bearer_claims()["client_id"]))
