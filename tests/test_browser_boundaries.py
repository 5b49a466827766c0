"""The console's boundaries in a real browser (Debian's Chromium through Playwright):
a hostile publisher's payload opened from the console runs no script, and every console,
admin and docs page loads under the Content-Security-Policy with no violation, while an
injected inline script does not run."""

import re

import pytest
from django.contrib.auth import get_user_model

from accounts.services import add_member
from addons.tests.factories import InstallationFactory
from recordings.models import Recording
from tests.fixtures.browser import PASSWORD, console_user, log_in
from tests.fixtures.payloads import SCRIPT_BODY

expect = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`").expect

pytestmark = pytest.mark.browser

# Every CSP violation the page reports, and every console error, collected from the start.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(WATCH_VIOLATIONS)
    page.console_messages = []
    page.on("console", lambda message: message.type == "error" and page.console_messages.append(message.text))
    return page


def violations(page):
    return page.evaluate("window.__violations")


def assert_clean(page, where):
    assert violations(page) == [], f"CSP violations on {where}"
    assert [m for m in page.console_messages if "Content Security Policy" in m] == [], where


def test_a_payload_with_a_script_opened_from_the_console_runs_nothing(watched, shot, customer, hostile_result):
    page = watched
    hostile, _ = hostile_result
    assert hostile.call_back(SCRIPT_BODY, "text/html").status_code == 200
    recording = Recording.objects.get()
    username, password = console_user(customer, "alice")
    log_in(page, username, password)
    page.goto(f"/console/recordings/{recording.sid}/")
    link = page.get_by_role("link", name="transcriber")
    expect(link).to_be_visible()
    expect(page.get_by_text("application/octet-stream")).to_be_visible()
    shot(page, "1-recording")

    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename.startswith("XH")
    with open(download.path(), "rb") as saved:
        assert saved.read() == SCRIPT_BODY.encode()  # the bytes, to keep, never a page
    # The console page is still ours, untouched; no other page was opened to run anything.
    expect(page).to_have_url(re.compile(rf"/console/recordings/{recording.sid}/$"))
    assert page.evaluate("window.pwned") is None and "pwned" not in page.title()
    assert page.context.pages == [page]

    # Even fetched in a tab of its own, the download origin's answer is never rendered as HTML.
    response = page.request.get(link.get_attribute("href"))
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert_clean(page, "the recording page")


@pytest.fixture
def console_pages(customer, publisher, make_listing):
    listing = make_listing()
    installation = InstallationFactory(account=customer, listing=listing, unique_name="my_insight")
    return [
        "/console/",
        "/console/catalog/",
        f"/console/catalog/{listing.sid}/",
        f"/console/catalog/{listing.sid}/install/",  # django-jsonform's widget
        "/console/installations/",
        f"/console/installations/{installation.sid}/",
        "/console/numbers/",
        "/console/recordings/",
        "/console/usage/",
        "/console/invoices/",
        "/console/debugger/",
    ]


def test_console_admin_and_docs_pages_load_with_no_csp_violation(watched, shot, customer, publisher, console_pages):
    page = watched
    staff = get_user_model().objects.create_superuser("root", password=PASSWORD)
    add_member(account=customer, user=staff)
    add_member(account=publisher, user=staff)  # two accounts: the account switcher shows
    page.goto("/console/login/")
    assert_clean(page, "the login page")
    log_in(page, "root", PASSWORD)
    for path in console_pages:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        assert_clean(page, path)
    page.goto(console_pages[5])  # the installation page: its configuration widget drew itself
    expect(page.locator("#configuration-form [name='rjf§language']")).to_be_visible()
    expect(page.locator("textarea[data-django-jsonform]")).to_be_hidden()
    shot(page, "1-installation")

    # The account switcher still submits on change (console.js, not an inline handler).
    page.goto("/console/usage/")
    with page.expect_navigation():
        page.get_by_label("Account").select_option(label=publisher.friendly_name)
    expect(page).to_have_url(re.compile(r"/console/usage/$"))
    expect(page.locator("header .muted, header select")).to_contain_text(publisher.friendly_name)
    page.goto("/console/publisher/statements/")
    assert_clean(page, "the publisher's statements")

    for path in ("/admin/", "/admin/accounts/account/", f"/admin/accounts/account/{customer.pk}/change/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
        assert_clean(page, path)

    page.goto("/docs/")  # Swagger UI, from the sidecar's local assets
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Add-on Marketplace API")
    expect(page.locator(".opblock").first).to_be_visible()
    shot(page, "2-docs")
    assert_clean(page, "/docs/")


def test_an_injected_inline_script_does_not_run(watched, customer):
    page = watched
    username, password = console_user(customer, "alice")
    log_in(page, username, password)
    page.goto("/console/")
    # What an injection would add to the page: an inline script, and an inline handler.
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = 'script ran';";
          document.body.appendChild(script);
          const img = document.createElement("img");
          img.setAttribute("src", "/static/nothing-here.png");
          img.setAttribute("onerror", "window.injected = 'handler ran'");
          document.body.appendChild(img);
        }"""
    )
    page.wait_for_function("window.__violations.length >= 2")
    assert page.evaluate("window.injected") is None
    assert all(v.startswith("script-src") for v in violations(page)), violations(page)
