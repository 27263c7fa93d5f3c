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
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
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
    pg.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: console_errors.append(str(exc)))
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
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
