"""Each integration-report check on hand-made exchanges: what passes, what fails, what is not exercised."""

from __future__ import annotations

import pytest

from opescare_sandbox.runtime import grading
from opescare_sandbox.runtime.exchanges import Exchange, ExchangeLog

pytest_plugins = ["pytester"]

TOKEN, RESOLVE, PUSH = grading.TOKEN_ROUTE, grading.RESOLVE_ROUTE, grading.PUSH_ROUTES[1]
RECORDS, GRANT = grading.RECORDS_ROUTE, grading.GRANT_ROUTE
_ids = iter(range(1, 100000))


def x(route: str, at_ms: float = 0, status: int = 200, method: str = "POST", **fields) -> Exchange:
    return Exchange(id=f"req_{next(_ids):06d}", at_ms=at_ms, at="2026-11-30T10:00:00Z", method=method, path=route,
                    route=route, status=status, **fields)


def token(at_ms=0, jti="t1", now=0.0, exp=3600.0, scopes=("patient:profile:read",)):
    return x(TOKEN, at_ms, issued={"jti": jti, "exp": exp, "scopes": list(scopes)}, now=now)


def call(route=RESOLVE, at_ms=0, status=200, jti="t1", **fields):
    return x(route, at_ms, status, jti=jti, **fields)


def status_of(check, exchanges, deliveries=()):
    return check(list(exchanges), list(deliveries)).status


def test_token_reuse():
    reused = [token(), call(), call(), call()]
    per_call = [token(jti="a"), call(jti="a"), token(jti="b", now=5), call(jti="b"), token(jti="c", now=9), call(jti="c")]
    assert status_of(grading.token_reuse, reused) == "pass"
    assert status_of(grading.token_reuse, per_call) == "fail"
    assert status_of(grading.token_reuse, [token(), call()]) == "not_exercised"


def test_token_refresh():
    good = [token(jti="a"), call(status=401, jti="a", error="token_expired"), token(jti="b"), call(jti="b")]
    loop = [token(jti="a"), *[call(status=401, jti="a", error="token_expired") for _ in range(3)]]
    assert status_of(grading.token_refresh, good) == "pass"
    assert status_of(grading.token_refresh, loop) == "fail"
    assert status_of(grading.token_refresh, [token(), call()]) == "not_exercised"


def test_retry_after():
    waited = [call(at_ms=0, status=429, retry_after=1), call(at_ms=1200)]
    hurried = [call(at_ms=0, status=429, retry_after=1), call(at_ms=300)]
    other_endpoint = [call(at_ms=0, status=429, retry_after=1), call(PUSH, at_ms=300)]
    assert status_of(grading.retry_after, waited) == "pass"
    assert status_of(grading.retry_after, hurried) == "fail"
    assert status_of(grading.retry_after, other_endpoint) == "pass"
    assert status_of(grading.retry_after, [call()]) == "not_exercised"


@pytest.mark.parametrize("gaps,expected", [
    ([500, 1000, 2000], "pass"),        # 503, 503, 503, then 200 after growing gaps
    ([10, 1000], "fail"),               # retried at once
    ([1000, 500, 2000], "fail"),        # a gap shrank
])
def test_backoff_on_5xx(gaps, expected):
    at, run = 0, [call(at_ms=0, status=503)]
    for n, gap in enumerate(gaps):
        at += gap
        run.append(call(at_ms=at, status=200 if n == len(gaps) - 1 else 503))
    assert status_of(grading.backoff_on_5xx, run) == expected


def test_backoff_gives_up():
    endless = [call(at_ms=1000 * 2 ** n, status=503) for n in range(10)]
    assert status_of(grading.backoff_on_5xx, endless) == "fail"
    assert status_of(grading.backoff_on_5xx, [call()]) == "not_exercised"


