"""A request without a body is journaled without reading the input stream (servers that mark input as
terminated would make that read a wait per request), and a body is still journaled when there is one."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder


class Untouchable(io.RawIOBase):
    """An input stream that must not be read."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the input stream of a request without a body was read")


def call(app, environ: dict) -> tuple[str, bytes]:
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return status[0], body


def journal(client) -> list[dict]:
    return client.get("/sandbox/requests").json["data"]


@pytest.mark.parametrize("content_length", [None, "0"])
def test_a_bodiless_request_never_reads_the_input(app, client, content_length):
    environ = EnvironBuilder(path="/sandbox/clock").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    environ.update({"wsgi.input": Untouchable(), "wsgi.input_terminated": True})
    status, _ = call(app, environ)
    assert status.startswith("200")
    assert [(e["path"], e["request_body"]) for e in journal(client)] == [("/sandbox/clock", None)]


def test_a_chunked_body_is_still_read_and_journaled(app, client):
    body = b'{"now": "2030-01-01T00:00:00Z"}'
    environ = EnvironBuilder(path="/sandbox/clock", method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    status, _ = call(app, environ)
    assert status.startswith("200")
    assert [(e["path"], e["request_body"]) for e in journal(client)] == [("/sandbox/clock", body.decode())]
