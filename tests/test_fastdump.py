"""The compiled response dump: exactly marshmallow's output (keys, order, types), or marshmallow itself."""

from __future__ import annotations

import json
from dataclasses import dataclass

import marshmallow as ma
import pytest

from opescare_sandbox.api import fastdump


class Item(ma.Schema):
    name = ma.fields.String()
    count = ma.fields.Integer()


class Everything(ma.Schema):
    text = ma.fields.String()
    url = ma.fields.Url()
    whole = ma.fields.Integer()
    real = ma.fields.Float()
    flag = ma.fields.Boolean()
    raw = ma.fields.Raw()
    anything = ma.fields.Field()
    renamed = ma.fields.String(data_key="renamedKey")
    sourced = ma.fields.String(attribute="source_name")
    dotted = ma.fields.String(attribute="inner.value")
    defaulted = ma.fields.String(dump_default="fallback")
    numbers_as_text = ma.fields.Integer(as_string=True)
    tags = ma.fields.List(ma.fields.String())
    items = ma.fields.List(ma.fields.Nested(Item))
    one = ma.fields.Nested(Item)
    many = ma.fields.Nested(Item, many=True)
    only = ma.fields.Nested(Item, only=("name",))
    mapping = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.Integer()))
    loose = ma.fields.Dict()
    when = ma.fields.AwareDateTime()  # not compiled: marshmallow serialises it
    secret = ma.fields.String(load_only=True)


class Hooked(ma.Schema):
    name = ma.fields.String()

    @ma.post_dump
    def shout(self, data, **kwargs):
        return {k: v.upper() for k, v in data.items()}


@dataclass
class Plain:
    text: str
    whole: int


OBJECTS = {
    "full": {"text": "a", "url": "http://x", "whole": "7", "real": 3, "flag": "yes", "raw": {"k": [1]},
             "anything": (1, 2), "renamed": "r", "source_name": "s", "inner": {"value": "v"}, "numbers_as_text": 5,
             "tags": ["x", 1, None], "items": [{"name": "n", "count": 2.9}], "one": {"name": 1}, "many": [{"count": 1}],
             "only": {"name": "kept", "count": 9}, "mapping": {"k": [1, "2"]}, "loose": {"a": 1},
             "secret": "hidden", "unknown": "dropped"},
    "nones": {name: None for name in ("text", "url", "whole", "real", "flag", "raw", "tags", "items", "one", "many",
                                      "mapping", "loose")},
    "empty": {},
    "bytes and falsy": {"text": b"bytes", "flag": "0", "whole": True, "real": "1.5", "tags": [], "items": []},
    "object": Plain(text="t", whole=3),
}


@pytest.mark.parametrize("obj", OBJECTS.values(), ids=OBJECTS)
@pytest.mark.parametrize("many", [False, True])
def test_the_compiled_dump_is_marshmallows(obj, many):
    value = [obj, obj] if many else obj
    expected = outcome(lambda: Everything().dump(value, many=many))
    assert outcome(lambda: fastdump.compile_schema(Everything())(value, many)) == expected


def outcome(dump) -> tuple:
    """The JSON text of a dump, or the exception it raised (an empty dict has no "items": marshmallow then
    reads dict.items and fails, and so must the compiled dump)."""
    try:
        return "dumped", json.dumps(dump(), default=repr)
    except Exception as exc:  # noqa: BLE001 - the same failure is the expected behaviour
        return "raised", type(exc).__name__


def test_an_installed_schema_dumps_the_same_and_checks_itself():
    schema = fastdump.install(Everything())
    assert "dump" in vars(schema)
    assert schema.dump(OBJECTS["full"]) == Everything().dump(OBJECTS["full"])


def test_schemas_with_dump_hooks_keep_marshmallows_dump():
    schema = fastdump.install(Hooked())
    assert "dump" not in vars(schema)
    assert schema.dump({"name": "ada"}) == {"name": "ADA"}


def test_the_check_raises_on_any_difference_of_type_or_order():
    with pytest.raises(AssertionError, match="differs"):
        fastdump._compare(Item(), {"count": 1.0}, {"count": 1})
    with pytest.raises(AssertionError, match="differs"):
        fastdump._compare(Item(), {"count": 1, "name": "a"}, {"name": "a", "count": 1})


def test_every_success_response_of_the_api_dumps_compiled(app):
    schemas = []
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            apidoc = getattr(getattr(view_class, method.lower(), None), "_apidoc", {})
            responses = apidoc.get("response", {}).get("responses", {})
            schemas += [doc["schema"] for code in apidoc.get("success_status_codes", ())
                        for doc in responses.get(code, ()) if isinstance(doc.get("schema"), ma.Schema)]
    assert len(schemas) >= 25
    assert [type(s).__name__ for s in schemas if "dump" not in vars(s)] == []
    assert fastdump.CHECK  # tests/conftest.py: the whole suite compares every fast dump with marshmallow's
