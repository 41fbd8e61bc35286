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
