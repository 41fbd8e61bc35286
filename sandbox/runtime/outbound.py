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


# Connections on the wire, so `cut_open` can end them early (the pytest plugin's teardown: a receiver
# that hangs in one test must not hold a delivery worker into the next).
_open: dict[HTTPConnection, tuple[threading.Event, int]] = {}  # -> (its deadline flag, the posting thread)
_open_lock = threading.Lock()


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
    with _open_lock:
        _open[connection] = (expired, threading.get_ident())
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
        with _open_lock:
            _open.pop(connection, None)
        connection.close()


def cut_open(threads: set[int] | None = None) -> int:
    """End the POSTs now on the wire (of these threads; None: all) at once, each raising DeadlineExceeded; how many."""
    with _open_lock:
        cut = [(c, expired) for c, (expired, ident) in _open.items() if threads is None or ident in threads]
    for connection, expired in cut:
        _cut(connection, expired)
    return len(cut)


def _cut(connection: HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
