"""Response examples that match their status: each error response shows the envelope the sandbox really sends.

Without this every error response of every operation showed the Error schema's one example (a 403
consent_required), and resolve's 200 showed the 201's `"status": "created"`. An apispec plugin, so the
document and the playground get them from one place: the codes named in each response's description.
"""

from __future__ import annotations

import re

from apispec import BasePlugin

from .. import errors

_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
MARIE = {"display_name": "Marie F.", "sex": "female", "year_of_birth": 1990, "country_code": "CM",
         "verification_status": "unverified", "identity_status": "provisional"}
# Success responses that share a schema with another status: the body each status really has.
SUCCESS_EXAMPLES = {
    ("/api/v1/connect/patients/resolve", "post", "200"): {
        "status": "found", "health_id": "CM-HID-DTLM-H42E-WFYC", "patient": MARIE, "next_action": "use_health_id"},
    ("/api/v1/connect/patients/resolve", "post", "201"): {
        "status": "created", "health_id": "CM-HID-DTLM-H42E-WFYC", "patient": MARIE, "next_action": "push_records",
        "message": "New patient registered. Store this health_id in your system and use it for all future calls."},
}


def _classes() -> dict[str, type[errors.SandboxError]]:
    found = {}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.SandboxError) and value.status >= 400:
            found.setdefault(value.error, value)
    return found


def error_body(status: int, code: str | None = None) -> dict:
    """The envelope of `code` (a known error, or a `*_limit` bound), else the generic error of the status."""
    known = _classes()
    cls = known.get(code) if code else None
    if cls is not None and cls.status == status:
        return {"error": cls.error, "error_code": cls.error.upper(), "message": cls.message, "status": status}
    generic = errors.BY_STATUS.get(status, errors.SandboxError)
    if code and code.endswith("_limit"):
        return {"error": code, "error_code": code.upper(), "message": "Limit reached: see docs/hosted.md.", "status": status}
    return {"error": generic.error, "error_code": generic.error.upper(), "message": generic.message, "status": status}


def error_examples(status: int, description: str) -> dict:
    """`{code: {"summary", "value"}}` for each error code the description names (the generic one if none)."""
    known = _classes()
    codes = [c for c in dict.fromkeys(_CODE.findall(description or ""))
             if (c in known and known[c].status == status) or c.endswith("_limit")]
    bodies = [error_body(status, code) for code in codes] or [error_body(status)]
    return {body["error"]: {"summary": body["error"], "value": body} for body in bodies}


class ExamplesPlugin(BasePlugin):
    """Adds examples to responses that have none; runs after the marshmallow plugin (flask-smorest's order)."""

    def operation_helper(self, path=None, operations=None, **_kwargs):
        for method, operation in (operations or {}).items():
            for status, response in (operation.get("responses") or {}).items():
                content = response.get("content", {}).get("application/json") if isinstance(response, dict) else None
                if content is None or "example" in content or "examples" in content:
                    continue
                key = (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path or ""), method, str(status))
                if key in SUCCESS_EXAMPLES:
                    content["example"] = SUCCESS_EXAMPLES[key]
                elif str(status).isdigit() and int(status) >= 400:
                    content["examples"] = error_examples(int(status), response.get("description", ""))
