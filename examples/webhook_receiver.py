"""Receive OpesCare webhooks: check X-OpesCare-Signature over the raw body, then acknowledge with a 2xx.

Run it:  WEBHOOK_SECRET=whsec_... python3 webhook_receiver.py 9000
"""

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300  # refuse signatures older (or newer) than this: stops replays of captured requests


def verify_signature(secret, header, body, now=None):
    """True if `header` ("t=<unix>,v1=<hex>") signs exactly `body` (bytes) with `secret`, within the tolerance."""
    try:
        parts = dict(item.strip().split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookReceiver(BaseHTTPRequestHandler):
    secret = os.environ.get("WEBHOOK_SECRET", "")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))  # raw bytes: verify before parsing
        if not verify_signature(self.secret, self.headers.get("X-OpesCare-Signature", ""), body):
            self.send_response(400)  # not 2xx: the sandbox records the failure and retries
            self.end_headers()
            return
        event = json.loads(body)
        print(event["type"], event["id"], "attempt", event["meta"]["delivery_attempt"], flush=True)
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("127.0.0.1", port), WebhookReceiver).serve_forever()
