"""A faster `Schema.dump` for response schemas: the same output, compiled once per schema into plain loops.

marshmallow serialises field by field through several layers of calls (serialize, get_value, accessor,
_serialize, ensure_text_type...): ~2 µs a field, most of a records or inventory response's CPU. Our
response schemas use only plain fields, so each schema is compiled once into a list of (key, name,
converter) steps doing exactly what those layers do. Anything not understood exactly (a dump hook, a
custom field, a dotted attribute, a dump default, a non-dict object) takes marshmallow's own path, field
by field or for the whole schema. With CHECK set (the test suite sets it), every fast dump is compared
with marshmallow's own and a difference raises.
"""

from __future__ import annotations

import json

import marshmallow as ma
from marshmallow import fields as _F
from marshmallow import missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

CHECK = False


def install(schema: ma.Schema | None) -> ma.Schema | None:
    """Give `schema` (an instance) a compiled `dump` when it can have one; returns the schema."""
    if schema is None or "dump" in vars(schema):
        return schema
    compiled = compile_schema(schema)
    if compiled is None:
        return schema
    original = schema.dump

    def dump(obj, *, many=None):
        result = compiled(obj, schema.many if many is None else bool(many))
        if CHECK:
            _compare(schema, result, original(obj, many=many))
        return result

    schema.dump = dump
    return schema


def compile_schema(schema: ma.Schema):
    """`dump(obj, many)` for this schema instance, or None when it has dump hooks."""
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    steps = []
    for attr, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr
        name = field.attribute or attr
        convert = _converter(field)
        plain = (convert is not None and field._CHECK_ATTRIBUTE and field.dump_default is missing
                 and isinstance(name, str) and "." not in name)
        steps.append((key, name, convert if plain else None, attr, field))
    accessor = schema.get_attribute

    def generic(obj) -> dict:
        out = {}
        for key, _, _, attr, field in steps:
            value = field.serialize(attr, obj, accessor=accessor)
            if value is not missing:
                out[key] = value
        return out

    one = _generate(steps, generic, accessor)

    def dump(obj, many: bool):
        if many and obj is not None:
            return [one(item) for item in obj]
        return one(obj)

    return dump


def _generate(steps: list, generic, accessor):
    """`one(obj)` for a dict as straight-line code, one block per field (the loop it replaces spent as long
    unpacking its steps as serialising): what the steps say, in their order.

    For each field: the value under its name (else the attribute, as marshmallow's accessor falls back to;
    else the key is left out), converted unless it is a plain value a plain field keeps as it is; a field
    compiled to no converter goes through marshmallow's `serialize`."""
    namespace = {"missing": missing, "generic": generic, "accessor": accessor, "_string": _string}
    lines = ["def one(obj):", "    if not isinstance(obj, dict):", "        return generic(obj)",
             "    get = obj.get", "    out = {}"]
    for i, (key, name, convert, attr, field) in enumerate(steps):
        namespace[f"k{i}"], namespace[f"n{i}"], namespace[f"c{i}"], namespace[f"a{i}"], namespace[f"f{i}"] = (
            key, name, convert, attr, field)
        if convert is None:
            lines += [f"    v = f{i}.serialize(a{i}, obj, accessor=accessor)",
                      "    if v is not missing:", f"        out[k{i}] = v"]
            continue
        lines += [f"    v = get(n{i}, missing)", "    if v is missing:", f"        v = getattr(obj, n{i}, missing)",
                  "    if v is not missing:"]
        if convert is _same:
            lines += [f"        out[k{i}] = v"]
        elif convert is _string:
            lines += ["        if v is not None and type(v) is not str:", "            v = _string(v)", f"        out[k{i}] = v"]
        else:
            lines += [f"        v = c{i}(v)", "        if v is not missing:", f"            out[k{i}] = v"]
    lines.append("    return out")
    exec(compile("\n".join(lines), "<fastdump>", "exec"), namespace)  # noqa: S102 (our own steps, no input)
    return namespace["one"]


def _converter(field):
    """What `field._serialize(value, ...)` returns, as one plain function; None when not known exactly.

    Decided by the `_serialize` (and `_format_num`) the field's class really uses, not by its class, so a
    subclass that changes serialisation, or another marshmallow version, falls back to marshmallow."""
    serialize = type(field)._serialize
    if serialize is _F.Field._serialize:  # Raw, Field and (marshmallow 4) Boolean: the value as it is
        return _same
    if serialize is _F.String._serialize:  # String, Url, Email...
        return _string
    if serialize is _F.Number._serialize and type(field)._format_num is _F.Number._format_num and not field.as_string:
        number = field.num_type
        return lambda value: None if value is None else number(value)
    if serialize is _F.List._serialize:
        inner = _converter(field.inner) or _fallback(field.inner)
        return lambda value: None if value is None else [inner(each) for each in value]
    if serialize is _F.Nested._serialize:
        return _nested(field)
    if serialize is _F.Mapping._serialize and field.mapping_type is dict:
        return _mapping(field)
    return None


def _string(value):
    if value is None or type(value) is str:
        return value
    return str(value.decode("utf-8") if isinstance(value, bytes) else value)


def _same(value):
    return value


def _fallback(field):
    return lambda value: field._serialize(value, None, None)


def _nested(field):
    schema = field.schema
    compiled = compile_schema(schema)
    many = schema.many or field.many

    def convert(value):
        if value is None:
            return None
        return compiled(value, many) if compiled is not None else schema.dump(value, many=many)

    return convert


def _mapping(field):
    if not field.value_field and not field.key_field:
        return lambda value: None if value is None else dict(value)
    keys = (_converter(field.key_field) or _fallback(field.key_field)) if field.key_field is not None else None
    values = (_converter(field.value_field) or _fallback(field.value_field)) if field.value_field is not None else None

    def convert(value):
        if value is None:
            return None
        names = {k: (keys(k) if keys else k) for k in value}
        if values is None:
            return {names[k]: v for k, v in value.items() if k in names}
        return {names[k]: values(v) for k, v in value.items()}

    return convert


def _compare(schema: ma.Schema, fast, expected) -> None:
    """The test suite's guard: the fast dump must give marshmallow's bytes, key order and types included."""
    left, right = (json.dumps(x, default=repr, ensure_ascii=False) for x in (fast, expected))
    if left != right:
        raise AssertionError(f"fast dump of {type(schema).__name__} differs:\n  fast: {left[:500]}\n  ma:   {right[:500]}")
