"""Schemas shared by every resource: the error envelope and the base request schema."""

from __future__ import annotations

import marshmallow as ma


class RequestSchema(ma.Schema):
    """Base of every request body/query schema. Unknown fields are ignored, as a tolerant production API does."""

    class Meta:
        unknown = ma.EXCLUDE

    @ma.pre_load
    def refuse_nul_characters(self, data, **_kwargs):
        """A NUL in any string is a 400: Python's ISO date parser silently stops at one ("...00:00\\u0000" passed)."""
        declared = self.__dict__.get("_declared_keys")
        if declared is None:  # the keys this schema reads (the rest is ignored anyway), once per instance
            declared = self._declared_keys = frozenset(field.data_key or name for name, field in self.load_fields.items())
        found = [str(key) for key, value in (data.items() if hasattr(data, "items") else ())
                 if key in declared and _has_nul(value)]
        if found:
            raise ma.ValidationError({key: ["NUL characters are not allowed."] for key in found})
        return data


def _has_nul(value) -> bool:
    """Iterative, like the body's own depth check: nested data (webhook `data`) may be 64 levels deep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class AliasFieldsSchema(ma.Schema):
    """Answers about a patient asked for by a merged Health ID say so, as verify does (domain/merges.py)."""

    resolved_via_alias = ma.fields.Boolean(metadata={"description": "Only when the ID asked for was merged into "
                                                             "`health_id`: true (as verify says it)."})
    queried_health_id = ma.fields.String(metadata={"description": "Only with resolved_via_alias: the ID asked for."})


class ErrorSchema(ma.Schema):
    """The one error envelope of every endpoint (extra fields may follow)."""

    class Meta:
        unknown = ma.INCLUDE

    error = ma.fields.String(required=True, metadata={"example": "consent_required"})
    error_code = ma.fields.String(required=True, metadata={"example": "CONSENT_REQUIRED"})
    message = ma.fields.String(required=True, metadata={"example": "The patient has not granted consent to this client."})
    status = ma.fields.Integer(required=True, metadata={"example": 403})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field-level messages (validation errors only)."},
    )
