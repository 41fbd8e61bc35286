"""Property-based API testing: schemathesis generates requests for every operation of the committed openapi.yaml.

The app runs in-process (WSGI). Every generated request carries valid credentials for the operation's
security (the demo client's bearer token, OpenEyes Basic `api_user:password`), so generation gets past
authentication and reaches the parsing and business rules. Checks: no 5xx, and every response's status
code, content type, headers and body conform to what openapi.yaml documents for that operation.

Deterministic: hypothesis is derandomized (a fixed seed) with its example database off, and each
operation gets a bounded number of examples.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opescare_sandbox import create_app

from .conftest import DEMO_CLIENT
from .reliability_report import count

OPENAPI = Path(__file__).resolve().parent.parent / "openapi.yaml"
MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
OPENEYES_BASIC = "Basic " + base64.b64encode(b"api_user:password").decode()
# A reset builds a template world of `patients` people: keep generated sizes small so the run stays fast.
MAX_RESET_PATIENTS = 50

schema = schemathesis.openapi.from_path(OPENAPI)


@pytest.fixture(scope="module")
def fuzz_app():
    # Webhook delivery off: generated subscriptions point at arbitrary URLs; nothing may be sent or waited for.
    app = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "WEBHOOK_DELIVERY": False})
    yield app
    app.extensions["opescare_sandbox"].extras["webhooks"].close()


def credentials(app, case) -> dict[str, str]:
    """The Authorization header the operation's security asks for (a token minted now: the clock may move)."""
    security = case.operation.definition.raw.get("security") or []
    schemes = {name for requirement in security for name in requirement}
    if "openEyesBasic" in schemes:
        return {"Authorization": OPENEYES_BASIC}
    if "bearerAuth" in schemes:
        answer = app.test_client().post("/api/v1/connect/auth/token",
                                        json={"grant_type": "client_credentials", **DEMO_CLIENT})
        return {"Authorization": f"Bearer {answer.json['access_token']}"}
    return {}


def bounded(case) -> None:
    if case.path == "/sandbox/reset" and isinstance(case.body, dict):
        patients = case.body.get("patients")
        if isinstance(patients, int) and not isinstance(patients, bool) and patients > MAX_RESET_PATIENTS:
            case.body["patients"] = patients % (MAX_RESET_PATIENTS + 1)


def assert_documented_status(case, response) -> None:
    """Stricter than status_code_conformance, which any code passes through the `default` response."""
    if case.method.upper() != case.operation.method.upper():
        # The coverage phase also tries methods the path does not have: 405 in the envelope (OPTIONS: CORS, 200).
        assert response.status_code in (200, 405) if case.method.upper() == "OPTIONS" else response.status_code == 405
        return
    documented = set(case.operation.definition.raw["responses"]) - {"default"}
    reached.setdefault(case.operation.label, set()).add(str(response.status_code))
    assert str(response.status_code) in documented, (
        f"{case.operation.label} answered {response.status_code}, not one of {sorted(documented)}: {response.text[:300]}")


reached: dict[str, set[str]] = {}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_response_conforms_to_openapi(case, fuzz_app):
    bounded(case)
    response = case.call(app=fuzz_app, headers=credentials(fuzz_app, case))
    count("schemathesis cases generated")
    case.validate_response(response, checks=CHECKS)
    assert_documented_status(case, response)


def example_case(operation):
    """A case with the documented example of every path parameter (and no body or query)."""
    parameters = operation.definition.raw.get("parameters", []) + schema.raw_schema["paths"][operation.path].get(
        "parameters", [])
    path = {p["name"]: p.get("example", "x") for p in parameters if p.get("in") == "path"}
    return operation.Case(path_parameters=path or None, media_type=None)


AUTH_FAILURES = {
    "no credentials": ({}, "401"),
    "a client without scopes": (None, "403"),  # minted in the test
    "wrong OpenEyes password": ({"Authorization": "Basic " + base64.b64encode(b"api_user:nope").decode()}, "401"),
    "OpenEyes user without the role": ({"Authorization": "Basic " + base64.b64encode(b"viewer:viewer").decode()},
                                       "403"),
}


@pytest.mark.parametrize("failure", list(AUTH_FAILURES))
def test_every_documented_auth_failure_is_reachable(fuzz_app, failure):
    """Generation always sends good credentials; here each documented 401/403 is produced and checked."""
    headers, status = AUTH_FAILURES[failure]
    if headers is None:
        fuzz_app.test_client().post("/sandbox/clients", json={
            "client_id": "no_scopes", "client_secret": "no_scopes_secret", "scopes": [],
            "facility_id": "00000000-0000-0000-0000-100000000001"})
        token = fuzz_app.test_client().post("/api/v1/connect/auth/token", json={
            "grant_type": "client_credentials", "client_id": "no_scopes", "client_secret": "no_scopes_secret"})
        headers = {"Authorization": f"Bearer {token.json['access_token']}"}
    openeyes = failure.startswith(("wrong OpenEyes", "OpenEyes"))
    checked = 0
    for operation in (result.ok() for result in schema.get_all_operations()):
        schemes = {n for r in operation.definition.raw.get("security") or [] for n in r}
        if status not in operation.definition.raw["responses"] or not schemes & (
                {"openEyesBasic"} if openeyes else {"bearerAuth"}):
            continue
        case = example_case(operation)
        response = case.call(app=fuzz_app, headers=headers)
        assert str(response.status_code) == status, (operation.label, response.text[:200])
        case.validate_response(response, checks=CHECKS)
        reached.setdefault(operation.label, set()).add(status)
        checked += 1
    assert checked


def test_every_sandbox_control_refuses_a_missing_admin_token():
    app = create_app({"TESTING": True, "IN_MEMORY": True, "WEBHOOK_DELIVERY": False, "ADMIN_TOKEN": "adm"})
    try:
        for operation in (result.ok() for result in schema.get_all_operations()):
            if "401" not in operation.definition.raw["responses"] or not operation.path.startswith("/sandbox/"):
                continue
            case = example_case(operation)
            response = case.call(app=app)
            assert response.status_code == 401, (operation.label, response.text[:200])
            case.validate_response(response, checks=CHECKS)
            reached.setdefault(operation.label, set()).add("401")
    finally:
        app.extensions["opescare_sandbox"].extras["webhooks"].close()


def test_report_documented_statuses_reached():
    """Runs after the generated tests (file order): how much of the documented surface generation reached."""
    documented = {(op.label, status) for op in (r.ok() for r in schema.get_all_operations())
                  for status in op.definition.raw["responses"] if status != "default"}
    seen = {(label, status) for label, statuses in reached.items() for status in statuses}
    count("schemathesis operations", len({label for label, _ in documented}))
    count("schemathesis documented statuses reached", len(documented & seen))
    count("schemathesis documented statuses", len(documented))
    assert len(reached) == len({label for label, _ in documented})  # every operation was exercised
