"""Armed faults (/sandbox/faults): the next N matching requests of a tenant meet a status, a delay or a drop."""

from __future__ import annotations

import http.client
import threading
import time

import pytest
import requests
from marshmallow import ValidationError
from werkzeug.serving import make_server

from opescare_sandbox.runtime.faults import path_pattern

from .conftest import DEMO_CLIENT
from .live_server import LiveServer
from .test_resolve import CASE_A, MARIE_ID, URL, without_audit

FAULTS = "/sandbox/faults"


def arm(client, **spec):
    response = client.post(FAULTS, json=spec)
    assert response.status_code == 201, response.json
    return response.json


def test_an_armed_503_meets_the_next_two_resolves_then_the_real_answer(client, auth, world):
    arm(client, method="POST", path=URL, times=2, status=503)
    before = without_audit(world)
    for _ in range(2):
        response = client.post(URL, json=CASE_A, headers=auth)
        assert response.status_code == 503
        assert response.json["error"] == "service_unavailable" and response.json["status"] == 503
        assert response.headers["Retry-After"] == "1"
    assert without_audit(world) == before  # the two faulted calls created nobody
    response = client.post(URL, json=CASE_A, headers=auth)
    assert (response.status_code, response.json["health_id"]) == (201, MARIE_ID)


def test_faults_are_listed_with_what_fired_and_marked_in_the_journal(client, auth):
    fault = arm(client, method="GET", path="/api/v1/connect/patients/verify/*", times=1, status=404)
    assert client.get("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1", headers=auth).status_code == 404
    assert client.get("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1", headers=auth).status_code == 200
    listed = client.get(FAULTS).json["data"]
    assert [(f["fault_id"], f["remaining"], len(f["fired"])) for f in listed] == [(fault["fault_id"], 0, 1)]
    assert listed[0]["fired"][0]["client_id"] == "demo_dev_sandbox"
    journal = client.get("/sandbox/requests", query_string={"path": "/api/v1/connect/patients/verify"}).json["data"]
    assert [entry.get("fault") for entry in journal] == [None, {"fault_id": fault["fault_id"], "kind": "status"}]
    assert client.delete(FAULTS).status_code == 204
    assert client.get(FAULTS).json["data"] == []


def test_faults_apply_after_authentication(client, auth):
    arm(client, path=URL, times=1, status=503)
    assert client.post(URL, json=CASE_A).status_code == 401  # no token: authentication answers first
    assert client.post(URL, json=CASE_A, headers=auth).status_code == 503  # the fault was still armed


def test_a_client_id_fault_spares_other_clients_and_other_tenants(client, auth, get_token):
    arm(client, path=URL, client_id="opeshisos_production", times=1, status=500)
    assert client.post(URL, json=CASE_A, headers=auth).status_code == 201
    arm(client, path=URL, times=1, status=500)
    other = {"Authorization": f"Bearer {get_token(tenant='other')}", "X-Sandbox-Tenant": "other"}
    assert client.post(URL, json=CASE_A, headers=other).status_code == 201
    assert client.post(URL, json=CASE_A, headers=auth).status_code == 500


def test_a_delay_fault_waits_then_answers_normally(client, auth):
    arm(client, path=URL, delay_ms=150)
    started = time.monotonic()
    assert client.post(URL, json=CASE_A, headers=auth).status_code == 201
    assert time.monotonic() - started >= 0.15


def test_a_drop_fault_raises_connection_error_in_process(client, auth, world):
    arm(client, path=URL, drop=True)
    before = without_audit(world)
    with pytest.raises(ConnectionError):
        client.post(URL, json=CASE_A, headers=auth)
    assert without_audit(world) == before
    assert client.post(URL, json=CASE_A, headers=auth).status_code == 201
    entry = client.get("/sandbox/requests", query_string={"path": URL}).json["data"][-1]
    assert (entry["status"], entry["fault"]["kind"]) == (499, "drop")


