"""Meeting an armed fault: after authentication, answer the status, sleep the delay, or drop the connection.

A dropped connection cannot be a Flask response: the view layer marks the request, and `DropConnections`
(the WSGI app's outermost layer) swallows the answer. Under werkzeug's server (the `sandbox_server`
fixture, `serve --server werkzeug`) the socket is shut down, so the client reads no status line at all;
elsewhere (the in-process `sandbox` fixture's test client, waitress) the WSGI call raises
`http.client.RemoteDisconnected`, the very `ConnectionError` urllib raises for a peer that hung up
(requests wraps it in its own `ConnectionError`). granian (`serve`'s default) gives the app no socket and
turns an exception into a 500, so there the answer is a body that breaks before its first byte: the client
usually gets a status line and then a cut connection (requests: `ChunkedEncodingError`), now and then
nothing at all. waitress turns any exception into its own 500: no drop there. docs/faults.md says so.
"""

from __future__ import annotations

import socket
import time
from http.client import RemoteDisconnected

from flask import current_app

from ..domain import clock
from ..errors import SPECIFIC_ERRORS, ConsentRequired
from ..runtime.faults import FaultBoard, board_of
from ..runtime.simulation import simulated_error
from .context import CONNECT_PREFIX, OPENEYES_PREFIX, current, sandbox, tenant, world

DROP_KEY = "opescare_sandbox.drop"  # set in the WSGI environ of a request whose connection is to be dropped
DROPPED_MESSAGE = "Remote end closed connection without response (an armed fault: drop)"
DROPPED_STATUS = 499  # what the journal records for a dropped request (nginx's "client closed request")


def fault_board() -> FaultBoard:
    return board_of(sandbox().extras, sandbox().store)


def apply_armed_fault(client_id: str | None = None, openeyes_failure=None):
    """Called once authentication has passed: meet the first armed fault that matches this request, if any.

    Returns None (no fault, or a delay already slept) or a response to send instead of the view's; raises the
    documented error for a status fault. `openeyes_failure(status)` renders OpenEyes' own 401/403 bodies.
    """
    request, g, _services = current()
    openeyes = request.path.startswith(OPENEYES_PREFIX)
    if not (openeyes or request.path.startswith(CONNECT_PREFIX)) or "fault" in g:
        return None
    if openeyes and openeyes_failure is None:
        return None  # OpenEyes authenticates in its view (HTTP Basic), which calls again once the user is known
    board = fault_board()
    if not board.holds(tenant()):
        return None
    client_id = client_id or (g.get("claims") or {}).get("client_id")
    fault = board.take(tenant(), request.method, request.path, client_id, clock.now_iso(world()))
    if fault is None:
        return None
    g.fault = {"fault_id": fault.id, "kind": fault.kind}
    if fault.delay_ms:
        deferred = request.environ.get("asgi.scope", {}).get("opescare_sandbox.delay")
        if deferred is not None:  # under the ASGI front: it waits in its event loop once the answer is ready
            deferred.append((fault.delay_ms / 1000, lambda: None))
        else:
            time.sleep(fault.delay_ms / 1000)  # before the view and before any world lock, like Prefer: delay=
        return None
    if fault.drop:
        request.environ[DROP_KEY] = True
        return sandbox_placeholder()
    if openeyes_failure is not None and fault.status in (401, 403):
        return openeyes_failure(fault.status)
    if fault.error == "consent_required":
        raise ConsentRequired(required_action="request_consent")
    if fault.error:
        raise SPECIFIC_ERRORS[fault.error]()
    raise simulated_error(fault.status)


def sandbox_placeholder():
    """The response a dropped request is journaled with; `DropConnections` never lets it reach the client."""
    return current_app.response_class(b"", status=DROPPED_STATUS)


class DropConnections:
    """WSGI middleware: a request marked for dropping gets no answer at all (see the module docstring)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = []
        result = self.wsgi_app(environ, lambda *args, **kwargs: started.append(args))
        if not environ.get(DROP_KEY):
            start_response(*started[0])
            return result
        if hasattr(result, "close"):
            result.close()  # runs Flask's teardown: the tenant is released
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif str(environ.get("SERVER_SOFTWARE", "")).lower().startswith("granian"):
            # granian turns an exception from the app into a 500 and gives no socket; a body that breaks before
            # its first chunk makes it cut the connection, which is the nearest it comes to a drop.
            start_response("200 OK", [("Content-Type", "application/json")])
            return _broken_stream()
        raise RemoteDisconnected(DROPPED_MESSAGE)


def _broken_stream():
    raise RemoteDisconnected(DROPPED_MESSAGE)
    yield b""  # a generator: granian only starts it once the headers are out