def test_idempotency_keys():
    retried = [call(PUSH, idempotency_key="k1", body_sha256="b1"), call(PUSH, idempotency_key="k1", body_sha256="b1")]
    rekeyed = [call(PUSH, idempotency_key="k1", body_sha256="b1"), call(PUSH, idempotency_key="k2", body_sha256="b1")]
    assert status_of(grading.idempotency_keys, retried) == "pass"
    assert status_of(grading.idempotency_keys, rekeyed) == "fail"
    assert status_of(grading.idempotency_keys, [call(PUSH, body_sha256="b1")]) == "fail"
    assert status_of(grading.idempotency_keys, [call()]) == "not_exercised"


def test_resolve_before_push():
    resolved = [call(RESOLVE, details={"resolved": "CM-1"}), call(PUSH, health_id="CM-1")]
    assert status_of(grading.resolve_before_push, resolved) == "pass"
    assert status_of(grading.resolve_before_push, [call(PUSH, health_id="CM-1")]) == "fail"
    assert status_of(grading.resolve_before_push, [call()]) == "not_exercised"


def test_consent_handling():
    refused = call(RECORDS, status=403, error="consent_required", health_id="H", method="GET")
    granted = [refused, call(GRANT, status=201, health_id="H"), call(RECORDS, health_id="H", method="GET")]
    retried = [refused, call(RECORDS, status=403, health_id="H", method="GET")]
    assert status_of(grading.consent_handling, granted) == "pass"
    assert status_of(grading.consent_handling, retried) == "fail"
    assert status_of(grading.consent_handling, [call()]) == "not_exercised"


def test_match_conflict():
    conflict = call(status=409, error="multiple_patient_matches", details={"name": "a|b|1990", "candidates": ["H1", "H2"]})
    assert status_of(grading.match_conflict, [conflict, call(RECORDS, health_id="X", method="GET")]) == "pass"
    assert status_of(grading.match_conflict, [conflict, call(RECORDS, health_id="H1", method="GET")]) == "fail"
    assert status_of(grading.match_conflict, [conflict, call(status=201, details={"name": "a|b|1990"})]) == "fail"
    assert status_of(grading.match_conflict, [call()]) == "not_exercised"


def test_resolve_purpose():
    full = call(details={"purpose": "his_registration", "external_reference": "HIS-1"})
    assert status_of(grading.resolve_purpose, [full]) == "pass"
    assert status_of(grading.resolve_purpose, [full, call(details={"purpose": "x"})]) == "fail"
    assert status_of(grading.resolve_purpose, [call(PUSH)]) == "not_exercised"


def test_least_privilege():
    narrow = call(RECORDS, scopes=("patient:diagnostics:read",), required_scopes=("patient:diagnostics:read",))
    wide = call(RESOLVE, scopes=("patient:diagnostics:read", "pharmacy:stock:read"), required_scopes=())
    assert status_of(grading.least_privilege, [narrow]) == "pass"
    check = grading.least_privilege([narrow, wide], [])
    assert check.status == "fail" and "pharmacy:stock:read" in check.why
    assert status_of(grading.least_privilege, []) == "not_exercised"


def delivery(codes, probe=None, latency=50.0, n=[0]):  # noqa: B006 (a counter)
    n[0] += 1
    return {"delivery_id": f"dlv_{n[0]:06d}", "probe": probe,
            "attempts": [{"status_code": code, "latency_ms": latency} for code in codes]}


def test_webhook_ack():
    assert status_of(grading.webhook_ack, [], [delivery([204])]) == "pass"
    assert status_of(grading.webhook_ack, [], [delivery([500, 204])]) == "fail"
    assert status_of(grading.webhook_ack, [], [delivery([204], latency=12_000)]) == "fail"
    assert status_of(grading.webhook_ack, [], [delivery([400], probe="bad_signature")]) == "not_exercised"


def test_webhook_signature():
    good = delivery([204])
    assert status_of(grading.webhook_signature, [], [good, delivery([400], "bad_signature"),
                                                     delivery([401], "stale_timestamp")]) == "pass"
    assert status_of(grading.webhook_signature, [], [good, delivery([204], "bad_signature")]) == "fail"
    assert status_of(grading.webhook_signature, [], [good]) == "not_exercised"


