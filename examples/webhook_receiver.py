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
    """True if `header` ("t=<unix>,v1=<hex>[,v1=<hex>...]") signs exactly `body` (bytes) with `secret`, in time.

    During a secret rotation the header carries one v1= per secret (new and old): any match is valid.
    """
    pairs = [item.strip().split("=", 1) for item in header.split(",")]
    pairs = [pair for pair in pairs if len(pair) == 2]
    timestamps = [value for name, value in pairs if name == "t"]
    try:
        timestamp = int(timestamps[0]) if len(timestamps) == 1 else None
    except ValueError:
        return False
    if timestamp is None or abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # compare every candidate (no early exit), each in constant time
    matches = [hmac.compare_digest(expected, value) for name, value in pairs if name == "v1"]
    return any(matches)


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
