"""Browser fixtures: the app served on 127.0.0.1 in a thread, driven by Playwright in Debian's Chromium.

Every request the page makes to a host other than the live server is blocked and recorded; a test
fails if its page tried to load anything from outside the hub."""

from __future__ import annotations

import os
import shutil
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("MEDIATION_HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__hubCspViolation(event.violatedDirective + " " + (event.blockedURI || "") + " "
                           + (event.sample || "") + " @" + (event.sourceFile || "") + ":" + event.lineNumber);
});
"""


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context; requests leaving 127.0.0.1 are aborted and fail the test."""
    from mediation_hub.core.db import thread_reads

    # The test's own look at the database must not take SQLite's write lock from the server it drives.
    thread_reads(True)
    context = chromium.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    console_errors: list[str] = []
    csp_violations: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    # Every Content-Security-Policy violation (an inline style set by a library, a blocked script) fails the
    # test: the policy stays strict and the pages work under it.
    context.expose_function("__hubCspViolation", lambda text: csp_violations.append(text))
    context.add_init_script(CSP_LISTENER)
    pg = context.new_page()
    # A form sent back with its messages is a page answered 422 (or 409 when it asks to confirm): Chromium logs
    # "Failed to load resource" for it, which is no error of the page. Only such documents are let through.
    refused_forms: set[str] = set()
    pg.on(
        "response",
        lambda response: (
            refused_forms.add(response.url)
            if response.request.resource_type == "document" and response.status in (409, 422)
            else None
        ),
    )

    def on_console(msg):
        if msg.type != "error":
            return
        if msg.text.startswith("Failed to load resource") and (msg.location or {}).get("url") in refused_forms:
            return
        console_errors.append(msg.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: console_errors.append(str(exc)))
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
    thread_reads(False)
    assert not outside, f"the page tried to load from outside the hub: {outside}"
    assert not console_errors, f"JavaScript errors on the page: {console_errors[:3]} ({len(console_errors)})"
    assert not csp_violations, f"Content-Security-Policy violations: {csp_violations[:5]} ({len(csp_violations)})"


@pytest.fixture
def sign_in(page):
    """Sign in through the login form as a person would."""

    def do(username: str, password: str):
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return do
