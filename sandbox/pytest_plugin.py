"""pytest plugin (entry point `pytest11`): the `sandbox` and `sandbox_server` fixtures for vendors' test suites.

- `sandbox`: an in-process world and a Flask test client that already carries a token for the demo client.
- `sandbox_server`: the same app over real HTTP on 127.0.0.1 (one server per session, so the fixture is
  session-scoped and a vendor's session-scoped client may be built on it), for code under test that
  calls the sandbox with requests/httpx and for receiving webhooks.
- `sandbox_webhooks`: a local webhook receiver, subscribed to every event type, that verifies signatures.

Every test that uses any of them (directly or through another fixture) starts on a fresh world: one app
per session, and per test every tenant is dropped (O(1): a world is a copy-on-write layer over a cached
template); its end cancels the test's pending and in-flight webhook deliveries. A failed test's report
gets a section with its requests, events and deliveries. Options `--sandbox-seed`, `--sandbox-patients`;
marker `@pytest.mark.sandbox(seed=, patients=, scenario=, rate_limit=)`.
Only stdlib and pytest are imported here, so `pytest --help` stays cheap; Flask loads with the first fixture.
"""

from __future__ import annotations

import pytest

MARKER_KEYS = ("seed", "patients", "scenario", "rate_limit")
REPORT_SECTION = "OpesCare Sandbox: this test's requests, events and deliveries"
_BEGUN = pytest.StashKey()  # on a test item: the session's SandboxApp, once that test's world was made
MARKER_HELP = ("sandbox(seed=None, patients=None, scenario=None, rate_limit=False): the world of the sandbox / "
               "sandbox_server fixtures for this test: another seed or size, a scenario of GET /sandbox/scenarios "
               "(exposed as sandbox.scenario), rate limiting on (True: the server's limit, or an int per minute).")


def pytest_addoption(parser):
    group = parser.getgroup("opescare-sandbox", "OpesCare Sandbox fixtures")
    group.addoption("--sandbox-seed", type=int, default=None, metavar="SEED",
                    help="World seed of the sandbox fixtures (default: SANDBOX_SEED or 42).")
    group.addoption("--sandbox-patients", type=int, default=None, metavar="N",
                    help="Synthetic patients per population in the sandbox fixtures (default: SANDBOX_PATIENTS or 200).")


def pytest_configure(config):
    config.addinivalue_line("markers", MARKER_HELP)


@pytest.fixture(scope="session")
def _sandbox_app(pytestconfig):
    """The session's app, shared by `sandbox` and `sandbox_server` (so both see the same world)."""
    from .testing import SandboxApp

    core = SandboxApp(pytestconfig.getoption("sandbox_seed"), pytestconfig.getoption("sandbox_patients"))
    yield core
    core.close()


@pytest.fixture(scope="session")
def _sandbox_live(_sandbox_app):
    """The session's HTTP server: started on first use, stopped at the end of the session."""
    from .testing import LiveServer

    server = LiveServer(_sandbox_app)
    yield server
    server.close()


@pytest.fixture
def _sandbox_settings(request, _sandbox_app):
    """This test's settings (marker over options), applied: the world is fresh from here on; at its end the
    test's deliveries are cancelled."""
    settings = _settings_from_marker(request.node.get_closest_marker("sandbox"), _sandbox_app)
    _sandbox_app.begin(settings)
    request.node.stash[_BEGUN] = _sandbox_app
    yield settings
    _sandbox_app.end()


@pytest.fixture(autouse=True)
def _sandbox_isolation(request):
    """`sandbox_server` lives for the session: a test that uses it, even through a vendor's session-scoped
    fixture, still gets a fresh world. Every test pays for this fixture (about 0.04 ms, bench/fixtures.py)."""
    if "sandbox_server" in request.fixturenames:
        request.getfixturevalue("_sandbox_settings")


@pytest.fixture
def sandbox(_sandbox_app, _sandbox_settings):
    """An in-process sandbox: `sandbox.post("/api/v1/connect/patients/resolve", json=...)` with a token attached."""
    from .testing_clients import SandboxClient

    return SandboxClient(_sandbox_app)


@pytest.fixture(scope="session")
def sandbox_server(_sandbox_live):
    """A live sandbox over HTTP: `.url`, `.client_id`, `.client_secret`, `.token()`, fresh `default` world per test."""
    from .testing_clients import SandboxServer

    return SandboxServer(_sandbox_live)


@pytest.fixture(scope="session")
def _sandbox_receiver():
    """The session's webhook receiver server; `sandbox_webhooks` opens an inbox on it per test."""
    from .testing_webhooks import Receiver

    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def sandbox_webhooks(sandbox_server, _sandbox_settings, _sandbox_receiver):
    """A webhook receiver of this test, subscribed (demo client) to every event type: `.url`, `.secret`, `.events`,
    `.wait_for(type, timeout)`, `.received`, `.rejected`, `.fail(500)` / `.hang()` / `.recover()`."""
    inbox = _sandbox_receiver.open(sandbox_server.describe_deliveries)
    created = sandbox_server.subscribe(inbox.url)
    inbox.secret, inbox.subscription = created.pop("webhook_secret"), created
    yield inbox
    _sandbox_receiver.discard(inbox)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the sandbox: its exchange goes into the report (like a captured-output section)."""
    report = yield
    core = item.stash.get(_BEGUN, None)
    if report.failed and core is not None and call.when in ("setup", "call"):
        try:
            report.sections.append((REPORT_SECTION, core.exchange()))
        except Exception as exc:  # the report is a debugging aid: never hide the test's own failure
            report.sections.append((REPORT_SECTION, f"(could not be gathered: {exc!r})"))
    return report


def _settings_from_marker(marker, core):
    from .testing import Settings

    if marker is None:
        return Settings()
    where = "@pytest.mark.sandbox"
    if marker.args:
        pytest.fail(f"{where} takes keyword arguments only ({', '.join(MARKER_KEYS)})", pytrace=False)
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if unknown:
        pytest.fail(f"{where}: unknown argument(s) {', '.join(unknown)}; use {', '.join(MARKER_KEYS)}", pytrace=False)
    seed, patients = marker.kwargs.get("seed"), marker.kwargs.get("patients")
    for name, value in (("seed", seed), ("patients", patients)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            pytest.fail(f"{where}: {name} must be a non-negative integer, not {value!r}", pytrace=False)
    return Settings(seed=seed, patients=patients, rate_limit=_rate_limit(marker.kwargs.get("rate_limit"), core),
                    scenario=_scenario(marker.kwargs.get("scenario"), core))


def _rate_limit(value, core) -> int | None:
    """False/None: off. True: the app's configured limit. An int: that many Connect requests per minute."""
    if value is None or value is False:
        return None
    if value is True:
        return int(core.services.settings["RATE_LIMIT"])
    if isinstance(value, int) and value >= 1:
        return value
    pytest.fail(f"@pytest.mark.sandbox: rate_limit must be True, False or a positive integer, not {value!r}",
                pytrace=False)


def _scenario(name, core) -> dict | None:
    if name is None:
        return None
    entry = core.scenario(name) if isinstance(name, str) else None
    if entry is None:
        pytest.fail(f"@pytest.mark.sandbox: unknown scenario {name!r}; the catalogue (GET /sandbox/scenarios) has "
                    f"{', '.join(entry['name'] for entry in core.catalogue())}", pytrace=False)
    return entry
