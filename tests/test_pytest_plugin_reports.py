"""The plugin's failure reports, journal assertions, scopes and delivery report, as a vendor's suite sees them."""

from __future__ import annotations

import pytest

from opescare_sandbox.testing_journal import assert_requested

pytest_plugins = ["pytester"]

RESOLVE = "/api/v1/connect/patients/resolve"
MARIE = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"}
SECTION = "*OpesCare Sandbox: this test's requests, events and deliveries*"


def run(pytester, source: str, *args: str):
    pytester.makepyfile(test_vendor=f"RESOLVE = {RESOLVE!r}\nMARIE = {MARIE!r}\n" + source)
    return pytester.runpytest_inprocess("--strict-markers", "-p", "no:cacheprovider", *args)


def test_a_failed_test_reports_its_requests_with_both_bodies(pytester):
    result = run(pytester, """
def test_wrong_expectation(sandbox):
    token = sandbox.post("/api/v1/connect/auth/token", auth=False, json={"grant_type": "client_credentials",
                         "client_id": sandbox.client_id, "client_secret": sandbox.client_secret})
    assert token.status_code == 200
    assert sandbox.post(RESOLVE, json={"first_name": "Marie"}).status_code == 201
""")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*assert 422 == 201*",
        SECTION,
        "tenant default: 2 requests, 0 events",
        "  POST /api/v1/connect/auth/token -> 200 (* ms)",
        '      request : {"grant_type":"client_credentials","client_id":"demo_dev_sandbox","client_secret":"[[]redacted]"}',
        '      response: {"access_token":"[[]redacted]",*',
        "  POST /api/v1/connect/patients/resolve -> 422 (* ms)",
        '      request : {"first_name": "Marie"}',
        '      response: {"error":"missing_lookup_criteria",*"missing":[[]"last_name","date_of_birth"]}',
    ])
    assert "demo_secret_sandbox_2026" not in result.stdout.str()  # the journal's redaction holds in the report


def test_the_report_shows_events_and_their_deliveries_and_only_for_failed_sandbox_tests(pytester):
    result = run(pytester, """
import requests

def test_fails_after_an_event(sandbox_server, sandbox_webhooks):
    requests.post(sandbox_server.url + RESOLVE, json=MARIE, headers=sandbox_server.headers(), timeout=10)
    sandbox_webhooks.wait_for("patient.created")
    sandbox_server.deliveries()
    assert False, "the vendor's check"

def test_passes(sandbox):
    assert sandbox.post(RESOLVE, json=MARIE).status_code == 201

def test_fails_without_the_sandbox():
    assert 1 == 2
""")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines([
        "*the vendor's check*", SECTION, "tenant default: 1 request, 2 events",
        "  POST /api/v1/connect/patients/resolve -> 201 (* ms)",
        "  event evt_* patient.created at *: data {\"health_id\":*",
        "      delivery to http://127.0.0.1:*/opescare/webhooks/*: delivered, 1 attempt (last: 204, * ms)",
        "  event evt_* health_id.created at *",
        "      delivery to *: delivered, 1 attempt*",
    ])
    assert result.stdout.str().count("OpesCare Sandbox: this test's") == 1  # not for the passing or sandbox-less test


def test_requests_lists_the_tests_journal_oldest_first_with_filters(sandbox):
    sandbox.post(RESOLVE, json=MARIE)
    sandbox.get("/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1")
    sandbox.post(RESOLVE, json={"first_name": "Marie"})
    assert [(r["method"], r["status"]) for r in sandbox.requests()] == [("POST", 201), ("GET", 200), ("POST", 422)]
    assert [r["status"] for r in sandbox.requests(method="post", path=RESOLVE)] == [201, 422]
    assert [r["method"] for r in sandbox.requests(path="/api/v1/connect/patients/*", status=200)] == ["GET"]
    assert sandbox.requests(path="/api/v1/connect/patients") == []  # exact unless it ends with *


def test_a_path_with_a_query_matches_the_query_too(sandbox):
    records = "/api/v1/connect/patient/OPC-2024-DEMO1/records"
    sandbox.get(records, query_string={"type": "diagnoses"})
    assert len(sandbox.assert_requested("GET", records)) == 1
    assert len(sandbox.assert_requested("GET", records + "?type=diagnoses")) == 1
    assert len(sandbox.assert_requested("GET", records + "?type=*")) == 1
    sandbox.assert_requested("GET", records + "?type=lab_results", times=0)


def test_assert_requested_passes_and_returns_the_matches(sandbox):
    sandbox.post(RESOLVE, json=MARIE)
    sandbox.post(RESOLVE, json=MARIE)
    [first, second] = sandbox.assert_requested("POST", RESOLVE, times=2, json=MARIE)
    assert (first["status"], second["status"]) == (201, 200)  # created, then found
    assert len(sandbox.assert_requested("post", RESOLVE)) == 2  # times=None: at least once
    sandbox.assert_requested("GET", RESOLVE, times=0)


