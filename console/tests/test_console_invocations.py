"""The console's debugger and the publisher's test console, through Django's test client."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.services import add_member, create_account
from addons.models import Invocation
from addons.services.notifications import notify
from tests.fixtures.core import console_client


@pytest.fixture
def customer_console(customer):
    return console_client(customer, "cust")


@pytest.fixture
def publisher_console(publisher):
    return console_client(publisher, "pub")


def test_console_needs_a_login(db):
    reply = Client().get("/console/debugger/")
    assert reply.status_code == 302 and reply["Location"].startswith("/console/login/")


def test_login_page_logs_in(customer):
    user = get_user_model().objects.create_user("someone", password="s3cret-pass")
    add_member(account=customer, user=user)
    client = Client()
    assert client.get("/console/login/").status_code == 200
    reply = client.post("/console/login/", {"username": "someone", "password": "s3cret-pass"})
    assert reply.status_code == 302
    assert customer.sid in client.get("/console/").content.decode()


def test_the_debugger_shows_this_accounts_notifications_only(customer_console, customer, other_customer):
    notify(account=customer, code=61010, message="Add-on nope (lookups): not installed")
    notify(account=other_customer, code=61020, message="someone else's timeout")
    page = customer_console.get("/console/debugger/").content.decode()
    assert "Add-on nope (lookups): not installed" in page and "61010" in page
    assert "someone else" not in page


def test_the_debugger_filters_by_level(customer_console, customer):
    notify(account=customer, code=61010, message="a warning")
    notify(account=customer, code=61020, message="an error", level="error")
    page = customer_console.get("/console/debugger/?level=error").content.decode()
    assert "an error" in page and "a warning" not in page


def test_publisher_pages_are_for_publishers(customer_console, listing):
    assert customer_console.get("/console/publisher/listings/").status_code == 404
    assert customer_console.get(f"/console/publisher/listings/{listing.sid}/test/").status_code == 404


def test_the_test_console_fires_a_signed_call_and_shows_the_report(publisher_console, bundled_listing):
    listing = bundled_listing("anagram")
    assert "Test console" in publisher_console.get("/console/publisher/listings/").content.decode()
    page = publisher_console.get(f"/console/publisher/listings/{listing.sid}/test/")
    assert page.status_code == 200
    reply = publisher_console.post(
        f"/console/publisher/listings/{listing.sid}/test/",
        {
            "version": listing.latest_version.sid,
            "integration_point": "lookups",
            "primary_address": "+18778894546",
            "configuration": '{"min_word_length": 3}',
        },
    )
    html = reply.content.decode()
    assert "+18778TWILIO" in html and "Signature base string" in html and "X-Twilio-Signature" in html
    assert Invocation.objects.get().is_test


def test_the_test_console_keeps_what_was_typed_and_shows_errors_by_field(publisher_console, bundled_listing):
    listing = bundled_listing("anagram")
    reply = publisher_console.post(
        f"/console/publisher/listings/{listing.sid}/test/",
        {
            "version": listing.latest_version.sid,
            "integration_point": "lookups",
            "primary_address": "+1 not a number",
            "configuration": '{"min_word_length": "many"',
        },
    )
    html = reply.content.decode()
    assert "Not a valid E.164" in html and "Not valid JSON" in html
    assert "+1 not a number" in html and "{&quot;min_word_length&quot;: &quot;many&quot;" in html
    assert Invocation.objects.count() == 0
    schema_error = publisher_console.post(
        f"/console/publisher/listings/{listing.sid}/test/",
        {
            "version": listing.latest_version.sid,
            "integration_point": "lookups",
            "configuration": '{"letter_case": "x"}',
        },
    )
    assert "letter_case" in schema_error.content.decode() and Invocation.objects.count() == 0


def test_another_publishers_listing_is_404(publisher_console, db, make_listing):
    rival = create_account(friendly_name="Rival", is_publisher=True)
    theirs = make_listing(unique_name="theirs", publisher_account=rival)
    assert publisher_console.get(f"/console/publisher/listings/{theirs.sid}/test/").status_code == 404


def test_csrf_protection_is_on(publisher, listing):
    client = console_client(publisher, "csrf", enforce_csrf=True)
    reply = client.post(f"/console/publisher/listings/{listing.sid}/test/", {"version": listing.latest_version.sid})
    assert reply.status_code == 403


def test_the_console_and_the_api_test_with_the_same_defaults(publisher_console, api_for, publisher, bundled_listing):
    """Left empty, the From is the one sample number (shown in the console's form) and the
    runtime fields none, whether the test comes from the console or the API."""
    listing = bundled_listing("anagram")
    form = publisher_console.get(f"/console/publisher/listings/{listing.sid}/test/").content.decode()
    assert 'value="+14155552671"' in form
    publisher_console.post(
        f"/console/publisher/listings/{listing.sid}/test/",
        {"version": listing.latest_version.sid, "integration_point": "lookups", "primary_address": ""},
    )
    reply = api_for(publisher).post(f"/sandbox/v1/Listings/{listing.sid}/TestInvocations", {})
    assert reply.status_code == 200 and reply.json()["integration_point"] == "lookups"
    console_call, api_call = Invocation.objects.order_by("id")
    assert console_call.is_test and api_call.is_test
    for call in (console_call, api_call):
        assert "e164=%2B14155552671" in call.request["body"].split("&")
    assert console_call.request["body"] == api_call.request["body"]