def test_the_log_is_bounded_per_client_and_names_the_busiest():
    log = ExchangeLog(size=3)
    for _ in range(5):
        log.record("t", "b_client", call())
    log.record("t", "a_client", call())
    assert len(log.of("t", "b_client")) == 3
    assert log.busiest("t") == "b_client"
    log.record("t", "a_client", call())
    log.record("t", "a_client", call())
    assert log.busiest("t") == "a_client"  # a tie of 3 and 3: by name
    log.record("t", None, call())  # no client: nothing to grade
    log.forget("t")
    assert log.busiest("t") is None


# -- through the API and the plugin -------------------------------------------------------------------
MARIE = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22"}


def test_the_report_endpoint_grades_the_busiest_client_and_its_evidence_resolves(client, get_token):
    bearer = {"Authorization": f"Bearer {get_token()}"}
    for _ in range(2):
        client.post("/api/v1/connect/patients/resolve", json=MARIE, headers=bearer)
    body = client.get("/sandbox/report").json
    assert body["client_id"] == "demo_dev_sandbox"
    checks = {c["id"]: c for c in body["checks"]}
    assert [c["id"] for c in body["checks"]] == [check.__name__ for check in grading.CHECKS]
    assert checks["resolve_purpose"]["status"] == "fail" and checks["webhook_ack"]["status"] == "not_exercised"
    assert body["summary"] == {s: sum(c["status"] == s for c in body["checks"]) for s in ("pass", "fail", "not_exercised")}
    journal = {entry["id"] for entry in client.get("/sandbox/requests").json["data"]}
    assert set(checks["resolve_purpose"]["evidence"]) <= journal


def test_an_unknown_client_has_nothing_exercised(client):
    body = client.get("/sandbox/report?client_id=nobody").json
    assert body["summary"] == {"pass": 0, "fail": 0, "not_exercised": len(grading.CHECKS)}


def test_the_plugin_offers_the_report_and_an_assertion_listing_failures(pytester):
    pytester.makepyfile('''
        import pytest

        def test_a_careless_client(sandbox):
            sandbox.post("/api/v1/connect/patients/resolve", json={"first_name": "Marie", "last_name": "Fouda",
                                                                    "date_of_birth": "1990-07-22"})
            assert sandbox.report()["client_id"] == "demo_dev_sandbox"
            sandbox.assert_integration_passes()
    ''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*failing checks*", "*- resolve_purpose: resolved without purpose*"])


def test_the_report_command_prints_a_table_and_fails_ci_on_a_failing_check():
    import subprocess
    import sys

    import requests

    from .live_server import LiveServer

    with LiveServer(None) as server:
        bearer = {"Authorization": f"Bearer {server.token()}"}
        requests.post(server.url + "/api/v1/connect/patients/resolve", json=MARIE, headers=bearer, timeout=10)
        done = subprocess.run([sys.executable, "-m", "opescare_sandbox", "report", "--url", server.url],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert "Integration report of demo_dev_sandbox" in done.stdout
        assert "FAIL  resolve_purpose" in done.stdout and "not exercised" in done.stdout
        clean = subprocess.run([sys.executable, "-m", "opescare_sandbox", "report", "--url", server.url,
                                "--client-id", "nobody"], capture_output=True, text=True, timeout=60)
        assert clean.returncode == 0 and "0 failed" in clean.stdout


def test_a_token_marked_expired_is_refused_as_expired_and_only_it(client, get_token, world):
    import jwt

    from opescare_sandbox.domain import tokens

    marked, other = get_token(), get_token()
    tokens.mark_expired(world, jwt.decode(marked, options={"verify_signature": False})["jti"])
    verify = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"
    answer = client.get(verify, headers={"Authorization": f"Bearer {marked}"})
    assert (answer.status_code, answer.json["error"]) == (401, "token_expired")
    assert client.get(verify, headers={"Authorization": f"Bearer {other}"}).status_code == 200
