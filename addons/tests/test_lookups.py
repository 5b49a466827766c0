"""Lookups with add-ons, against the bundled example publishers (which verify our signatures)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from addons.models import Invocation, Listing, Notification
from addons.tests.factories import install

NUMBER = "+18778894546"


@pytest.fixture
def anagram(api, bundled_listing):
    return install(api, bundled_listing("anagram"), "anagram", {"min_word_length": 3})


@pytest.fixture
def reputation(api, bundled_listing):
    return install(api, bundled_listing("reputation"), "reputation", {})


def lookup(api, number=NUMBER, **params):
    reply = api.get(f"/v1/PhoneNumbers/{number}", params)
    assert reply.status_code == 200, reply
    return reply.json()


def test_lookup_without_add_ons_formats_the_number(api):
    body = lookup(api, "+14155552671")
    assert body == {
        "caller_name": None,
        "country_code": "US",
        "phone_number": "+14155552671",
        "national_format": "(415) 555-2671",
        "carrier": None,
        "add_ons": None,
        "url": "http://127.0.0.1:8000/v1/PhoneNumbers/+14155552671",
    }


def test_national_format_with_country_code(api):
    body = lookup(api, "020 7183 8750", CountryCode="GB")
    assert body["phone_number"] == "+442071838750" and body["country_code"] == "GB"


@pytest.mark.parametrize("number", ["12", "+999999", "not-a-number"])
def test_invalid_numbers_are_404(api, number):
    reply = api.get(f"/v1/PhoneNumbers/{number}")
    assert reply.status_code == 404 and reply.json()["code"] == 20404


def test_lookup_needs_credentials(anonymous_api):
    assert anonymous_api.get(f"/v1/PhoneNumbers/{NUMBER}").status_code == 401


def test_the_guides_anagram_example(api, anagram, customer):
    add_ons = lookup(api, AddOns="anagram")["add_ons"]
    result = add_ons["results"]["anagram"]
    assert add_ons["status"] == "successful" and add_ons["code"] is None
    assert result["status"] == "successful" and result["code"] is None
    assert "+18778TWILIO" in result["result"]["anagrams"]
    invocation = Invocation.objects.get(sid=result["request_sid"])
    assert (invocation.account, invocation.outcome, invocation.http_status) == (customer, "success", 200)
    assert invocation.billable and not invocation.sla_breach and invocation.attempts == 1
    assert invocation.integration_point == "lookups"
    assert Notification.objects.count() == 0


def test_configuration_reaches_the_publisher(api, anagram):
    api.post(f"/v1/InstalledAddOns/{anagram['sid']}", {"Configuration": json.dumps({"letter_case": "lower"})})
    result = lookup(api, AddOns="anagram")["add_ons"]["results"]["anagram"]["result"]
    assert "+18778twilio" in result["anagrams"]


def test_runtime_fields_from_add_ons_data(api, reputation):
    strict = lookup(api, "+18005550100", **{"AddOns": "reputation", "AddOns.reputation.threshold": "1"})
    lenient = lookup(api, "+18005550100", **{"AddOns": "reputation", "AddOns.reputation.threshold": "100"})
    strict_result = strict["add_ons"]["results"]["reputation"]["result"]
    lenient_result = lenient["add_ons"]["results"]["reputation"]["result"]
    assert strict_result["score"] == lenient_result["score"]
    assert strict_result["spam"] is True and lenient_result["spam"] is False


def test_two_add_ons_in_one_lookup(api, anagram, reputation):
    add_ons = lookup(api, AddOns=["anagram", "reputation"])["add_ons"]
    assert set(add_ons["results"]) == {"anagram", "reputation"}
    assert all(r["status"] == "successful" for r in add_ons["results"].values())
    assert len({r["request_sid"] for r in add_ons["results"].values()}) == 2


def test_add_ons_data_for_an_add_on_not_asked_for_is_400(api, anagram):
    reply = api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": "anagram", "AddOns.other.x": "1"})
    assert reply.status_code == 400 and "AddOns.other.x" in reply.json()["message"]
    assert Invocation.objects.count() == 0


def test_a_publishers_own_error_is_61008_and_not_billed(api, reputation):
    body = lookup(api, **{"AddOns": "reputation", "AddOns.reputation.threshold": "abc"})
    result = body["add_ons"]["results"]["reputation"]
    assert (result["status"], result["code"]) == ("failed", 61008)
    assert "threshold" in result["message"]
    invocation = Invocation.objects.get(sid=result["request_sid"])
    assert invocation.attempts == 1 and not invocation.billable and not invocation.sla_breach


def test_another_accounts_installation_is_not_installed_for_me(api, other_api, anagram):
    result = lookup(other_api, AddOns="anagram")["add_ons"]["results"]["anagram"]
    assert result["status"] == "failed" and result["code"] == 61010
    assert Invocation.objects.count() == 0


def test_a_suspended_listing_is_not_called(api, anagram):
    Listing.objects.filter(unique_name="demo_anagram").update(state="suspended")
    result = lookup(api, AddOns="anagram")["add_ons"]["results"]["anagram"]
    assert result["code"] == 61013
    assert Invocation.objects.get(sid=result["request_sid"]).attempts == 0


# Deleting the invocations takes away the cause of the lookup's charge (check_ledger says so).
@pytest.mark.unbalanced_books
def test_alerts_show_failures_to_customer_and_publisher(api, api_for, publisher, anagram):
    lookup(api, AddOns=["anagram", "missing"])
    Invocation.objects.all().delete()
    alerts = api.get("/v1/Alerts").json()["alerts"]
    assert [a["error_code"] for a in alerts] == ["61010"]
    assert "missing" in alerts[0]["alert_text"]
    assert api.get(f"/v1/Alerts/{alerts[0]['sid']}").json() == alerts[0]
    assert api_for(publisher).get(f"/v1/Alerts/{alerts[0]['sid']}").status_code == 404


def test_the_official_sdk_fetches_a_lookup_with_add_ons(sdk, customer, anagram, reputation):
    client = sdk(customer.sid, customer.auth_token)
    number = client.lookups.v1.phone_numbers(NUMBER).fetch(
        add_ons=["anagram", "reputation"], add_ons_data={"reputation.threshold": 100}
    )
    assert number.phone_number == NUMBER and number.national_format == "(877) 889-4546"
    results = number.add_ons["results"]
    assert "+18778TWILIO" in results["anagram"]["result"]["anagrams"]
    assert results["reputation"]["status"] == "successful"
    assert results["reputation"]["result"]["spam"] is False

    # A failure shows up in the debugger, which the SDK reads as Monitor alerts.
    failed = client.lookups.v1.phone_numbers(NUMBER).fetch(add_ons=["missing"])
    assert failed.add_ons["results"]["missing"]["code"] == 61010
    alerts = client.monitor.v1.alerts.list()
    assert [(a.error_code, a.log_level) for a in alerts] == [("61010", "warning")]
    assert client.monitor.v1.alerts(alerts[0].sid).fetch().alert_text == alerts[0].alert_text


def test_a_lookup_costs_the_same_queries_for_one_add_on_or_three(api, bundled_listing):
    listing = bundled_listing("anagram")
    for name in ("a1", "a2", "a3"):
        install(api, listing, name, {"min_word_length": 3})
    counts = []
    for names in (["a1"], ["a1", "a2", "a3"]):
        with CaptureQueriesContext(connection) as queries:
            lookup(api, AddOns=names)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
