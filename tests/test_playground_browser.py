"""The playground in a real browser (Debian's headless Chromium driven by Playwright), with the outside network blocked.

Flow of the issue: open /docs, authorize with the sandbox credentials (OAuth client credentials in
Swagger UI's dialog), execute resolve for Marie Fouda (201, a CM-HID- id), execute records for a patient
without consent (403 consent_required). A screenshot is saved to test-artifacts/playground.png.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

from opescare_sandbox import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="module")
def live_url():
    app = create_app({"IN_MEMORY": True, "RATE_LIMIT_ENABLED": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is required: apt-get install chromium (make test does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_url):
    """A page whose every request to a host other than the sandbox is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.blocked = []

    def guard(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield page
    context.close()


def open_operation(page, method: str, path: str):
    block = page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])").first
    block.locator(".opblock-summary").first.click()
    return block


def execute(block):
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=15_000)
    body = block.locator(".live-responses-table .response-col_description pre").first.inner_text()
    return status.inner_text().strip(), body


def authorize(page):
    page.locator("button.btn.authorize").first.click()
    dialog = page.locator(".modal-ux")
    oauth = dialog.locator(".auth-container", has=page.locator("input[data-name=clientSecret]")).first
    # The playground pre-fills the published sandbox credentials (initOAuth); nothing to type.
    assert oauth.locator("input[data-name=clientId]").input_value() == "demo_dev_sandbox"
    assert oauth.locator("input[data-name=clientSecret]").input_value() == "demo_secret_sandbox_2026"
    oauth.locator("button.authorize").click()
    dialog.locator("button.auth", has_text="Logout").first.wait_for(timeout=10_000)
    dialog.locator("button.btn-done").first.click()


def test_playground_loads_offline(page, live_url):
    page.goto(f"{live_url}/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    assert page.locator(".opblock-tag").count() >= 2
    assert page.blocked == [], f"the page tried to reach the outside: {page.blocked}"


def test_authorize_then_resolve_and_records(page, live_url):
    page.goto(f"{live_url}/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    authorize(page)

    status, body = execute(open_operation(page, "post", "/api/v1/connect/patients/resolve"))
    assert status == "201", body
    assert '"status": "created"' in body and '"health_id": "CM-HID-' in body

    records = open_operation(page, "get", "/api/v1/connect/patient/{health_id}/records")
    records.locator("tr[data-param-name='health_id'] input").fill("OPC-2024-XK7T9")  # no consent granted
    status, body = execute(records)
    assert status == "403", body
    assert "consent_required" in body

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=False)
    assert page.blocked == [], f"the page tried to reach the outside: {page.blocked}"


def test_the_fault_form_arms_a_fault_the_next_requests_meet(page, live_url):
    page.goto(f"{live_url}/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    page.locator("#fault-form summary").click()
    form = page.locator("#fault-form form")
    form.locator("input[name=path]").fill("/api/v1/connect/patients/verify/*")
    form.locator("select[name=method]").select_option("GET")
    form.locator("input[name=times]").fill("1")
    form.locator("input[name=value]").fill("503")
    form.locator("button[type=submit]").click()
    page.locator("#control-title", has_text="POST /sandbox/faults → 201").wait_for(timeout=10_000)
    assert '"status": 503' in page.locator("#control-body").inner_text()
    authorize(page)
    verify = open_operation(page, "get", "/api/v1/connect/patients/verify/{health_id}")
    verify.locator("tr[data-param-name='health_id'] input").fill("CM-HID-7KQ9-MP42-X8D1")
    status, body = execute(verify)
    assert status == "503" and "service_unavailable" in body
    assert page.blocked == [], f"the page tried to reach the outside: {page.blocked}"
