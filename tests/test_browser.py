"""The console and the admin in a real browser: Playwright's sync API driving Debian's Chromium
against pytest-django's live server, with accounts, users and listings made by the services.

Each step asserts on what a person sees and saves a full-page screenshot to
test-output/screenshots/<test>-<step>.png. Skipped, with a message, when /usr/bin/chromium is
absent (`apt-get install chromium`).
"""

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Account, IncomingPhoneNumber
from addons.models import InstalledAddOn, Invocation, Listing, ListingStateChange
from addons.tests.factories import InstallationFactory, make_manifest
from billing import services as billing_services
from console.tests.test_console_publisher import record
from tests.fixtures.browser import PASSWORD, console_user, log_in, query_is

# Chromium runs only while the module-scoped `browser` fixture (tests/fixtures/browser.py) is up, with
# DJANGO_ALLOW_ASYNC_UNSAFE set just for that time: see its docstring for why.
expect = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`").expect

pytestmark = pytest.mark.browser


def tiles(page):
    return page.locator("a.tile")


def message(page):
    return page.locator("ul.messages li")


def config_input(page, name):
    """One input of the django-jsonform configuration widget (it names them rjf§<key>)."""
    return page.locator(f"#configuration-form [name='rjf§{name}']")


def config_row(page, label):
    return page.locator("#configuration-form .rjf-form-row", has_text=label)


# 1. Logging in ----------------------------------------------------------------------------------


def test_log_in_with_a_wrong_then_the_right_password(page, shot, customer):
    username, password = console_user(customer, "alice")
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/login/\?next=/console/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "1-login-form")

    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("form .errorlist")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Please enter a correct username and password")
    expect(page.locator("#id_username")).to_have_value(username)
    expect(page.locator("#id_password")).to_have_value("")
    shot(page, "2-wrong-password")

    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/console/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer One")
    expect(page.locator("main code")).to_have_text(customer.sid)
    expect(page.locator("header.top")).to_contain_text("Customer One")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("link", name="My listings")).to_have_count(0)  # not a publisher
    shot(page, "3-home")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/console/login/$"))
    page.goto("/console/catalog/")
    expect(page).to_have_url(re.compile(r"/console/login/\?next=/console/catalog/$"))


# 2. The catalog -----------------------------------------------------------------------------------

MOOD_METER = dict(
    unique_name="mood_meter",
    friendly_name="Mood Meter",
    description="Scores the sentiment of a text message.",
    type="message_analysis",
    extensions=["incoming-sms"],
    pricing={"model": "manual"},
    billable_items=[{"name": "report", "price": "0.50"}],
    configuration_schema={"type": "object", "properties": {}},
    endpoint={**make_manifest()["endpoint"], "params": {"text": "{{body}}"}},
)


def test_browse_and_filter_the_catalog(page, shot, customer, make_listing):
    make_listing()  # Caller Insight: phone_number, per_use, lookups + incoming-sms + incoming-voice
    make_listing(**MOOD_METER)  # message_analysis, manual, incoming-sms only
    make_listing(unique_name="secret_draft", friendly_name="Secret Draft", state="draft")
    log_in(page, *console_user(customer, "bob"))
    page.get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("heading", name="Add-on catalog")).to_be_visible()
    expect(tiles(page)).to_have_count(2)  # the draft is not in the catalog
    expect(page.locator("a.tile[data-listing=caller_insight]")).to_contain_text("Phone Number · Per Use")
    expect(page.locator("a.tile[data-listing=mood_meter]")).to_contain_text("Message Analysis · Manual")
    shot(page, "1-all")

    def filter_by(step, expected, q="", type="", integration_point="", pricing=""):
        page.locator("#q").fill(q)
        page.locator("#type").select_option(type)
        page.locator("#integration_point").select_option(integration_point)
        page.locator("#pricing").select_option(pricing)
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(query_is({"q": q, "type": type, "integration_point": integration_point, "pricing": pricing}))
        expect(tiles(page)).to_have_count(len(expected))
        for unique_name in expected:
            expect(page.locator(f"a.tile[data-listing={unique_name}]")).to_be_visible()
        # the chosen filters stay chosen
        expect(page.locator("#q")).to_have_value(q)
        expect(page.locator("#type")).to_have_value(type)
        expect(page.locator("#integration_point")).to_have_value(integration_point)
        expect(page.locator("#pricing")).to_have_value(pricing)
        shot(page, step)

    filter_by("2-type-message-analysis", ["mood_meter"], type="message_analysis")
    filter_by("3-type-phone-number", ["caller_insight"], type="phone_number")
    filter_by("4-point-lookups", ["caller_insight"], integration_point="lookups")
    filter_by("5-point-incoming-sms", ["caller_insight", "mood_meter"], integration_point="incoming-sms")
    filter_by("6-pricing-manual", ["mood_meter"], pricing="manual")
    filter_by("7-pricing-per-use", ["caller_insight"], pricing="per_use")
    filter_by("8-search-description", ["mood_meter"], q="sentiment")
    filter_by("9-search-name", ["caller_insight"], q="caller")
    filter_by("10-search-and-type", ["mood_meter"], q="o", type="message_analysis")
    filter_by("11-nothing", [], q="sentiment", type="phone_number")
    expect(page.locator("#no-results")).to_have_text("No add-on matches these filters.")

    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/console/catalog/$"))
    expect(tiles(page)).to_have_count(2)
    page.locator("a.tile[data-listing=mood_meter]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mood Meter")
    expect(page.locator("main")).to_contain_text("report: 0.50 USD")
    expect(page.locator("main")).to_contain_text("Incoming SMS")
    shot(page, "12-listing-page")


# 3. Installing with the generated configuration form --------------------------------------------


def test_install_an_add_on_through_its_configuration_form(page, shot, customer, make_listing):
    make_listing()
    log_in(page, *console_user(customer, "carol"))
    page.goto("/console/catalog/")
    page.locator("a.tile[data-listing=caller_insight]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Caller Insight")
    page.get_by_role("link", name="Install").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Install Caller Insight")

    # The widget is drawn by django-jsonform's script: one input per setting, by type.
    expect(config_input(page, "caller_prefix")).to_have_attribute("type", "text")
    expect(config_input(page, "include_carrier")).to_have_attribute("type", "checkbox")
    expect(config_input(page, "max_results")).to_have_attribute("type", "number")
    language = config_input(page, "language")
    expect(language).to_be_visible()
    assert language.evaluate("e => e.tagName") == "SELECT"
    assert language.locator("option").all_inner_texts() == ["Select...", "en", "es"]
    expect(config_row(page, "Caller prefix").locator("label")).to_have_text("Caller prefix")
    shot(page, "1-form")

    # The help is a "?" until hovered, then a readable tooltip.
    help_text = config_row(page, "Caller prefix").locator(".rjf-help-text")
    expect(help_text).to_have_css("font-size", "0px")
    assert help_text.bounding_box()["width"] < 30
    help_text.hover()
    expect(help_text).to_have_css("font-size", "13px")
    expect(help_text).to_have_text("E.164 prefix, +1 only")
    assert help_text.bounding_box()["width"] > 200
    shot(page, "2-tooltip")
    page.mouse.move(0, 0)
    expect(help_text).to_have_css("font-size", "0px")

    # Without accepting the terms: an error beside the checkbox.
    language.select_option("es")
    config_input(page, "caller_prefix").fill("+1415")
    page.get_by_role("button", name="Install").click()
    terms = page.locator(".field", has=page.locator("#id_accept_terms"))
    expect(terms.locator(".errorlist")).to_be_visible()
    expect(terms.locator(".errorlist")).to_contain_text("Must be true")
    expect(config_input(page, "language")).to_have_value("es")
    shot(page, "3-terms-not-accepted")

    # A value that breaks the pattern: the error beside that setting, what was typed kept.
    config_input(page, "include_carrier").check()
    config_input(page, "max_results").fill("3")
    config_input(page, "caller_prefix").fill("+44 20")
    page.locator("#id_unique_name").fill("my_insight")
    page.locator("#id_accept_terms").check()
    page.get_by_role("button", name="Install").click()
    page.wait_for_load_state()
    prefix_error = config_row(page, "Caller prefix").locator(".rjf-error-text")
    expect(prefix_error).to_be_visible()
    expect(prefix_error).to_contain_text("must match the pattern")
    expect(config_row(page, "Language").locator(".rjf-error-text")).to_have_count(0)
    expect(page.locator("#configuration-form > .errorlist")).to_have_text("Please correct the settings marked below.")
    expect(config_input(page, "caller_prefix")).to_have_value("+44 20")
    expect(config_input(page, "language")).to_have_value("es")
    expect(config_input(page, "include_carrier")).to_be_checked()
    expect(config_input(page, "max_results")).to_have_value("3")
    expect(page.locator("#id_unique_name")).to_have_value("my_insight")
    expect(page.locator("#id_accept_terms")).to_be_checked()
    assert not InstalledAddOn.objects.exists()
    shot(page, "4-pattern-error")

    # Fixed: installed, and the installation page shows the saved configuration.
    config_input(page, "caller_prefix").fill("+1415")
    page.get_by_role("button", name="Install").click()
    expect(page).to_have_url(re.compile(r"/console/installations/XE[0-9a-f]{32}/$"))
    expect(message(page)).to_have_text("Installed Caller Insight as my_insight.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("my_insight")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Caller Insight v1")
    expect(config_input(page, "language")).to_have_value("es")
    expect(config_input(page, "include_carrier")).to_be_checked()
    expect(config_input(page, "max_results")).to_have_value("3")
    expect(config_input(page, "caller_prefix")).to_have_value("+1415")
    expect(page.locator("#id_unique_name")).to_have_value("my_insight")
    installation = InstalledAddOn.objects.get()
    assert installation.configuration == {
        "language": "es",
        "include_carrier": True,
        "max_results": 3,
        "caller_prefix": "+1415",
    }
    shot(page, "5-installed")

    page.get_by_role("link", name="My add-ons").click()
    row = page.locator("tbody tr", has_text="my_insight")
    expect(row).to_contain_text("Caller Insight")
    expect(row).to_contain_text("v1")
    expect(row).to_contain_text(installation.sid)
    shot(page, "6-my-add-ons")
    row.get_by_role("link", name="my_insight").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("my_insight")


# 4. Extensions, numbers, assignments, uninstalling ----------------------------------------------


def test_switch_extensions_add_a_number_assign_and_uninstall(page, shot, customer, make_listing):
    installation = InstallationFactory(account=customer, listing=make_listing(), unique_name="my_insight")
    log_in(page, *console_user(customer, "dave"))
    page.get_by_role("link", name="My add-ons").click()
    page.get_by_role("link", name="my_insight").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("my_insight")
    sms = page.locator("tr", has_text="Incoming SMS")
    for point in ("Lookups", "Incoming SMS", "Incoming Voice Call"):
        expect(page.locator("tr", has_text=point).locator(".badge")).to_have_text("on")
    shot(page, "1-installation")

    sms.get_by_role("button", name="Switch off").click()
    expect(message(page)).to_have_text("Incoming SMS switched off.")
    expect(sms.locator(".badge")).to_have_text("off")
    expect(page.locator("tr", has_text="Lookups").locator(".badge")).to_have_text("on")
    shot(page, "2-sms-off")
    sms.get_by_role("button", name="Switch on").click()
    expect(message(page)).to_have_text("Incoming SMS switched on.")
    expect(sms.locator(".badge")).to_have_text("on")
    expect(sms.get_by_role("button", name="Switch off")).to_be_visible()

    # No number yet: nothing to assign.
    numbers_card = page.locator(".card", has=page.get_by_role("heading", name="Phone numbers"))
    expect(numbers_card.locator("li")).to_have_text(["none"])
    expect(numbers_card.get_by_role("button", name="Assign", exact=True)).to_have_count(0)

    page.get_by_role("link", name="Numbers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phone numbers")
    expect(page.locator("tbody")).to_contain_text("No numbers yet.")
    number_field = page.locator(".field", has=page.locator("#id_phone_number"))
    page.locator("#id_phone_number").fill("555-0123")
    page.locator("#id_friendly_name").fill("Front desk")
    page.get_by_role("button", name="Add number").click()
    expect(number_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(number_field.locator(".errorlist")).to_contain_text("E.164")
    expect(page.locator("#id_phone_number")).to_have_value("555-0123")
    expect(page.locator("#id_friendly_name")).to_have_value("Front desk")
    assert not IncomingPhoneNumber.objects.exists()
    shot(page, "3-invalid-number")

    page.locator("#id_phone_number").fill("+14155550123")
    page.get_by_role("button", name="Add number").click()
    expect(message(page)).to_have_text("Added +14155550123.")
    row = page.locator("tbody tr", has_text="+14155550123")
    expect(row).to_contain_text("Front desk")
    expect(row).to_contain_text("none")
    shot(page, "4-number-added")

    page.goto(f"/console/installations/{installation.sid}/")
    expect(numbers_card.get_by_label("Phone number")).to_have_value(IncomingPhoneNumber.objects.get().sid)
    numbers_card.get_by_label("Phone number").select_option(label="+14155550123")
    numbers_card.get_by_role("button", name="Assign", exact=True).click()
    expect(message(page)).to_have_text("Assigned to +14155550123.")
    expect(numbers_card.locator("li")).to_have_text(["+14155550123 Unassign"])
    expect(numbers_card.get_by_role("button", name="Assign", exact=True)).to_have_count(0)  # no other number
    shot(page, "5-assigned")

    page.get_by_role("link", name="Numbers").click()
    expect(page.locator("tbody tr", has_text="+14155550123").get_by_role("link", name="my_insight")).to_be_visible()
    page.locator("tbody tr", has_text="+14155550123").get_by_role("link", name="my_insight").click()

    numbers_card.get_by_role("button", name="Unassign").click()
    expect(message(page)).to_have_text("Unassigned from +14155550123.")
    expect(numbers_card.locator("li")).to_have_text(["none"])
    expect(numbers_card.get_by_role("button", name="Assign", exact=True)).to_be_visible()
    shot(page, "6-unassigned")

    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Uninstall").click()
    expect(page).to_have_url(re.compile(r"/console/installations/$"))
    assert dialogs == ["Uninstall my_insight?"]
    expect(message(page)).to_have_text("Uninstalled my_insight.")
    expect(page.locator("tbody")).to_contain_text("Nothing installed yet")
    assert not InstalledAddOn.objects.exists()
    assert IncomingPhoneNumber.objects.count() == 1  # the number stays
    shot(page, "7-uninstalled")


# 5. Staff moderation in the admin -----------------------------------------------------------------


def test_staff_move_a_draft_listing_with_a_reason(page, shot, make_listing):
    listing = make_listing(state="draft")
    get_user_model().objects.create_superuser("moderator", "moderator@example.com", PASSWORD)
    log_in(page, "moderator", PASSWORD, path="/admin/login/")
    expect(page.locator("#user-tools")).to_contain_text("moderator")

    page.goto(f"/admin/addons/listing/{listing.pk}/change/")
    expect(page.locator(".field-state .readonly")).to_have_text("Draft")
    shot(page, "1-listing")
    page.get_by_role("link", name="Change state").click()
    expect(page).to_have_url(re.compile(rf"/admin/addons/listing/{listing.pk}/state/$"))
    expect(page.locator(".listing-state")).to_have_text("draft")
    to_state = page.locator("#id_to_state")
    offered = [o for o in to_state.locator("option").evaluate_all("os => os.map(o => o.value)") if o]
    assert offered == ["marketing_preview", "retired"]  # not active, private_beta nor suspended
    shot(page, "2-change-state-form")

    # No reason: refused, nothing changes.
    to_state.select_option("marketing_preview")
    page.get_by_role("button", name="Change state").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-reason .errorlist")).to_have_text("A state change needs a reason.")
    expect(to_state).to_have_value("marketing_preview")
    shot(page, "3-no-reason")

    # A move the dropdown does not offer, posted anyway (a forged or stale form): refused.
    to_state.evaluate("s => s.add(new Option('Active (active)', 'active'))")
    to_state.select_option("active")
    page.locator("#id_reason").fill("Skipping the queue")
    page.get_by_role("button", name="Change state").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-to_state .errorlist")).to_contain_text("active")
    expect(page.locator("#id_reason")).to_have_value("Skipping the queue")
    listing.refresh_from_db()
    assert listing.state == "draft" and not ListingStateChange.objects.exists()
    shot(page, "4-disallowed")

    to_state.select_option("marketing_preview")
    page.locator("#id_reason").fill("Ready for the preview page")
    page.get_by_role("button", name="Change state").click()
    expect(page).to_have_url(re.compile(rf"/admin/addons/listing/{listing.pk}/change/$"))
    expect(page.locator(".messagelist .success")).to_have_text(
        "Listing caller_insight moved from draft to marketing_preview."
    )
    expect(page.locator(".field-state .readonly")).to_have_text("Marketing Preview")
    log = page.locator("fieldset", has_text="state changes (moderation log)")
    entry = log.locator("tbody tr.has_original, tbody tr.form-row").first
    expect(entry.locator(".field-from_state")).to_have_text("Draft")
    expect(entry.locator(".field-to_state")).to_have_text("Marketing Preview")
    expect(entry.locator(".field-changed_by")).to_have_text("moderator")
    expect(entry.locator(".field-reason")).to_have_text("Ready for the preview page")
    shot(page, "5-moved")

    page.get_by_role("link", name="Change state").click()
    expect(page.locator(".listing-state")).to_have_text("marketing_preview")
    offered = [o for o in to_state.locator("option").evaluate_all("os => os.map(o => o.value)") if o]
    assert offered == ["private_beta", "retired"]
    shot(page, "6-next-offer")
    assert Listing.objects.get(pk=listing.pk).state == "marketing_preview"


# 6. Publisher pages: SLA chart, statements, test console ------------------------------------------


def test_publisher_sla_statements_and_test_console(page, shot, publisher, customer, make_listing, httpserver, settings):
    settings.MARKETPLACE_FEE_PERCENT = "20"
    httpserver.expect_request("/insight", method="POST").respond_with_json({"ok": True})
    listing = make_listing(endpoint={**make_manifest()["endpoint"], "url": httpserver.url_for("/insight")})
    for latency in (120, 180, 240):
        record(listing, latency)
    record(listing, 300, days_ago=1)
    record(listing, 900, days_ago=2)
    record(listing, 2100, outcome="timeout", days_ago=2)
    now = timezone.now()
    billing_services.charge(
        key="this-month",
        kind="per_use",
        account=customer,
        listing=listing,
        installation=None,
        quantity=1,
        price=Decimal("2.50"),
        reference="this-month",
    )
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    event = billing_services.charge(
        key="last-month",
        kind="per_use",
        account=customer,
        listing=listing,
        installation=None,
        quantity=1,
        price=Decimal("10"),
        reference="last-month",
    )
    when = timezone.make_aware(datetime.combine(last_month.replace(day=3), time(12)), UTC)
    type(event).objects.filter(pk=event.pk).update(date_created=when)
    billing_services.close_statement(publisher=publisher, period=last_month)

    log_in(page, *console_user(publisher, "erin"))
    page.get_by_role("link", name="My listings").click()
    row = page.locator("tbody tr", has_text="Caller Insight")
    expect(row.locator(".badge")).to_have_text("Active")
    shot(page, "1-my-listings")

    # SLA: figures and two charts drawn as SVG, one point per day.
    row.get_by_role("link", name="SLA").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SLA: Caller Insight")
    figures = page.locator("#sla-figures")
    expect(figures.locator(".card", has_text="Requests").locator(".value")).to_have_text("6")
    expect(figures.locator(".card", has_text="Success rate").locator(".value")).to_have_text("83.33 %")
    expect(figures.locator(".card", has_text="Timeouts").locator(".value")).to_have_text("1 · 0 · 0")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    for index in range(2):
        chart = charts.nth(index)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 50
        path = chart.locator("path")
        expect(path).to_have_count(1)
        d = path.get_attribute("d")
        assert re.fullmatch(r"M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){2}", d), d  # three days, three points
        assert path.evaluate("p => p.getTotalLength()") > 100  # a line the browser actually drew
        expect(chart.locator("circle")).to_have_count(3)
    expect(charts.first).to_contain_text("target 200 ms")
    expect(page.locator("table tbody tr")).to_have_count(3)
    shot(page, "2-sla")

    # Statements: this month so far and the closed one, with its CSV.
    page.get_by_role("link", name="Statements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statements")
    current = page.locator(".card", has_text="so far")
    expect(current.get_by_role("heading")).to_have_text(f"{now:%B %Y} so far")
    expect(current.locator(".figures > div", has_text="Gross").locator(".value")).to_have_text("2.50 USD")
    expect(current.locator(".figures > div", has_text="Platform fee").locator(".value")).to_have_text("0.50 USD")
    expect(current.locator(".figures > div", has_text="Net").locator(".value")).to_have_text("2.00 USD")
    closed = page.locator("tbody tr", has_text=f"{last_month:%B %Y}")
    expect(closed).to_contain_text("10.00")
    expect(closed.locator("strong")).to_have_text("8.00")
    shot(page, "3-statements")
    with page.expect_download() as download_info:
        closed.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"statement-{publisher.sid}-{last_month:%Y-%m}.csv"
    assert "net,,,,8.00" in open(download.path()).read()

    # Test console: a bad input first, then a real signed call to the loopback publisher.
    page.get_by_role("link", name="My listings").click()
    page.locator("tbody tr", has_text="Caller Insight").get_by_role("link", name="Test console").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Test console: Caller Insight")
    page.locator("#id_integration_point").select_option("lookups")
    page.locator("#id_primary_address").fill("+1 not a number")
    page.locator("#id_configuration").fill('{"language": "en"}')
    page.get_by_role("button", name="Send test request").click()
    address = page.locator(".field", has=page.locator("#id_primary_address"))
    expect(address.locator(".errorlist")).to_contain_text("E.164")
    expect(page.locator("#id_primary_address")).to_have_value("+1 not a number")
    expect(page.locator("#report")).to_have_count(0)
    assert httpserver.log == []
    shot(page, "4-test-console-error")

    page.locator("#id_primary_address").fill("+14155550100")
    page.get_by_role("button", name="Send test request").click()
    report = page.locator("#report")
    expect(report).to_be_visible()
    expect(report.get_by_role("heading", name=re.compile("^Outcome:"))).to_contain_text("success")
    expect(report.locator("h2 .badge").first).to_have_class(re.compile(r"\bsuccessful\b"))
    expect(report).to_contain_text("HTTP 200")
    expect(report).to_contain_text("X-Twilio-Signature")
    expect(report.locator("pre").last).to_contain_text('"ok": true')
    shot(page, "5-test-console-report")
    assert len(httpserver.log) == 1
    sent = httpserver.log[0][0]
    assert sent.form["number"] == "+14155550100" and sent.form["lang"] == "en"
    assert Invocation.objects.filter(is_test=True).count() == 1


# 7. Another account's installation ------------------------------------------------------------------


def test_another_accounts_installation_is_not_found(page, shot, customer, other_customer, make_listing):
    listing = make_listing()
    theirs = InstallationFactory(account=other_customer, listing=listing, unique_name="their_insight")
    mine = InstallationFactory(account=customer, listing=listing, unique_name="my_insight")
    log_in(page, *console_user(customer, "frank"))
    page.goto(f"/console/installations/{mine.sid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("my_insight")

    response = page.goto(f"/console/installations/{theirs.sid}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("body")).not_to_contain_text("their_insight")
    shot(page, "1-forged-url")

    # Forged writes on it (with a valid CSRF token of this session) are refused too.
    page.goto("/console/installations/")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).not_to_contain_text("their_insight")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    for action in ("uninstall/", "assign/", f"extensions/{theirs.installed_extensions.first().extension.sid}/"):
        reply = page.request.post(
            f"/console/installations/{theirs.sid}/{action}",
            form={"csrfmiddlewaretoken": token, "enabled": "false"},
            headers={"Referer": page.url},
            max_redirects=0,
        )
        assert reply.status == 404, (action, reply.status)
    assert InstalledAddOn.objects.filter(pk=theirs.pk).exists()
    assert all(row.enabled for row in theirs.installed_extensions.all())
    shot(page, "2-my-add-ons")


# 8. A suspended account reads but does not act ----------------------------------------------------


def test_a_suspended_account_sees_a_banner_and_cannot_add_a_number(page, shot, customer, make_listing):
    InstallationFactory(account=customer, listing=make_listing(), unique_name="my_insight")
    Account.objects.filter(pk=customer.pk).update(status=Account.Status.SUSPENDED)
    log_in(page, *console_user(customer, "gina"))
    banner = page.locator("#account-status")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("This account (Customer One) is suspended.")
    expect(banner).to_contain_text("You can still look at everything")
    shot(page, "1-dashboard-banner")

    page.goto("/console/installations/")
    expect(page.locator("tbody")).to_contain_text("my_insight")  # reading works
    expect(banner).to_be_visible()

    page.goto("/console/numbers/")
    page.get_by_label("Phone number (E.164)").fill("+14155550123")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Add number").click()
    assert navigation.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing was changed")
    expect(page.locator("main")).to_contain_text("is suspended: it can read but not act")
    expect(banner).to_be_visible()
    shot(page, "2-refused")
    assert not IncomingPhoneNumber.objects.exists()


# Known problems, found by these tests: each asserts what a person should see and is marked
# Each was found by these tests, pinned with a strict xfail, and has since been fixed.


def test_optional_settings_can_be_left_empty(page, shot, customer, make_listing):
    listing = make_listing()
    installation = InstallationFactory(
        account=customer, listing=listing, unique_name="from_the_api"
    )  # {"language": "en"}
    log_in(page, *console_user(customer, "gina"))

    page.goto(f"/console/installations/{installation.sid}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()  # nothing changed
    shot(page, "1-save-unchanged")
    assert message(page).all_inner_texts() == ["Configuration saved."], page.locator(
        ".rjf-error-text"
    ).all_inner_texts()

    page.goto(f"/console/catalog/{listing.sid}/install/")
    config_input(page, "language").select_option("en")  # the one required setting
    page.locator("#id_accept_terms").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Install").click()
    shot(page, "2-install-required-only")
    assert "/console/installations/XE" in page.url, page.locator(".rjf-error-text").all_inner_texts()


def test_the_help_tooltip_stays_open_on_the_installation_page(page, shot, customer, make_listing):
    installation = InstallationFactory(account=customer, listing=make_listing(), unique_name="my_insight")
    log_in(page, *console_user(customer, "hank"))
    page.goto(f"/console/installations/{installation.sid}/")
    help_text = config_row(page, "Caller prefix").locator(".rjf-help-text")
    box = help_text.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # The tooltip's font size over a dozen animation frames with the pointer resting on the "?".
    sizes = help_text.evaluate(
        """help => new Promise(done => {
            const sizes = [];
            (function frame() {
                sizes.push(getComputedStyle(help).fontSize);
                if (sizes.length < 12) requestAnimationFrame(frame); else done(sizes);
            })();
        })"""
    )
    shot(page, "1-hovered")
    assert set(sizes) == {"13px"}, sizes


def test_the_sla_chart_labels_fit_in_the_chart(page, shot, publisher, make_listing):
    listing = make_listing()
    record(listing, 120)
    record(listing, 150, days_ago=1)
    log_in(page, *console_user(publisher, "ivy"))
    page.goto(f"/console/publisher/listings/{listing.sid}/sla/")
    expect(page.locator("svg.chart")).to_have_count(2)
    shot(page, "1-sla")
    outside = page.locator("svg.chart text").evaluate_all(
        """texts => texts.filter(t => {
            const box = t.getBBox(), view = t.ownerSVGElement.viewBox.baseVal;
            return box.x < 0 || box.x + box.width > view.width;
        }).map(t => t.textContent)"""
    )
    assert outside == []
