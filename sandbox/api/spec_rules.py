"""Rules every request field follows that marshmallow's OpenAPI converter cannot see, written into the document."""

from __future__ import annotations

from flask_smorest import Api

from ..schemas.common import RequestSchema

NO_NUL = r"^[^\x00]*$"  # RequestSchema refuses a NUL in any string (ISO parsers stop at one)


def no_nul_in_request_strings(self, field, ret: dict, **_kwargs) -> dict:
    """A request string without a pattern, format or enum of its own gets the NUL-free pattern."""
    types = ret.get("type") if isinstance(ret.get("type"), list) else [ret.get("type")]
    if "string" not in types or {"pattern", "format", "enum"} & set(ret):
        return {}
    return {"pattern": NO_NUL} if isinstance(field.root, RequestSchema) else {}


def install(api: Api) -> None:
    api.ma_plugin.converter.add_attribute_function(no_nul_in_request_strings)


REQUEST_ID_HEADER = {
    "description": "Names this request: the client's own X-Request-Id when it is 1-128 characters of "
                   "A-Z a-z 0-9 . _ : -, else the tenant's next `req_000001`, `req_000002`, ... The journal entry, "
                   "the audit entries and every event the request caused carry it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$"},
}


def document_request_ids(api: Api) -> None:
    """Every response carries X-Request-Id (api/hooks.py): say so on each one (call after the blueprints)."""
    api.spec.components.header("X-Request-Id", REQUEST_ID_HEADER)
    responses = list(api.spec.components.responses.values())  # the shared ones (DEFAULT_ERROR...)
    for operations in api.spec._paths.values():  # apispec has no public way to add a header to every response
        for operation in operations.values():
            responses.extend((operation.get("responses") or {}).values() if isinstance(operation, dict) else ())
    for response in responses:
        if "$ref" not in response:
            response.setdefault("headers", {})["X-Request-Id"] = {"$ref": "#/components/headers/X-Request-Id"}
