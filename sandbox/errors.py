"""Every error the sandbox can answer, as classes with a status and a code, and the one envelope they render to.

The envelope carries both the docs' lowercase code and the SDKs' uppercase code:
`{"error": "consent_required", "error_code": "CONSENT_REQUIRED", "message": "...", "status": 403}`
plus optional extra fields (`errors`, `required_scopes`, `retry_after`, ...). No Flask here: the HTTP
layer (`sandbox/api/errors.py`) only turns these into responses.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base class: subclasses set `status`, `error` and a default `message`."""

    status = 400
    error = "invalid_request"
    message = "The request is invalid."

    def __init__(self, message: str | None = None, *, headers: dict | None = None, **extra):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.headers = headers or {}
        self.extra = extra

    @property
    def error_code(self) -> str:
        return self.error.upper()

    def to_dict(self) -> dict:
        body = {"error": self.error, "error_code": self.error_code, "message": self.message, "status": self.status}
        body.update(self.extra)
        return body


def error_class(status: int, error: str, message: str, name: str | None = None) -> type[SandboxError]:
    """Declare an error class in one line: `PatientNotFound = error_class(404, "patient_not_found", ...)`."""
    name = name or "".join(part.title() for part in error.split("_"))
    return type(name, (SandboxError,), {"status": status, "error": error, "message": message})


