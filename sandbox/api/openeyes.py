"""The OpenEyes Patient API: `GET|POST /api/v1/patient/search` behind HTTP Basic (tag "OpenEyes").

Its 401 and 403 bodies are NOT the sandbox's error envelope: OpenEyes answers the bare JSON strings
`"401 Unauthorized"` and `"403 Forbidden"` (the seed is explicit), and clients written against it
compare those bodies. So they are rendered here by `_openeyes_status`, the one exception to the single
error renderer. Every other failure (405, bad tenant header, ...) uses the normal envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import wraps

from flask import current_app, request
from flask.views import MethodView

from ..domain import openeyes, openeyes_auth
from ..schemas.common import ErrorSchema
from ..schemas.openeyes import OpenEyesPatientSchema, OpenEyesSearchSchema
from .blueprint import Blueprint
from .context import sandbox, tenant, world
from .faults import apply_armed_fault

blp = Blueprint("OpenEyes", __name__, description="OpenEyes Patient API: patient search (HTTP Basic, OprnApi role)")

CHALLENGE = {"WWW-Authenticate": 'Basic realm="OpenEyes"'}
CHALLENGE_DOC = {"WWW-Authenticate": {"description": 'Always `Basic realm="OpenEyes"`', "schema": {"type": "string"}}}


def _openeyes_status(status: int, text: str, headers: dict | None = None):
    """OpenEyes' own error body: a JSON string such as "401 Unauthorized", not the envelope."""
    return current_app.response_class(json.dumps(text), status=status, mimetype="application/json",
                                      headers=headers or {})


def _openeyes_failure(status: int):
    return _openeyes_status(status, f"{status} {'Unauthorized' if status == 401 else 'Forbidden'}",
                            CHALLENGE if status == 401 else None)


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "").strip()
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        username, colon, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if colon else None


def _verified_cache() -> openeyes_auth.VerifiedCache:
    """One cache per app (tests build many apps; none shares another's verifications)."""
    extras = sandbox().extras
    cache = extras.get("openeyes_verified")
    return cache if cache is not None else extras.setdefault("openeyes_verified", openeyes_auth.VerifiedCache())


def basic_user() -> dict | None:
    """The OpenEyes user whose right Basic credentials this request carries (no throttle: for `Prefer`)."""
    credentials = _basic_credentials()
    return (credentials and openeyes_auth.authenticate(world(), *credentials, cache=_verified_cache())) or None


def _throttled_user() -> dict | None:
    """Public profile: failures per user are counted; past the limit, 429 (envelope, Retry-After)."""
    throttle = sandbox().extras.get("login_throttle")
    credentials = _basic_credentials()
    if throttle is None or credentials is None:
        return basic_user()
    throttle.check((tenant(), "openeyes", credentials[0]))
    user = basic_user()
    if user is None:
        throttle.fail((tenant(), "openeyes", credentials[0]))
    return user


def requires_openeyes_user(view):
    """HTTP Basic with the OprnApi role on every request; documents the security scheme and 401/403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = _throttled_user()
        if not user:
            return _openeyes_status(401, "401 Unauthorized", CHALLENGE)
        if not openeyes_auth.may_use_api(user):
            return _openeyes_status(403, "403 Forbidden")
        faulted = apply_armed_fault(user.get("username"), _openeyes_failure)
        return faulted if faulted is not None else view(*args, **kwargs)

    documented = blp.doc(security=[{"openEyesBasic": []}])(wrapper)
    documented = blp.alt_response(401, schema={"type": "string", "example": "401 Unauthorized"},
                                  description="Missing or wrong credentials", headers=CHALLENGE_DOC)(documented)
    return blp.alt_response(403, schema={"type": "string", "example": "403 Forbidden"},
                            description="The user lacks the OprnApi role")(documented)


@blp.route("/api/v1/patient/search")
class PatientSearch(MethodView):
    @blp.arguments(OpenEyesSearchSchema, location="query", error_status_code=400)
    @blp.response(200, OpenEyesPatientSchema(many=True))
    @blp.alt_response(400, schema=ErrorSchema, description="Bad X-Sandbox-Tenant header (never a bad term)")
    @requires_openeyes_user
    def get(self, params):
        """Search patients by name or identifier (a bad term answers [] with 200)."""
        return openeyes.search_patients(world(), params)

    @blp.arguments(OpenEyesSearchSchema, location="query", error_status_code=400)
    @blp.arguments(OpenEyesSearchSchema, location="form", required=False, error_status_code=400)
    @blp.response(200, OpenEyesPatientSchema(many=True))
    @blp.alt_response(400, schema=ErrorSchema, description="Bad X-Sandbox-Tenant header (never a bad term)")
    @requires_openeyes_user
    def post(self, query, form):
        """Search patients with the parameters in a form body (or the query string, which wins)."""
        return openeyes.search_patients(world(), {**form, **query})
