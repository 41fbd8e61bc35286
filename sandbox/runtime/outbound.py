"""One outgoing HTTP POST with a deadline for the whole exchange (connect, send, headers, body excerpt). No Flask.

A socket timeout (what `requests` offers) bounds each read, not the exchange: a receiver that dribbles
its status line, headers or body a byte at a time kept a webhook worker, or a `retry-pending` request,
busy for hours. Here a timer shuts the socket down when the deadline passes, which ends any blocked
read at once. Redirects are never followed; proxies are not used (receivers are usually local).
`connect` (the egress policy's) picks and checks the address actually connected to.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlsplit


class DeadlineExceeded(Exception):
    """No complete answer (status, headers and the excerpt) within the deadline."""


def post(url: str, body: bytes, headers: dict, deadline: float, excerpt: int,
         connect: Callable | None = None) -> tuple[int, bytes]:
    """(status code, the first `excerpt` bytes of the body). Raises DeadlineExceeded, OSError or HTTPException."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"cannot POST to {url!r}")
    connection = (HTTPSConnection if parts.scheme == "https" else HTTPConnection)(
        parts.hostname, parts.port, timeout=deadline)
    if connect is not None:
        connection._create_connection = connect  # http.client's documented-in-code hook for the socket factory
    expired = threading.Event()
    timer = threading.Timer(deadline, _cut, args=(connection, expired))
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        response = connection.getresponse()
        return response.status, response.read(excerpt)
    except (OSError, HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise DeadlineExceeded() from exc
        raise
    finally:
        timer.cancel()
        connection.close()


def _cut(connection: HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
