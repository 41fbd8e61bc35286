"""Fixtures of the webhook tests (a pytest plugin loaded by conftest): a real threaded HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SUBSCRIPTIONS = "/api/v1/connect/webhooks/subscriptions"
WAIT = 5.0  # seconds: an upper bound for waits, never a sleep


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Records every POST; answers `status` (or the next of `statuses`) after waiting `delay` seconds."""

    def __init__(self):
        self.requests: queue.Queue[Received] = queue.Queue()
        self.status, self.statuses, self.delay = 204, [], 0.0
        self.release = threading.Event()  # set at teardown so slow handlers end at once
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.put(Received(self.path, dict(self.headers), body))
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def wait(self, count: int = 1, timeout: float = WAIT) -> list[Received]:
        return [self.requests.get(timeout=timeout) for _ in range(count)]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def dispatcher(app):
    return app.extensions["opescare_sandbox"].extras["webhooks"]


@pytest.fixture
def subscribe(client, auth):
    """`subscribe(url, events=("patient.created",), headers=auth)` -> the 201 body."""

    def _subscribe(url: str, events=("patient.created",), headers=None, **extra) -> dict:
        response = client.post(SUBSCRIPTIONS, json={"callback_url": url, "subscribed_events": list(events), **extra},
                               headers=headers or auth)
        assert response.status_code == 201, response.json
        return response.json

    return _subscribe


def load_receiver():
    """examples/webhook_receiver.py as a module (examples/ is not a package): its verify_signature is the docs'."""
    path = Path(__file__).resolve().parent.parent / "examples" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
