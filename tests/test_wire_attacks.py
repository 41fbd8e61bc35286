"""Malformed HTTP on the wire, against the real server (granian): what an HTTP client library would never send.

Header injection (bare CR or LF, NUL, obs-fold), overlong or too many headers, a megabyte query string,
NULs and invalid UTF-8 in the path, request smuggling (Content-Length with Transfer-Encoding). Each gets
a 4xx (granian refuses protocol errors itself, with an empty body, before the app runs) or is handled
normally; none is a 5xx, none makes the server echo an injected header, and the server keeps answering.
"""

from __future__ import annotations

import socket

import pytest
import requests

from tests.live_server import LiveServer

CLOSE = b"Connection: close\r\n\r\n"


def request(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + b" HTTP/1.1\r\nHost: sandbox\r\n" + b"".join(h + b"\r\n" for h in headers) + CLOSE + body


CASES = {
    "bare-lf-in-a-header": (request(b"GET /sandbox/clock", b"X-Sandbox-Tenant: a\nX-Injected: 1"), {200}),
    "bare-cr-in-a-header": (request(b"GET /sandbox/clock", b"X-Sandbox-Tenant: a\rX-Injected: 1"), {400}),
    "nul-in-a-header": (request(b"GET /sandbox/clock", b"X-Sandbox-Tenant: a\x00b"), {400}),
    "obs-fold-continuation": (request(b"GET /sandbox/clock", b"X-Sandbox-Tenant: a", b" X-Injected: 1"), {400}),
    "crlf-after-origin": (request(b"GET /sandbox/clock", b"Origin: http://a.example", b"Set-Cookie: x=1"), {200}),
    "200-kb-header": (request(b"GET /sandbox/clock", b"X-Big: " + b"a" * 200_000), {200, 431}),
    "2000-headers": (request(b"GET /sandbox/clock", *(b"X-H%d: v" % i for i in range(2000))), {431}),
    "1-mb-query": (request(b"GET /api/v1/connect/patient/search?health_id=" + b"A" * 1_000_000), {414, 431}),
    "nul-in-the-path": (request(b"GET /api/v1/connect/patient/\x00/consent"), {400}),
    "invalid-utf8-in-the-path": (request(b"GET /api/v1/connect/patients/verify/\xff\xfe"), {400}),
    "raw-dot-dot-path": (request(b"GET /api/v1/connect/../../sandbox/clock"), {200, 400, 404}),
    "negative-content-length": (request(b"POST /sandbox/clock", b"Content-Length: -5"), {400}),
    "content-length-and-chunked": (request(
        b"POST /sandbox/clock", b"Content-Length: 4", b"Transfer-Encoding: chunked", b"Content-Type: application/json",
        body=b"0\r\n\r\nPOST /sandbox/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 28\r\n\r\n{\"advance_seconds\": 9999999}"), {400}),
}


@pytest.fixture(scope="module")
def server():
    with LiveServer(None) as live:
        yield live


def send_raw(server, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    return int(head.split(b" ", 2)[1]), head


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_http_is_refused_or_handled_never_a_5xx(server, name):
    raw, statuses = CASES[name]
    status, head = send_raw(server, raw)
    assert status in statuses, head[:300]
    names = {line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")[1:]}
    assert not names & {b"x-injected", b"set-cookie"}
    assert requests.get(server.url + "/sandbox/health", timeout=5).status_code == 200


def test_a_smuggled_request_never_runs(server):
    send_raw(server, CASES["content-length-and-chunked"][0])
    clock = requests.get(server.url + "/sandbox/clock", timeout=5).json()
    assert abs(clock["offset_seconds"]) < 60  # the smuggled advance of 9,999,999 s did not happen