def test_a_drop_fault_closes_a_real_connection_without_an_answer(app, auth):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        assert requests.post(url + FAULTS, json={"path": URL, "drop": True}, timeout=10).status_code == 201
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("POST", URL, body=b"{}", headers={**auth, "Content-Type": "application/json"})
        with pytest.raises(http.client.RemoteDisconnected):
            connection.getresponse()
        connection.close()
        assert requests.post(url + URL, json=CASE_A, headers=auth, timeout=10).status_code == 201
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_an_openeyes_fault_answers_openeyes_own_body(client):
    arm(client, path="/api/v1/patient/search", status=401)
    response = client.get("/api/v1/patient/search", query_string={"term": "Smith"}, auth=("api_user", "password"))
    assert (response.status_code, response.json) == (401, "401 Unauthorized")


@pytest.mark.parametrize("spec", [
    {"path": URL}, {"path": URL, "status": 503, "drop": True}, {"path": URL, "status": 200},
    {"path": "/sandbox/reset", "status": 503}, {"path": URL, "status": 503, "times": 0},
    {"path": URL, "delay_ms": 10_001}, {"path": URL, "drop": False}, {"path": URL, "status": 503, "method": "FETCH"},
])
def test_bad_fault_specs_are_400(client, spec):
    response = client.post(FAULTS, json=spec)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("pattern,path,matches", [
    ("/api/v1/connect/patient/*/records", "/api/v1/connect/patient/CM-HID-7KQ9-MP42-X8D1/records", True),
    ("/api/v1/connect/patient/*/records", "/api/v1/connect/patient/a/b/records", False),
    ("/api/v1/connect/patients/resolve", "/api/v1/connect/patients/resolve/", True),
    ("/api/v1/connect/patients/resolve", "/api/v1/connect/patients/resolver", False),
    ("/api/v1/connect/patient.search", "/api/v1/connect/patientXsearch", False),
])
def test_path_patterns(pattern, path, matches):
    assert bool(path_pattern(pattern).fullmatch(path)) is matches


def test_a_drop_fault_cuts_a_granian_connection_before_any_body():
    with LiveServer(None) as server:
        token = requests.post(server.url + "/api/v1/connect/auth/token", timeout=10,
                              json={"grant_type": "client_credentials", **DEMO_CLIENT}).json()["access_token"]
        assert requests.post(server.url + FAULTS, json={"path": URL, "drop": True}, timeout=10).status_code == 201
        # granian gives the app no socket: the status line may go out, the body never does (api/faults.py).
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            requests.post(server.url + URL, json=CASE_A, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        response = requests.post(server.url + URL, json=CASE_A, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 201


def test_the_sandbox_fixture_fail_next_arms_a_fault_for_unchanged_code(sandbox):
    fault = sandbox.fail_next("/api/v1/connect/patients/verify/*", status=503, times=2, method="GET")
    verify = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"
    assert [sandbox.get(verify).status_code for _ in range(3)] == [503, 503, 200]
    assert (fault["remaining"], sandbox.requests(status=503)[0]["fault"]["fault_id"]) == (2, fault["fault_id"])
    sandbox.fail_next(URL, drop=True)
    with pytest.raises(ConnectionError):
        sandbox.post(URL, json=CASE_A)


def test_the_sandbox_fixture_fail_next_refuses_a_bad_fault(sandbox):
    with pytest.raises(ValidationError, match="exactly one"):
        sandbox.fail_next(URL)


def test_a_tenant_holds_at_most_100_faults(client):
    for _ in range(100):
        arm(client, path=URL, status=503)
    response = client.post(FAULTS, json={"path": URL, "status": 503})
    assert (response.status_code, response.json["error"]) == (422, "validation_failed")
    client.delete(FAULTS)
    arm(client, path=URL, status=503)


def test_a_fault_may_name_a_documented_error_of_its_status(client, auth):
    arm(client, path="/api/v1/connect/patient/*/records", status=403, error="consent_required")
    answer = client.get("/api/v1/connect/patient/OPC-2024-DEMO1/records", headers=auth)
    assert (answer.status_code, answer.json["error"], answer.json["required_action"]) == (
        403, "consent_required", "request_consent")
    wrong = client.post(FAULTS, json={"path": URL, "status": 503, "error": "consent_required"})
    assert (wrong.status_code, wrong.json["error"]) == (400, "invalid_request")


def test_two_stars_match_any_number_of_segments():
    assert path_pattern("/api/v1/connect/**").fullmatch("/api/v1/connect/patient/OPC-2024-DEMO1/records")
    assert not path_pattern("/api/v1/connect/**").fullmatch("/api/v1/patient/search")
