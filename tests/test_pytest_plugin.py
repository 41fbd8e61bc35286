"""The pytest plugin as a vendor's suite sees it (pytester): isolation, one server per session, marker, options."""

from __future__ import annotations

import re

import pytest
import requests

from opescare_sandbox.testing import LiveServer

pytest_plugins = ["pytester"]

RESOLVE = "/api/v1/connect/patients/resolve"
MARIE = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"}


def run(pytester, source: str, *args: str):
    pytester.makepyfile(test_vendor=f"RESOLVE = {RESOLVE!r}\nMARIE = {MARIE!r}\n" + source)
    return pytester.runpytest_inprocess("--strict-markers", "-p", "no:cacheprovider", *args)


def test_each_test_gets_a_fresh_world_journal_clock_and_tenants(pytester):
    result = run(pytester, """
import pytest

@pytest.mark.parametrize("n", [1, 2])
def test_first_write_wins_every_time(sandbox, n):
    assert sandbox.post(RESOLVE, json=MARIE).status_code == 201  # not 200: the last test's patient is gone
    assert sandbox.post("/sandbox/snapshots", json={"name": "mine"}).status_code == 201  # 'replaced' would be true
    assert sandbox.get("/sandbox/requests").json["count"] == 2
    assert abs(sandbox.get("/sandbox/clock").json["offset_seconds"]) < 5
    sandbox.advance_clock(86400 * 30)
    other = sandbox.post(RESOLVE, json=MARIE, headers={"X-Sandbox-Tenant": "ci-job-2"})
    assert other.status_code == 201
    assert "ci-job-2" in sandbox.get("/sandbox/health").json["tenants"]

def test_nothing_leaks_into_a_later_test(sandbox):
    assert sandbox.get("/sandbox/health").json["tenants"] == ["default"]
    assert sandbox.get("/sandbox/snapshots").json["data"] == []
""")
    result.assert_outcomes(passed=3)


def test_sandbox_server_starts_once_per_session_and_stops_at_its_end(pytester):
    before = LiveServer.starts
    result = run(pytester, """
import pytest, requests

seen = []

@pytest.mark.parametrize("n", range(3))
def test_a_request_over_http(sandbox_server, n):
    created = requests.post(sandbox_server.url + RESOLVE, json=MARIE, headers=sandbox_server.headers(), timeout=10)
    assert created.status_code == 201  # the server's default tenant is reset for each test
    seen.append(sandbox_server.url)

def test_the_same_server_served_every_test(sandbox_server):
    assert len(seen) == 3 and set(seen) == {sandbox_server.url}
    print("SERVER_URL=" + sandbox_server.url)
""", "-s")
    result.assert_outcomes(passed=4)
    assert LiveServer.starts - before == 1
    url = re.search(r"SERVER_URL=(\S+)", result.stdout.str()).group(1)
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/sandbox/health", timeout=2)


def test_both_fixtures_share_one_world(pytester):
    result = run(pytester, """
import requests

def test_in_process_sees_what_http_did(sandbox_server, sandbox):
    created = requests.post(sandbox_server.url + RESOLVE, json=MARIE, headers=sandbox_server.headers(), timeout=10)
    assert sandbox.post(RESOLVE, json=MARIE).json["health_id"] == created.json()["health_id"]
    assert sandbox.post(RESOLVE, json=MARIE).json["status"] == "found"
""")
    result.assert_outcomes(passed=1)


def test_marker_and_options_choose_the_world(pytester):
    source = """
import pytest

def test_options_or_defaults(sandbox):
    assert (sandbox.world.meta["seed"], sandbox.world.meta["patients"]) == EXPECTED

@pytest.mark.sandbox(seed=7, patients=5)
def test_marker_wins(sandbox):
    assert (sandbox.world.meta["seed"], sandbox.world.meta["patients"]) == (7, 5)
    assert len(sandbox.world["patients"].all()) < 20  # 5 per population plus the curated patients

@pytest.mark.sandbox(seed=7, patients=5)
def test_marker_applies_to_the_server_too(sandbox_server):
    assert sandbox_server.world.meta["seed"] == 7
"""
    run(pytester, "EXPECTED = (42, 200)\n" + source).assert_outcomes(passed=3)
    options = ("--sandbox-seed", "9", "--sandbox-patients", "3")
    run(pytester, "EXPECTED = (9, 3)\n" + source, *options).assert_outcomes(passed=3)


def test_rate_limiting_is_off_unless_a_test_asks(pytester):
    result = run(pytester, """
import pytest

VERIFY = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"

def test_off_by_default(sandbox):
    assert all(sandbox.get(VERIFY).status_code == 200 for _ in range(250))  # over the server's 200 a minute
    assert "X-RateLimit-Limit" not in sandbox.get(VERIFY).headers

@pytest.mark.sandbox(rate_limit=2)
def test_a_limit_per_minute(sandbox):
    assert [sandbox.get(VERIFY).status_code for _ in range(3)] == [200, 200, 429]

@pytest.mark.sandbox(rate_limit=True)
def test_the_servers_limit_with_a_fresh_budget(sandbox):
    response = sandbox.get(VERIFY)
    assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == ("200", "199")
""")
    result.assert_outcomes(passed=3)


def test_a_scenario_is_exposed_from_the_catalogue(pytester):
    result = run(pytester, """
import pytest

@pytest.mark.sandbox(scenario="out_of_stock_facility")
def test_scenario_entry(sandbox):
    catalogue = {s["name"]: s for s in sandbox.get("/sandbox/scenarios").json["data"]}
    assert sandbox.scenario == catalogue["out_of_stock_facility"]

def test_no_scenario(sandbox):
    assert sandbox.scenario is None
""")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("arguments, message", [
    ('scenario="no_such_thing"', "unknown scenario 'no_such_thing'; the catalogue (GET /sandbox/scenarios) has "
                                 "multiple_patient_matches, consent_expiring"),
    ("seeds=3", "unknown argument(s) seeds; use seed, patients, scenario, rate_limit"),
    ("seed=-1", "seed must be a non-negative integer, not -1"),
    ('patients="many"', "patients must be a non-negative integer, not 'many'"),
    ("rate_limit=0", "rate_limit must be True, False or a positive integer, not 0"),
    ("7", "takes keyword arguments only"),
])
def test_a_bad_marker_is_a_clear_setup_error(pytester, arguments, message):
    result = run(pytester, f"""
import pytest

@pytest.mark.sandbox({arguments})
def test_it(sandbox):
    pass
""")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.sandbox*{message}*"])


def test_a_failing_vendor_test_fails(pytester):
    result = run(pytester, """
import requests

def test_wrong_expectation(sandbox):
    assert sandbox.post(RESOLVE, json=MARIE).status_code == 200

def test_error_in_code_under_test(sandbox_server):
    requests.get(sandbox_server.url + "/api/v1/connect/patients/verify/X", timeout=10).raise_for_status()
""")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*assert 201 == 200*", "*HTTPError: 401*"])
