"""A tiny vendor HIS integration with OpesCare Connect, as a hospital system's backend would write it (requests).

    his = ConnectClient("http://127.0.0.1:8080", "demo_dev_sandbox", "demo_secret_sandbox_2026")
    patient = his.resolve_patient(first_name="Marie", last_name="Fouda", date_of_birth="1990-07-22")
    his.grant_consent(patient["health_id"])
    his.push_lab_result({"health_id": patient["health_id"], "external_lab_order_id": "LAB-1", ...}, "lab-LAB-1")
    health_id = his.canonical_health_id(stored_health_id)  # an ID merged into another patient: use the survivor's

Its tests (test_his_client.py) run it against the sandbox's pytest fixtures.
"""

from __future__ import annotations

import hashlib
import json
import time

import requests
from webhook_receiver import verify_signature  # the receiver docs/webhooks.md shows: one signature check, not two

API = "/api/v1/connect"
SIGNATURE_HEADER = "X-OpesCare-Signature"
EXPIRY_MARGIN = 60  # seconds: fetch a new token this long before the current one expires
MAX_ATTEMPTS = 5  # per call: a 429 waits Retry-After, a 5xx backs off (0.5 s, 1 s, 2 s, ...), then we give up
FIRST_BACKOFF = 0.5
# Only what our calls need (least privilege): records, lab results included. Resolve, consent and pushes need none.
SCOPES = "patient:diagnostics:read lab:results:read"


class ConnectError(Exception):
    """An OpesCare error answer: HTTP status, `error` code and the whole envelope."""

    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body
        self.error = body.get("error") if isinstance(body, dict) else None
        super().__init__(f"{status} {self.error}: {body.get('message') if isinstance(body, dict) else body}")


class ConnectClient:
    """OpesCare Connect for one HIS: client-credentials token (renewed when it expires), then the calls we use."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, timeout: float = 10.0,
                 session: requests.Session | None = None, scopes: str = SCOPES):
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret, self.timeout, self.scopes = client_id, client_secret, timeout, scopes
        self.http = session or requests.Session()
        self._token: str | None = None
        self._token_until = 0.0
        self.merged_ids: dict[str, str] = {}  # old Health ID -> the survivor's, as OpesCare told us

    # -- auth ---------------------------------------------------------------------------------
    def token(self) -> str:
        if self._token is None or time.monotonic() >= self._token_until:
            body = self._send("POST", "/auth/token", authenticated=False, json={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret,
                "scope": self.scopes})
            self._token = body["access_token"]
            self._token_until = time.monotonic() + body["expires_in"] - EXPIRY_MARGIN
        return self._token

    # -- patients, consent, records ---------------------------------------------------------------
    def resolve_patient(self, health_id: str | None = None, purpose: str = "his_registration",
                        external_reference: str | None = None, **demographics) -> dict:
        """The patient's Health ID: found by `health_id` or demographics, or registered now (status "created").

        `purpose` and `external_reference` (our own patient id) go to OpesCare's audit trail: always send them.
        A 409 multiple_patient_matches raises ConnectError: a person must choose, never this code.
        """
        body = {"health_id": health_id, **demographics} if health_id else dict(demographics)
        body.update({"purpose": purpose, "external_reference": external_reference or _local_id(body)})
        return self._send("POST", "/patients/resolve", json=body)

    def verify_health_id(self, health_id: str) -> dict:
        return self._send("GET", f"/patients/verify/{health_id}")

    def canonical_health_id(self, health_id: str) -> str:
        """The ID to store: a merged patient's old ID verifies with `resolved_via_alias` and the survivor's ID.

        A HIS that keeps the old ID still gets answers (OpesCare follows the alias), but about a record whose
        canonical ID it does not know; replace it, and remember the mapping for records stored elsewhere.
        """
        answer = self.verify_health_id(health_id)
        if answer.get("resolved_via_alias"):
            self.merged_ids[answer["queried_health_id"]] = answer["health_id"]
        return answer["health_id"]

    def consent(self, health_id: str) -> dict:
        return self._send("GET", f"/patient/{health_id}/consent")

    def grant_consent(self, health_id: str, consent_type: str = "full_record", expires_at: str | None = None) -> dict:
        return self._send("POST", f"/patient/{health_id}/consent/grant",
                          json={"consent_type": consent_type, "expires_at": expires_at})

    def records(self, health_id: str, record_type: str = "all") -> dict:
        return self._send("GET", f"/patient/{health_id}/records", params={"type": record_type})

    def push_lab_result(self, result: dict, idempotency_key: str) -> dict:
        """Push one lab result. Retrying with the same key and body is safe: the sandbox answers the first result."""
        return self._send("POST", "/records/lab-results", json=result, headers={"Idempotency-Key": idempotency_key})

    # -- webhooks -------------------------------------------------------------------------------------
    def subscribe(self, callback_url: str, events: list[str], description: str = "HIS integration") -> dict:
        """A new subscription; keep its `webhook_secret` (shown only here) to verify deliveries."""
        return self._send("POST", "/webhooks/subscriptions", json={
            "callback_url": callback_url, "subscribed_events": events, "description": description})

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, method: str, path: str, authenticated: bool = True, headers: dict | None = None, **kwargs) -> dict:
        """One call, as production wants it retried: a new token once after token_expired, Retry-After after a
        429, growing gaps after a 5xx, and an error (ConnectError) for everything else, consent refusals included."""
        renewed, backoff = False, FIRST_BACKOFF
        for attempt in range(1, MAX_ATTEMPTS + 1):
            sent = dict(headers or {})
            if authenticated:
                sent["Authorization"] = f"Bearer {self.token()}"
            response = self.http.request(method, self.base_url + API + path, headers=sent, timeout=self.timeout,
                                         **kwargs)
            body = _json(response)
            last = attempt == MAX_ATTEMPTS
            if response.status_code == 401 and authenticated and not renewed and body.get("error") == "token_expired":
                self._token, renewed = None, True  # expired earlier than we thought (the server's clock): once more
                continue
            if response.status_code == 429 and not last:
                time.sleep(float(response.headers.get("Retry-After") or 1))
                continue
            if response.status_code >= 500 and not last:
                time.sleep(backoff)
                backoff *= 2
                continue
            if response.status_code >= 400:
                raise ConnectError(response.status_code, body)
            return body
        raise ConnectError(response.status_code, body)


def _local_id(body: dict) -> str:
    """A stand-in for the HIS's own patient id when the caller has none to give (stable for the same patient)."""
    return "HIS-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]


def _json(response) -> dict:
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}


def verify_webhook(secrets: str | list[str], headers, body: bytes) -> bool:
    """True if a delivery's X-OpesCare-Signature signs exactly `body` (the raw bytes, before any parsing).

    During a secret rotation pass both secrets (new and old): the header then carries one v1= per secret, and
    whichever of ours matches any of them will do. Drop the old secret once the grace window is over.
    """
    header = headers.get(SIGNATURE_HEADER, "")
    return any(verify_signature(secret, header, body) for secret in ([secrets] if isinstance(secrets, str) else secrets))
