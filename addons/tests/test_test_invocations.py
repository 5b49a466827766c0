"""A publisher's test console: one real, signed call with sample inputs, shown in full."""

import json
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from accounts.services import create_account
from addons.models import Invocation, Listing, Notification
from addons.tests.factories import make_manifest


@pytest.fixture
def publisher_api(api_for, publisher):
    return api_for(publisher)


def run_test(publisher_api, listing, **data):
    return publisher_api.post(f"/sandbox/v1/Listings/{listing.sid}/TestInvocations", data)


def test_a_test_invocation_shows_request_response_and_verdicts(publisher_api, publisher, bundled_listing):
    listing = bundled_listing("anagram", state="draft")  # publishers test before publishing
    reply = run_test(publisher_api, listing, PrimaryAddress="+18778894546", Configuration='{"min_word_length": 3}')
    assert reply.status_code == 200, reply
    report = reply.json()
    assert report["status"] == "successful" and report["outcome"] == "success"
    assert "+18778TWILIO" in report["result"]["anagrams"]
    request = report["request"]
    assert request["method"] == "POST" and "twilio_date=" in request["url"]
    assert "e164=%2B18778894546" in request["body"].split("&")
    # The signature shown is the real one, and the base string is what it signs.
    form = dict(parse_qsl(request["body"], keep_blank_values=True))
    assert form["e164"] == "+18778894546"
    assert request["signature_base"] == request["url"] + "".join(f"{k}{form[k]}" for k in sorted(form))
    validator = RequestValidator(publisher.auth_token)
    assert validator.validate(request["url"], form, request["headers"]["X-Twilio-Signature"])
    assert report["request_validation"] == {"valid": True, "errors": []}
    assert report["response_validation"] == {"valid": True, "errors": []}
    assert report["response"]["status_code"] == 200 and report["response"]["attempts"] == 1
    assert report["response"]["latency_ms"] >= 0 and report["response"]["bytes"] > 0

    invocation = Invocation.objects.get(sid=report["request_sid"])
    assert invocation.is_test and not invocation.billable and not invocation.sla_breach
    assert invocation.account == publisher and invocation.installation is None
    assert invocation.request["headers"]["X-Twilio-Signature"] == "[redacted]"


def test_request_validation_failure_is_shown_and_the_publisher_not_called(publisher_api, bundled_listing):
    listing = bundled_listing("sentiment")  # requires a non-empty body
    report = run_test(publisher_api, listing, IntegrationPoint="incoming-sms").json()
    assert report["code"] == 61003 and report["response"] is None
    assert report["request_validation"]["valid"] is False
    assert "body" in report["request_validation"]["errors"][0]
    assert Invocation.objects.get(sid=report["request_sid"]).attempts == 0


def test_message_analysis_with_a_body(publisher_api, bundled_listing):
    listing = bundled_listing("sentiment")
    report = run_test(
        publisher_api, listing, IntegrationPoint="incoming-sms", Body="I love it", PrimaryAddress="+18005550100"
    ).json()
    assert report["result"]["sentiment"] == "positive"
    assert json.loads(report["request"]["body"])["body"] == "I love it"


def test_failures_are_reported_without_notifications(publisher_api, make_listing):
    endpoint = {**make_manifest()["endpoint"], "url": "http://127.0.0.1:9/refused", "retries": 0}
    listing = make_listing(endpoint=endpoint)
    report = run_test(publisher_api, listing, Configuration='{"language": "en"}').json()
    assert report["code"] == 61021 and report["status"] == "failed"
    assert report["response"]["status_code"] is None and report["response"]["attempts"] == 1
    assert Invocation.objects.get(sid=report["request_sid"]).outcome == "connection_failed"
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    "data,param",
    [
        ({"IntegrationPoint": "recordings"}, "IntegrationPoint"),
        ({"Configuration": '{"language": "xx"}'}, "Configuration"),
        ({"Configuration": "nope"}, "Configuration"),
        ({"PrimaryAddress": "123"}, "PrimaryAddress"),
        ({"VersionSid": "XC" + "0" * 32}, "VersionSid"),
        ({"VersionSid": "bad"}, "VersionSid"),
    ],
)
def test_bad_test_invocations(publisher_api, listing, data, param):
    reply = run_test(publisher_api, listing, **data)
    assert reply.status_code in (400, 404) and param in reply.json()["message"]
    assert Invocation.objects.count() == 0


def test_only_the_listings_publisher_may_test_it(api, api_for, listing, db):
    rival = create_account(friendly_name="Rival", is_publisher=True)
    assert run_test(api, listing).status_code == 404
    assert run_test(api_for(rival), listing).status_code == 404


def test_a_listing_without_a_version_cannot_be_tested_yet(publisher_api, publisher):
    shell = Listing.objects.create(publisher=publisher, unique_name="shell", friendly_name="Shell")
    reply = run_test(publisher_api, shell)
    assert reply.status_code == 400 and "no version" in reply.json()["message"]
