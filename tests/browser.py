"""Helpers for the real-browser tests: Playwright's sync API driving Debian's Chromium.

The browser is started once for the module (a second or so); every test gets its own context
(cookies, storage) and page. Chromium is never downloaded: without /usr/bin/chromium the
tests are skipped with a message saying how to get it.
"""

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from accounts.services import add_member

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
TIMEOUT_MS = 10_000  # generous for a loaded CI machine, bounded so a broken page fails fast
PASSWORD = "Browser-pw-2024!"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module")
def browser():
    """Chromium, started once for the browser tests' module and stopped after its last test.

    Playwright's sync API runs an asyncio event loop in the test thread for as long as it is
    started, so Django sees a "running loop" and its ORM raises SynchronousOnlyOperation for the
    fixtures' and tests' own queries. Nothing is concurrent: the loop only drives the browser and
    the ORM calls stay synchronous, so DJANGO_ALLOW_ASYNC_UNSAFE is safe here, and it is set for
    exactly as long as Playwright runs. Neither outlives the module: kept for the whole session,
    the loop would break the ORM in every later test, and the variable would leak into the
    subprocesses other tests start (`manage.py check --deploy` reports it as an error).
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"No Chromium at {CHROMIUM}: the browser tests need Debian's package "
            "(`sudo apt-get install chromium`); Playwright's own browsers are not used."
        )
    from playwright.sync_api import sync_playwright

    saved = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Exception as error:  # a broken install: say so rather than erroring every test
            pytest.skip(f"Chromium at {CHROMIUM} did not start ({error}); reinstall it: `apt-get install chromium`.")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if saved is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = saved


@pytest.fixture
def page(browser, live_server, settings):
    """A fresh browser context and page for one test, against the live server. A test fails
    if the page raised a JavaScript error."""
    from playwright.sync_api import expect

    settings.MARKETPLACE_BASE_URL = live_server.url
    # Logging in through the form still checks the password, only with a cheap hash: the
    # default PBKDF2 costs about a second per user created and per log-in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.console_errors = []  # JavaScript errors on the page: a broken widget shows up here
    tab.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    yield tab
    context.close()
    if tab.console_errors:
        pytest.fail(f"JavaScript errors on the page: {tab.console_errors}")


@pytest.fixture
def shot(request):
    """shot(page, "step"): a full-page screenshot, test-output/screenshots/<test>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(page, step):
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def console_user(account, username, *, password=PASSWORD):
    """A console user who is a member of `account`; returns (username, password)."""
    user = get_user_model().objects.create_user(username, password=password)
    add_member(account=account, user=user)
    return username, password


def log_in(page, username, password, *, path="/console/login/"):
    """Fill the real login form (the console's or the admin's), submit it and wait until the
    browser has left the login page."""
    page.goto(path)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("form [type=submit]").click()
    if "/login/" in page.url:
        errors = page.locator(".errorlist, .errornote").all_inner_texts()
        pytest.fail(f"Logging in as {username} at {path} failed: {errors}")


def query_is(expected):
    """For page.wait_for_url: the URL's query string holds exactly these non-empty values."""
    wanted = {name: [value] for name, value in expected.items() if value}
    return lambda url: parse_qs(urlsplit(url).query) == wanted