ENTRIES = [
    {"method": "POST", "path": RESOLVE, "query": "", "status": 201, "request_body": '{"first_name": "Marie"}'},
    {"method": "GET", "path": RESOLVE, "query": "", "status": 405, "request_body": None},
    {"method": "POST", "path": "/api/v1/connect/patients/resolved", "query": "", "status": 404, "request_body": "{}"},
    {"method": "GET", "path": "/sandbox/clock", "query": "a=1", "status": 200, "request_body": None},
]


@pytest.mark.parametrize("call, message", [
    (dict(method="POST", path=RESOLVE, json={"first_name": "Paul"}),
     f"expected POST {RESOLVE} with json={{\"first_name\":\"Paul\"}} at least once, it was requested 0 times "
     f"(of 4 requests in this test)\nnear misses:\n"
     f"  POST {RESOLVE} -> 201: json differs: {{\"first_name\": \"Marie\"}}\n"
     f"  GET {RESOLVE} -> 405: method GET, not POST\n"
     f"  POST /api/v1/connect/patients/resolved -> 404: path differs (/api/v1/connect/patients/resolved vs {RESOLVE})"),
    (dict(method="POST", path=RESOLVE, times=2),
     f"expected POST {RESOLVE} 2 times, it was requested 1 time (of 4 requests in this test)\nmatching:\n"
     f"  POST {RESOLVE} -> 201\nnear misses:\n"),
    (dict(method="DELETE", path="/api/v1/connect/webhooks/subscriptions/sub_1"),
     "expected DELETE /api/v1/connect/webhooks/subscriptions/sub_1 at least once, it was requested 0 times "
     "(of 4 requests in this test)\nno request came close; this test sent: POST /api/v1/connect/patients/resolve, "
     "GET /api/v1/connect/patients/resolve, POST /api/v1/connect/patients/resolved, GET /sandbox/clock"),
], ids=["json-differs", "too-few", "nothing-close"])
def test_assert_requested_fails_with_the_near_misses(call, message):
    with pytest.raises(AssertionError) as failed:
        assert_requested(ENTRIES, **call)
    assert str(failed.value).startswith(message)


def test_a_failed_assert_requested_reads_well_in_a_vendors_report(pytester):
    result = run(pytester, """
def test_sent_the_wrong_body(sandbox):
    sandbox.post(RESOLVE, json={**MARIE, "first_name": "Mary"})
    sandbox.assert_requested("POST", RESOLVE, times=1, json=MARIE)
""")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"E       AssertionError: expected POST {RESOLVE} with json=* 1 time, it was requested 0 times (of 1 request*",
        "E       near misses:",
        f'E         POST {RESOLVE} -> 201: json differs: {{"first_name": "Mary", *',
    ])


def test_a_session_or_module_scoped_client_on_sandbox_server_works_and_each_test_is_fresh(pytester):
    result = run(pytester, """
import pytest, requests

@pytest.fixture(scope="session")
def his(sandbox_server):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + sandbox_server.token()
    session.base = sandbox_server.url
    return session

@pytest.fixture(scope="module")
def url(sandbox_server):
    return sandbox_server.url + RESOLVE

@pytest.mark.parametrize("n", [1, 2])
def test_created_every_time(his, url, n):
    assert his.post(url, json=MARIE, timeout=10).status_code == 201  # the world is fresh per test

@pytest.mark.sandbox(scenario="multiple_patient_matches")
def test_a_marker_still_applies(his, sandbox_server):
    assert sandbox_server.scenario["name"] == "multiple_patient_matches"
    assert his.post(his.base + RESOLVE, json=sandbox_server.scenario["input"], timeout=10).status_code == 409
""")
    result.assert_outcomes(passed=3)


def test_deliveries_returns_the_report_of_the_deliveries_control(sandbox_server, sandbox_webhooks):
    import requests

    requests.post(sandbox_server.url + "/sandbox/webhooks/trigger", json={"type": "stock.low"}, timeout=10)
    sandbox_webhooks.wait_for("stock.low")
    report = sandbox_server.deliveries()
    control = requests.get(sandbox_server.url + "/sandbox/webhooks/deliveries", timeout=10).json()
    assert report.json == control and list(report) == control["data"]
    assert [(e["type"], e["deliveries"][0]["status"]) for e in report] == [("stock.low", "delivered")]
    assert (report.run["attempted"], report.run["pending"]) == ([], 0)  # what retry-pending answers
    assert sandbox_server.deliveries(flush=False).run is None
