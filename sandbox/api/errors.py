"""The one JSON error renderer: SandboxError, Flask/werkzeug errors and webargs validation all end here."""

from __future__ import annotations

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from ..errors import InternalError, InvalidRequest, SandboxError, for_status

log = logging.getLogger(__name__)


def render(error: SandboxError):
    response = jsonify(error.to_dict())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = str(value)
    return response


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages -> `{"field.sub": ["msg", ...]}` (request locations dropped)."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if key not in ("json", "query", "form", "json_or_form", "headers", "view_args") or prefix \
                else ""
            if name == "_schema" and prefix:
                name = ""
            child = f"{prefix}.{name}" if prefix and name else (name or prefix)
            for k, v in flatten_messages(value, child).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            flat.setdefault(prefix or "body", []).extend(messages)
        else:
            for i, item in enumerate(messages):
                for k, v in flatten_messages(item, f"{prefix}.{i}" if prefix else str(i)).items():
                    flat.setdefault(k, []).extend(v)
    else:
        flat.setdefault(prefix or "body", []).append(str(messages))
    return flat


def from_http_exception(exc: HTTPException) -> SandboxError:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages is not None and exc.code in (400, 422):
        # Schema validation (missing field, wrong type, bad value) and malformed JSON: 400 with field messages.
        return InvalidRequest("The request is invalid; see errors for each field.", errors=flatten_messages(messages))
    headers = dict(data.get("headers") or {})
    if exc.code == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    error = for_status(exc.code or 500, data.get("message"))
    error.headers.update(headers)
    return error


def register_error_handlers(app) -> None:
    @app.errorhandler(SandboxError)
    def _sandbox_error(error):
        return render(error)

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return render(from_http_exception(error))
        log.exception("unhandled error")
        return render(InternalError())
