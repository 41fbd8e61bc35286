"""The playground as a fresh visitor meets it, in Debian's headless Chromium with the outside network blocked.

One walk: the dashboard gives a random tenant and an inbox subscribed to every event; the API reference
authorizes itself, resolves Marie Fouda, grants her consent, reads her records and pushes an encounter for
her; the event arrives in the inbox signed (`signature_valid: true`). OpenEyes answers 401 without
credentials (the page shows it, no browser login dialog) and 200 with them; a clock jump re-authorizes the
page. axe-core finds no serious or critical violation on the three pages. Screenshots: test-artifacts/.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from opescare_sandbox import create_app
from tests.test_playground_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, execute, open_operation

# One story: the tests run in file order on one xdist worker (make test: --dist loadfile), each after the state
# the one before left (the clock-jump test verifies the Health ID the first test registered).
WALKED: list[str] = []  # the Health ID the walk registered, in this process

WAIT_MS = 15_000  # liveness bound for anything the page waits for


@pytest.fixture(scope="module")
def live_url():
    app = create_app({"IN_MEMORY": True, "RATE_LIMIT_ENABLED": False, "WEBHOOK_INTERVAL": 0.2})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["opescare_sandbox"].extras["webhooks"].close()


@pytest.fixture(scope="module")
def context(live_url):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is required: apt-get install chromium (make test does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.blocked = []

        def guard(route):
            if re.match(r"^https?://127\.0\.0\.1:\d+/", route.request.url) and route.request.url.startswith(live_url):
                route.continue_()
            else:
                context.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        yield context
        assert context.blocked == [], f"the pages tried to reach another host: {context.blocked}"
        browser.close()


@pytest.fixture(scope="module")
def page(context):
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.accept()))
    return page


def shoot(locator, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_reference(page, live_url):
    page.goto(f"{live_url}/docs")
    page.locator(".opblock").first.wait_for(timeout=WAIT_MS)
    page.locator("#auth-state", has_text="uthorized").wait_for(timeout=WAIT_MS)


def test_a_fresh_visitor_walks_the_story_to_a_signed_event_in_the_inbox(page, live_url):
    page.goto(f"{live_url}/dashboard")
    tenant = page.locator("#tenant").input_value()
    assert re.fullmatch(r"v-[0-9a-f]{24}", tenant), tenant  # random, unguessable, kept in the browser
    page.locator("#inbox-create").click()
    page.locator("#inbox-url", has_text="Subscribed: ").wait_for(timeout=WAIT_MS)

    open_reference(page, live_url)
    assert page.locator("#tenant").input_value() == tenant
    status, body = execute(open_operation(page, "post", "/api/v1/connect/patients/resolve"))
    assert status == "201" and '"display_name": "Marie F."' in body, body
    health_id = json.loads(body)["health_id"]
    WALKED.append(health_id)

    # The examples chain: no field is typed but the push's Idempotency-Key (a header with no example).
    grant = open_operation(page, "post", "/api/v1/connect/patient/{health_id}/consent/grant")
    assert grant.locator("tr[data-param-name='health_id'] input").input_value() == health_id
    status, body = execute(grant)  # the example's expires_at is 30 days after the sandbox's now: never stale
    assert status in ("200", "201") and '"consent_status": "granted"' in body, body

    status, body = execute(open_operation(page, "get", "/api/v1/connect/patient/{health_id}/records"))
    assert status == "200" and health_id in body, body

    push = open_operation(page, "post", "/api/v1/connect/records/encounters")
    push.locator("tr[data-param-name='Idempotency-Key'] input").fill("story-encounter-1")
    assert json.loads(push.locator("textarea.body-param__text").first.input_value())["health_id"] == health_id
    status, body = execute(push)
    assert status == "200" and '"status": "accepted"' in body, body
    subscribe = open_operation(page, "post", "/api/v1/connect/webhooks/subscriptions")
    example = json.loads(subscribe.locator("textarea.body-param__text").first.input_value())
    assert "/sandbox/inbox/ibx_" in example["callback_url"] and "secret" not in example  # no invented secret
    snippets = push.locator(".request-snippets")
    assert tenant in snippets.inner_text()  # the request as executed: the tenant and token the page added
    snippets.locator("text=Python (requests)").click()
    assert "requests.request(" in snippets.inner_text() and '"story-encounter-1"' in snippets.inner_text()
    snippets.locator("text=JavaScript (fetch)").click()
    assert "await fetch(" in snippets.inner_text() and health_id in snippets.inner_text()
    shoot(page.locator("#swagger-ui"), "reference")

    page.goto(f"{live_url}/dashboard")
    inbox = page.locator("#inbox")
    row = inbox.locator("tr", has_text="encounter.created")
    row.wait_for(timeout=WAIT_MS)
    assert row.locator("td.true").inner_text() == "true"  # signature_valid, checked against the secret
    row.locator("button.row").focus()
    page.keyboard.press("Enter")  # keyboard: a row opens its detail
    detail = json.loads(inbox.locator("[data-detail]").inner_text())
    assert detail["body"]["data"]["health_id"] == health_id and detail["signature_valid"] is True
    page.locator("#events tr", has_text="encounter.created").first.wait_for(timeout=WAIT_MS)
    page.locator("#journal tr", has_text="/api/v1/connect/records/encounters").wait_for(timeout=WAIT_MS)
    for panel in ("inbox", "events", "journal", "report", "audit", "faults", "scenarios"):
        shoot(page.locator(f"#{panel}"), f"dashboard-{panel}")


def execute_fresh(block):
    """Execute again: clear the previous response first, so its status is never read as the new one."""
    clear = block.locator("button.btn-clear")
    if clear.count():
        clear.first.click()
        block.locator(".live-responses-table").wait_for(state="detached", timeout=WAIT_MS)
    return execute(block)


def test_openeyes_without_credentials_answers_401_on_the_page_and_with_them_200(page, live_url):
    open_reference(page, live_url)
    search = open_operation(page, "get", "/api/v1/patient/search")
    search.locator("tr[data-param-name='term'] input").fill("Fouda")
    status, _ = execute_fresh(search)
    assert status == "200"  # pre-filled api_user / password
    page.locator("button.btn.authorize").first.click()
    dialog = page.locator(".modal-ux")
    basic = dialog.locator(".auth-container", has_text="openEyesBasic")
    basic.locator("button", has_text="Logout").click()
    dialog.locator("button.btn-done").first.click()
    status, body = execute_fresh(search)  # no hang: the 401 is the page's, never the browser's login dialog
    assert status == "401", body
    page.locator("button.btn.authorize").first.click()
    basic.locator("input").nth(0).fill("api_user")
    basic.locator("input[type=password]").fill("password")
    basic.locator("button", has_text="Authorize").click()
    dialog.locator("button.btn-done").first.click()
    status, body = execute_fresh(search)
    assert status == "200", body


def test_a_clock_jump_asks_first_and_the_page_keeps_working(page, live_url):
    assert WALKED, "the walk did not run before this test in this process: keep the file on one worker, in order"
    open_reference(page, live_url)
    page.dialogs.clear()
    page.locator("button", has_text="Clock +1 h").click()
    page.locator("#auth-state", has_text="Re-authorized after /sandbox/clock").wait_for(timeout=WAIT_MS)
    assert page.dialogs and "clock" in page.dialogs[0]  # asked for confirmation
    assert page.locator("#control-output").is_visible()  # the output is on screen, wherever the page is scrolled
    status, body = execute(open_operation(page, "get", "/api/v1/connect/patients/verify/{health_id}"))
    assert status == "200", body  # the token issued before the jump has expired; the page's new one works
    before = page.locator("#tenant").input_value()
    page.locator("#new-world").click()
    page.locator("#auth-state", has_text="Re-authorized after tenant").wait_for(timeout=WAIT_MS)
    assert page.locator("#tenant").input_value() != before


def test_dark_mode_follows_the_system_setting(context, live_url):
    dark = context.new_page()
    dark.emulate_media(color_scheme="dark")
    dark.goto(f"{live_url}/dashboard")
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 24, 27)", background
    shoot(dark.locator("body"), "dashboard-dark")
    dark.close()


@pytest.mark.parametrize("path", ["/", "/docs", "/dashboard"])
def test_no_serious_or_critical_accessibility_violation(page, live_url, path):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(live_url + path)
    page.wait_for_load_state("networkidle")
    if path == "/docs":
        page.locator(".opblock").first.wait_for(timeout=WAIT_MS)
    violations = Axe().run(page).response["violations"]
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:12]) for v in violations
           if v["impact"] in ("serious", "critical")]
    assert bad == [], json.dumps(bad)
