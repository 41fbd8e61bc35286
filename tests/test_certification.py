"""A certification run grades two unchanged clients: the example HIS client passes every check, a naive one
fails exactly what it does wrong (a token per call, no idempotency key, instant retries, any signature)."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from his_client import ConnectClient, ConnectError  # noqa: E402

MARIE = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM"}
LAB = {"external_lab_order_id": "LAB-77", "test_name": "Haemoglobin", "loinc_code": "718-7", "result_value": "12.1",
       "unit": "g/dL", "occurred_at": "2026-11-30T08:00:00Z", "source_system": "his-test"}
AMBIGUOUS = "multiple_patient_matches"


def certify(server) -> dict:
    answer = requests.post(server.url + "/sandbox/certification", json={"client_id": "demo_dev_sandbox"}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def statuses(report: dict) -> dict:
    return {check["id"]: check["status"] for check in report["checks"]}


@pytest.mark.sandbox(scenario=AMBIGUOUS)
def test_the_example_his_client_passes_every_check(sandbox_server, sandbox_webhooks):
    his = ConnectClient(sandbox_server.url, sandbox_server.client_id, sandbox_server.client_secret)
    health_id = his.resolve_patient(**MARIE, external_reference="HIS-PAT-00341")["health_id"]
    armed = certify(sandbox_server)
    assert armed["expired_token"] and len(armed["faults"]) == 3 and armed["probes"]

    assert his.resolve_patient(**MARIE, external_reference="HIS-PAT-00341")["status"] == "found"  # 401, 429, 503, 200
    with pytest.raises(ConnectError) as refused:
        his.records(health_id)
    assert refused.value.error == "consent_required"
    his.grant_consent(health_id)
    assert his.records(health_id)["health_id"] == health_id
    his.push_lab_result({**LAB, "health_id": health_id}, idempotency_key="lab-LAB-77")
    with pytest.raises(ConnectError) as ambiguous:
        his.resolve_patient(**sandbox_server.scenario["input"], external_reference="HIS-PAT-00999")
    assert ambiguous.value.status == 409
    sandbox_server.deliveries()  # every delivery and probe attempted and recorded

    report = sandbox_server.report("demo_dev_sandbox")
    assert statuses(report) == {check: "pass" for check in statuses(report)}, report
    evidence = {i for c in report["checks"] for i in c["evidence"]}
    journal = {entry["id"] for entry in requests.get(sandbox_server.url + "/sandbox/requests?limit=1000",
                                                     timeout=10).json()["data"]}
    sent = {d["delivery_id"] for e in sandbox_server.deliveries().json["data"] for d in e["deliveries"]}
    assert evidence and evidence <= journal | sent  # every id cited resolves in the journal or the deliveries log


class AcceptsAnything(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class NaiveClient:
    """What not to ship: a token per call, every scope, instant retries on 429 and 5xx, no idempotency key."""

    def __init__(self, url: str):
        self.url = url + "/api/v1/connect"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        for _ in range(4):
            token = requests.post(self.url + "/auth/token", timeout=10, json={
                "grant_type": "client_credentials", "client_id": "demo_dev_sandbox",
                "client_secret": "demo_secret_sandbox_2026"}).json()["access_token"]
            answer = requests.request(method, self.url + path, headers={"Authorization": f"Bearer {token}"},
                                      timeout=10, **kwargs)
            if answer.status_code != 429 and answer.status_code < 500:
                return answer
        return answer


@pytest.mark.sandbox(scenario=AMBIGUOUS)
def test_a_naive_client_fails_exactly_what_it_does_wrong(sandbox_server):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), AcceptsAnything)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        naive = NaiveClient(sandbox_server.url)
        naive.call("POST", "/webhooks/subscriptions", json={
            "callback_url": f"http://127.0.0.1:{receiver.server_port}/hooks", "subscribed_events": ["patient.created"]})
        resolve = {**MARIE, "purpose": "his_registration", "external_reference": "HIS-PAT-00341"}
        health_id = naive.call("POST", "/patients/resolve", json=resolve).json()["health_id"]
        certify(sandbox_server)
        assert naive.call("POST", "/patients/resolve", json=resolve).status_code == 200  # 429, 503, 200 at once
        assert naive.call("GET", f"/patient/{health_id}/records").status_code == 403
        naive.call("POST", f"/patient/{health_id}/consent/grant", json={})
        assert naive.call("GET", f"/patient/{health_id}/records").status_code == 200
        naive.call("POST", "/records/lab-results", json={**LAB, "health_id": health_id})  # no Idempotency-Key
        ambiguous = {**sandbox_server.scenario["input"], "purpose": "his_registration", "external_reference": "X"}
        assert naive.call("POST", "/patients/resolve", json=ambiguous).status_code == 409
        sandbox_server.deliveries()
    finally:
        receiver.shutdown()
    assert statuses(sandbox_server.report("demo_dev_sandbox")) == {
        "token_reuse": "fail", "token_refresh": "not_exercised", "retry_after": "fail", "backoff_on_5xx": "fail",
        "idempotency_keys": "fail", "resolve_before_push": "pass", "consent_handling": "pass",
        "match_conflict": "pass", "resolve_purpose": "pass", "least_privilege": "fail", "webhook_ack": "pass",
        "webhook_signature": "fail"}
