"""Endpoints 5 and 6 (consent status and grant) and the consent-revoke sandbox control."""

from __future__ import annotations

from flask.views import MethodView

from ..domain import consent
from ..domain.merges import with_alias
from ..schemas.common import ErrorSchema
from ..schemas.consent import (
    ConsentGrantRequestSchema,
    ConsentRevokeRequestSchema,
    ConsentRevokeResponseSchema,
    ConsentSchema,
)
from .blueprint import DOC_PATIENT, PATIENT_WITHOUT_CONSENT, Blueprint
from .context import world
from .controls.blueprint import admin_only
from .security import bearer_claims, requires_token

blp = Blueprint("Consent", __name__, description="A patient's consent to share records with your client")


@blp.route("/api/v1/connect/patient/<string:health_id>/consent", parameters=[PATIENT_WITHOUT_CONSENT])
class PatientConsent(MethodView):
    @blp.response(200, ConsentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found")
    @requires_token(blp)
    def get(self, health_id):
        """Consent status of a patient for your client (no consent yet reads as pending)."""
        return with_alias(health_id, consent.get_consent(world(), health_id, bearer_claims()["client_id"]))


@blp.route("/api/v1/connect/patient/<string:health_id>/consent/grant", parameters=[PATIENT_WITHOUT_CONSENT])
class ConsentGrant(MethodView):
    @blp.arguments(ConsentGrantRequestSchema, required=False,
                   example={"consent_type": "full_record", "expires_at": "2026-12-31T23:59:59Z"})
    @blp.response(201, ConsentSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid_request: bad consent_type or expires_at")
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: expires_at is not in the future")
    @requires_token(blp)
    def post(self, body, health_id):
        """Record that the patient granted consent to your client (audited; fires consent.granted)."""
        return with_alias(health_id, consent.grant(world(), health_id, bearer_claims(), body["consent_type"],
                                                   body["expires_at"]))


@blp.route("/sandbox/patients/<string:health_id>/consent/revoke", parameters=[DOC_PATIENT])
class ConsentRevoke(MethodView):
    @blp.doc(tags=["Sandbox controls"])
    @blp.arguments(ConsentRevokeRequestSchema, required=False)
    @blp.response(200, ConsentRevokeResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid_request: malformed body")
    @blp.alt_response(404, schema=ErrorSchema, description="patient_not_found")
    @blp.alt_response(422, schema=ErrorSchema, description="validation_failed: unknown client_id")
    @admin_only
    def post(self, body, health_id):
        """The patient revokes consent in the OpesCare app (fires consent.revoked)."""
        return consent.revoke(world(), health_id, body.get("client_id"))
