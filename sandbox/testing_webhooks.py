"""The `sandbox_webhooks` receiver: a local endpoint, already subscribed, that verifies every delivery it gets.

One HTTP server per session (stdlib `ThreadingHTTPServer` on 127.0.0.1, a free port) and one inbox per
test at a path of its own, so a late POST meant for an earlier test never lands in this one (it gets 410).
The signature check is written from the docs, not imported from the sandbox's signer: a test that passes
here passes against a receiver written from the same page.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE_HEADER = "X-OpesCare-Signature"
TOLERANCE_SECONDS = 300  # the docs: refuse a `t` more than 300 s from the receiver's clock
HANG_LIMIT = 60.0  # seconds a hanging answer waits at most if nobody releases it (the sandbox cuts at 10 s)


def verify_signature(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """True if `header` (`t=<unix>,v1=<hex>[,v1=<hex>...]`) signs exactly `body` with `secret`, within the tolerance.

    HMAC-SHA256 keyed with the secret over `"<t>." + raw body`, compared in constant time; during a secret
    rotation the header may carry several `v1` values and any match is valid.
    """
    pairs = [item.strip().partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in pairs if key == "t"]
    signatures = [value for key, _, value in pairs if key == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    if abs((time.time() if now is None else now) - int(stamps[0])) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode("utf-8"), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, given) for given in signatures)


@dataclass
class Received:
    """One POST the receiver got: its headers, raw body, parsed event, whether it verified, what it answered."""

    headers: dict
    body: bytes
    event: dict | None
    verified: bool
    answered: int | None = None  # None: hung up without answering
    attempt: int | None = field(default=None)


class Inbox:
    """One test's webhook endpoint: `.url`, `.secret`, `.events`, `.wait_for()`, `.fail()` / `.hang()` / `.recover()`."""

    def __init__(self, url: str, describe: Callable[[str | None], str] | None = None):
        self.url, self.secret, self.subscription = url, "", None
        self.received: list[Received] = []
        self._describe = describe
        self._status, self._hang = 204, False
        self._released = threading.Event()
        self._changed = threading.Condition()

    # -- what arrived ------------------------------------------------------------------------------
    @property
    def events(self) -> list[dict]:
        """The event of every delivery that verified, in arrival order (a retried event appears once per attempt)."""
        with self._changed:
            return [r.event for r in self.received if r.verified]

    @property
    def rejected(self) -> list[Received]:
        """Deliveries whose signature did not verify (answered 400, as the docs' receiver does)."""
        with self._changed:
            return [r for r in self.received if not r.verified]

    def wait_for(self, event_type: str | None = None, timeout: float = 5.0) -> dict:
        """The first verified event of this type (any type: None), waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.events if event_type is None or e.get("type") == event_type), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    break
                self._changed.wait(left)
        if found is None:
            raise AssertionError(self._timeout_message(event_type, timeout))
        return found

    # -- how it answers ----------------------------------------------------------------------------
    def fail(self, status: int = 500) -> None:
        """Answer every delivery from now on with this status (the sandbox records a failed attempt and retries)."""
        self._status, self._hang = status, False

    def hang(self) -> None:
        """Never answer from now on: the sandbox's attempt times out (10 s), or the test's end cuts it."""
        self._released.clear()
        self._hang = True

    def recover(self) -> None:
        """Answer 204 again (and let go of any delivery hanging now)."""
        self._status, self._hang = 204, False
        self._released.set()

    def close(self) -> None:
        self._hang = False
        self._released.set()

    # -- the server's side ---------------------------------------------------------------------------
    def take(self, headers: dict, body: bytes) -> tuple[int | None, threading.Event | None]:
        """Record a POST; what to answer (None and an event to wait on: hang)."""
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        verified = event is not None and verify_signature(self.secret, headers.get(SIGNATURE_HEADER, ""), body)
        attempt = headers.get("X-OpesCare-Delivery-Attempt", "")
        answered = None if verified and self._hang else (self._status if verified else 400)
        with self._changed:
            self.received.append(Received(headers, body, event, verified, answered,
                                          int(attempt) if attempt.isdigit() else None))
            self._changed.notify_all()
        return answered, (self._released if answered is None else None)

    def _timeout_message(self, event_type: str | None, timeout: float) -> str:
        wanted = f"a {event_type} delivery" if event_type else "a delivery"
        seen = [r.event.get("type") if r.event else "(not JSON)" for r in self.received]
        lines = [f"sandbox_webhooks: no verified {wanted} within {timeout:g} s at {self.url}",
                 f"  received: {len(seen)} ({', '.join(map(str, seen)) or 'nothing'}); "
                 f"rejected (bad signature): {len(self.rejected)}"]
        if self._describe is not None:
            lines.append(self._describe(event_type))
        return "\n".join(lines)


class Receiver:
    """The session's receiver server; each test opens an inbox at a path of its own."""

    def __init__(self):
        self._inboxes: dict[str, Inbox] = {}
        self._paths = itertools.count(1)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                inbox = receiver._inboxes.get(self.path.split("?", 1)[0])
                status, hang = (410, None) if inbox is None else inbox.take(dict(self.headers), body)
                if hang is not None:
                    hang.wait(HANG_LIMIT)
                    self.close_connection = True
                    return  # no answer at all
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # one line per delivery would flood the captured output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="opescare-sandbox-webhooks", daemon=True)
        self._thread.start()

    def open(self, describe: Callable[[str | None], str] | None = None) -> Inbox:
        path = f"/opescare/webhooks/{next(self._paths)}"
        inbox = self._inboxes[path] = Inbox(self.url + path, describe)
        return inbox

    def discard(self, inbox: Inbox) -> None:
        inbox.close()
        self._inboxes.pop(inbox.url[len(self.url):], None)

    def close(self) -> None:
        for inbox in list(self._inboxes.values()):
            self.discard(inbox)
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
