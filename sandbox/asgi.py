"""ASGI front for granian: whole bodies and `Prefer: delay` are waited for in the event loop, never in a thread.

The Flask app stays a WSGI app (flask-smorest declares, validates and documents every endpoint); a2wsgi (a
well-kept adapter) runs it on a small thread pool. This front adds what a WSGI server cannot do cheaply:
- it reads the request body in the event loop (bounded in bytes and in time) before a thread sees the
  request, so a client whose body never arrives holds no thread — laptops and CI have no HAProxy in front;
- it sleeps a simulated delay after the app answered (the app authenticated the request and computed the
  answer first; it only says how long to hold it), so a delayed response holds no thread either;
- it runs a Connect or OpenEyes request in the event loop's own thread (`INLINE_PREFIX`): those never wait on
  the network or on a timer once their body is in, and CPython runs one thread's Python at a time anyway, so a
  hand-off to a pool thread only added two thread switches and a GIL convoy (docs/benchmarks.md measures it);
- it hands every other request (the sandbox controls: `POST /sandbox/webhooks/retry-pending` waits on
  deliveries; resets and snapshots write files) to a pool thread once and takes the whole answer back once
  (a2wsgi's own WSGIMiddleware hops between thread and loop per message, which halved throughput here), and
  so does every request when SANDBOX_FSYNC makes each write wait for the disk;
- it sees the raw header names, so the underscore spelling of the tenant header (which WSGI folds into
  `HTTP_X_SANDBOX_TENANT`) and a repeated tenant header are refused with a 400 in the error envelope.
"""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor

from a2wsgi.wsgi import build_environ

from .app import create_app
from .config import load_config
from .errors import (
    PayloadTooLarge,
    RequestTimeout,
    SandboxError,
    tenant_header_repeated,
    tenant_header_underscored,
)

DELAY_KEY = "opescare_sandbox.delay"  # in the ASGI scope (a2wsgi hands it on as environ["asgi.scope"])
BODY_TIMEOUT_S = 10.0  # a body that has not fully arrived by then is a 408
TENANT_HEADER = b"x-sandbox-tenant"
INLINE_PREFIX = "/api/"  # the two imitated APIs: answered in the event loop's thread


def _rendered(error: SandboxError) -> tuple[int, bytes]:
    return error.status, json.dumps(error.to_dict()).encode()


def refuse_tenant_spellings(headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes] | None:
    """Only `X-Sandbox-Tenant` (any case), once, selects a tenant; other spellings would alias it in WSGI."""
    names = [name.lower() for name, _ in headers]
    if any(name != TENANT_HEADER and name.replace(b"_", b"-") == TENANT_HEADER for name in names):
        return _rendered(tenant_header_underscored())
    if names.count(TENANT_HEADER) > 1:
        return _rendered(tenant_header_repeated())
    return None


class SandboxASGI:
    """The ASGI application granian serves (`opescare_sandbox.asgi:app`)."""

    def __init__(self, wsgi_app, threads: int, max_body: int, inline: bool = True):
        self.wsgi_app = wsgi_app
        self.inline = inline  # False: every request on the pool (writes that wait for fsync must not stall the loop)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sandbox-request")
        self.max_body = max_body
        self.body_timeout = BODY_TIMEOUT_S
        self.on_shutdown = None  # the server's clean stop (serving.CleanStop.close): granian's ASGI lifespan calls it

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self._lifespan(receive, send, self.on_shutdown) if scope["type"] == "lifespan" else None
        refused = refuse_tenant_spellings(scope.get("headers", []))
        if refused is None:
            body, refused = await self._read_body(receive)
        if refused is not None:
            return await self._respond(send, *refused)
        delay: list = []  # the simulation hook appends (seconds, release) here instead of sleeping in the thread
        environ = build_environ({**scope, DELAY_KEY: delay}, io.BytesIO(body))
        # The body is whole: say how long it is (a chunked request has no Content-Length for the app to read).
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            if self.inline and scope["path"].startswith(INLINE_PREFIX):
                status, headers, payload = self._call(environ)
            else:
                status, headers, payload = await asyncio.get_running_loop().run_in_executor(self.pool, self._call, environ)
        except ConnectionError:  # an armed `drop` fault (api/faults.py): the client must get no answer at all
            # granian answers 500 to an app that fails before its response is under way; once a (chunked) body
            # has begun, failing makes it cut the connection: the status line may show, the body never does.
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            raise
        for seconds, release in delay:  # one at most: the simulation hook's, holding its tenant's delay slot
            try:
                await asyncio.sleep(seconds)
            finally:
                release()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _call(self, environ: dict) -> tuple[int, list, bytes]:
        """Run the WSGI app in a pool thread and collect its whole answer: one hand-off per request."""
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]),
                          [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]]
            return lambda chunk: chunks.append(chunk)

        chunks: list[bytes] = []
        iterable = self.wsgi_app(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        return started[0], started[1], b"".join(chunks)

    async def _read_body(self, receive) -> tuple[bytes, tuple[int, bytes] | None]:
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return b"", (499, b"")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        return b"", _rendered(PayloadTooLarge(f"The body is over {self.max_body} bytes."))
                    chunks.append(chunk)
                    if not message.get("more_body"):
                        return b"".join(chunks), None
        except TimeoutError:
            return b"", _rendered(RequestTimeout(f"The body did not arrive within {self.body_timeout:g} s."))

    @staticmethod
    async def _respond(send, status: int, body: bytes) -> None:
        if status == 499:  # the client went away: nobody to answer
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _lifespan(receive, send, on_shutdown) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if on_shutdown is not None:  # compaction writes files: off the event loop
                    await asyncio.get_running_loop().run_in_executor(None, on_shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return


def build(config: dict | None = None) -> SandboxASGI:
    """The app from SANDBOX_* settings (the CLI sets them) or `config`; its thread pool sized by THREADS."""
    settings = load_config(config)
    return SandboxASGI(create_app(config), threads=int(settings["THREADS"]), max_body=int(settings["MAX_CONTENT_LENGTH"]),
                       inline=not settings["FSYNC"])


def __getattr__(name: str):
    """`opescare_sandbox.asgi:app`, built on first access (granian's import), not when tests import the module."""
    if name == "app":
        globals()["app"] = build()
        return globals()["app"]
    raise AttributeError(name)