InvalidRequest = error_class(400, "invalid_request", "The request is malformed or misses a required field.")
UnsupportedGrantType = error_class(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
IdempotencyKeyRequired = error_class(
    400, "idempotency_key_required", "Record pushes need an Idempotency-Key header."
)
InvalidClient = error_class(401, "invalid_client", "Unknown client_id or wrong client_secret.")
MissingToken = error_class(401, "missing_token", "Send an Authorization: Bearer <access_token> header.")
TokenInvalid = error_class(401, "token_invalid", "The access token is not valid.")
TokenExpired = error_class(401, "token_expired", "The access token has expired; request a new one.")
AdminTokenRequired = error_class(401, "admin_token_required", "This sandbox control needs the admin token.")
InvalidScope = error_class(403, "invalid_scope", "The token does not carry the scope this endpoint needs.")
ConsentRequired = error_class(403, "consent_required", "The patient has not granted consent to this client.")
NotFound = error_class(404, "not_found", "No such resource or path.")
PatientNotFound = error_class(404, "patient_not_found", "No patient is registered with this Health ID.")
FacilityNotFound = error_class(404, "facility_not_found", "No facility has this id.")
SubscriptionNotFound = error_class(404, "subscription_not_found", "No such webhook subscription for this client.")
LabResultNotFound = error_class(404, "lab_result_not_found", "The patient has no lab result with this id.")
EventNotFound = error_class(404, "event_not_found", "No such webhook event.")
SnapshotNotFound = error_class(404, "snapshot_not_found", "This tenant has no snapshot with this name.")
InboxNotFound = error_class(404, "inbox_not_found", "This tenant has no webhook inbox with this id.")
MethodNotAllowed = error_class(405, "method_not_allowed", "This method is not allowed on this path.")
DuplicateSubscription = error_class(
    409, "duplicate_subscription", "This client already subscribes this callback URL."
)
IdempotencyConflict = error_class(
    409, "idempotency_conflict", "This Idempotency-Key was already used with a different body."
)
DuplicateClient = error_class(409, "duplicate_client", "A client with this client_id already exists.")
MultiplePatientMatches = error_class(
    409, "multiple_patient_matches", "Several registered patients match these demographics."
)
PayloadTooLarge = error_class(413, "payload_too_large", "The request body is too large.")
UnsupportedMediaType = error_class(415, "unsupported_media_type", "Send the body as application/json.")
HealthIdInvalid = error_class(422, "health_id_invalid", "The Health ID fails the format or checksum test.")
MissingLookupCriteria = error_class(
    422,
    "missing_lookup_criteria",
    "Send a health_id, or first_name, last_name and date_of_birth.",
)
ValidationFailed = error_class(422, "validation_failed", "The request breaks a business rule.")
RateLimitExceeded = error_class(429, "rate_limit_exceeded", "Too many requests for this client; slow down.")
InternalError = error_class(500, "internal_error", "The sandbox failed to handle this request.")
ServiceUnavailable = error_class(503, "service_unavailable", "The service is temporarily unavailable.")
# Answered by HAProxy in front of a cluster, never by a worker (cluster.py writes them to deploy/errors/).
RequestTimeout = error_class(408, "request_timeout", "The request did not arrive in time.")
BadGateway = error_class(502, "bad_gateway", "The worker gave no valid answer.")
GatewayTimeout = error_class(504, "gateway_timeout", "The worker did not answer in time.")



class WorldDamaged(SandboxError):
    """A tenant's stored files are damaged (not just a torn last record): the tenant refuses to load, others work."""

    status = 503
    error = "world_damaged"
    message = "This tenant's stored world is damaged."

    def __init__(self, file: str, line: int, reason: str):
        super().__init__(f"This tenant's stored world is damaged: {file} line {line}: {reason}. Nothing was "
                         "loaded or written. Stop the server and run `opescare-sandbox repair` (it keeps a copy).",
                         file=file, line=line)
        self.file, self.line, self.reason = file, line, reason
        self.offset = 0


# HTTP status -> the class used when only a status is known (Flask's own errors, `Prefer: code=`).
BY_STATUS: dict[int, type[SandboxError]] = {
    400: InvalidRequest,
    401: TokenInvalid,
    403: InvalidScope,
    404: NotFound,
    405: MethodNotAllowed,
    409: IdempotencyConflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimitExceeded,
    500: InternalError,
    503: ServiceUnavailable,
}


def for_status(status: int, message: str | None = None, **extra) -> SandboxError:
    """An error instance for a bare HTTP status (falls back to a generic class of the same status)."""
    cls = BY_STATUS.get(status)
    if cls is None:
        cls = error_class(status, "error" if status >= 500 else "invalid_request", "Request failed.", "GenericError")
        cls.status = status
    return cls(message, **extra)

# -- the public profile (docs/hosted.md) -------------------------------------------------------------------
CallbackUrlInvalid = error_class(
    400, "callback_url_invalid", "The callback URL cannot be delivered to (credentials, port or host)."
)
CallbackUrlForbidden = error_class(
    400, "callback_url_forbidden", "This server delivers webhooks only to public unicast addresses."
)
DuplicateTenantHeader = error_class(400, "duplicate_tenant_header", "Send the X-Sandbox-Tenant header once.")

# The tenant header's other spellings and repeats, refused wherever raw header names are visible: the ASGI
# front (opescare_sandbox.asgi) and HAProxy (deploy/errors/), in the same words.
TENANT_HEADER_RULE = {"X-Sandbox-Tenant": ["Send this header once, spelled with dashes: X-Sandbox-Tenant."]}


def tenant_header_underscored() -> SandboxError:
    return InvalidRequest("Bad X-Sandbox-Tenant header: spell it with dashes, never underscores.",
                          errors=TENANT_HEADER_RULE)


def tenant_header_repeated() -> SandboxError:
    return DuplicateTenantHeader("Bad X-Sandbox-Tenant header: send it once.", errors=TENANT_HEADER_RULE)
LoginThrottled = error_class(429, "login_throttled", "Too many failed logins for this client; wait and retry.")


class LimitReached(SandboxError):
    """A bound of the server (docs/hosted.md): the envelope names the limit and its value."""

    status = 422
    error = "limit_reached"

    def __init__(self, limit: str, value: int, message: str | None = None, *, status: int | None = None,
                 error: str | None = None, headers: dict | None = None):
        self.status = status or self.status
        self.error = error or f"{limit.split('_per_')[0].rstrip('s')}_limit"
        super().__init__(message or f"Limit reached: {limit} is {value}.", headers=headers, limit=limit,
                         limit_value=value)


# Documented errors an armed fault may name instead of its status's usual one (POST /sandbox/faults `error`).
SPECIFIC_ERRORS: dict[str, type[SandboxError]] = {
    "consent_required": ConsentRequired,
    "token_expired": TokenExpired,
    "multiple_patient_matches": MultiplePatientMatches,
}
