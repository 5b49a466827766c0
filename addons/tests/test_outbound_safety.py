"""In production, no URL a stranger gives us may reach inside our network: checked when it is
saved and again on the address a connection actually reaches."""

import json

import pytest

from addons.models import Invocation
from addons.services import import_listing
from addons.tests.factories import make_manifest
from marketplace.errors import InvalidManifest
from marketplace.outbound import forbidden
from tests.recording_helpers import recording_manifest

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://localhost/hook",
]


@pytest.fixture
def enforced(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False


@pytest.mark.parametrize(
    "address,expected",
    [("127.0.0.1", True), ("10.0.0.1", True), ("169.254.169.254", True), ("::1", True), ("fe80::1%eth0", True),
     ("::ffff:10.0.0.1", True), ("224.0.0.1", True), ("93.184.216.34", False), ("2606:4700::1111", False)],
)  # fmt: skip  # a table: one address and its verdict per pair
def test_which_addresses_are_internal(address, expected):
    assert forbidden(address) is expected


@pytest.mark.parametrize("url", INTERNAL)
def test_a_webhook_url_inside_the_network_is_refused_when_saved(api, customer, enforced, url):
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": "+14155552671", "SmsUrl": url}
    )
    assert reply.status_code == 400 and "SmsUrl" in reply.json()["message"]
    assert "private or internal" in reply.json()["message"]


def test_a_public_address_is_accepted(api, customer, enforced):
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": "+14155552671", "SmsUrl": "http://93.184.216.34/hook"},
    )
    assert reply.status_code == 201


def test_an_unresolvable_host_is_refused(api, customer, enforced):
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": "+14155552671", "VoiceUrl": "http://no-such-host.invalid/x"},
    )
    assert reply.status_code == 400 and "does not resolve" in reply.json()["message"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://169.254.169.254/x"])
def test_a_publisher_endpoint_inside_the_network_is_refused_at_import(publisher, enforced, url):
    manifest = make_manifest(endpoint={**make_manifest()["endpoint"], "url": url})
    with pytest.raises(InvalidManifest) as error:
        import_listing(manifest=manifest, publisher=publisher)
    assert (
        error.value.details == [{"path": "$.endpoint.url", "message": error.value.details[0]["message"]}]
        and "private or internal" in error.value.details[0]["message"]
    )


def test_a_recording_callback_url_inside_the_network_is_refused(api, make_listing, enforced, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    listing = make_listing(**recording_manifest("http://93.184.216.34/analyse"))
    settings.OUTBOUND_ALLOW_PRIVATE = False
    reply = api.post(
        "/v1/InstalledAddOns",
        {
            "AvailableAddOnSid": listing.sid,
            "AcceptTermsOfService": "true",
            "Configuration": json.dumps({"callback_url": "http://169.254.169.254/x"}),
        },
    )
    assert reply.status_code == 400 and "callback_url" in reply.json()["message"]


def test_the_connection_itself_is_checked_so_dns_rebinding_does_not_help(api, installed_at, httpserver, settings):
    # Saved while loopback was allowed (as if the name resolved elsewhere then): the
    # connection still lands on 127.0.0.1, and that is what is checked.
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    installed_at(httpserver.url_for("/x"), unique_name="rebound")
    settings.OUTBOUND_ALLOW_PRIVATE = False
    result = api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": "rebound"}).json()["add_ons"]["results"]["rebound"]
    assert (result["status"], result["code"]) == ("failed", 61014)
    assert httpserver.log == []
    invocation = Invocation.objects.get(sid=result["request_sid"])
    assert not invocation.billable and not invocation.sla_breach


def test_a_webhook_to_an_internal_address_is_not_delivered(api, customer, httpserver, settings):
    httpserver.expect_request("/hook").respond_with_data("<Response/>")
    api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": "+14155552671", "SmsUrl": httpserver.url_for("/hook")},
    )
    settings.OUTBOUND_ALLOW_PRIVATE = False
    body = api.post("/sandbox/v1/Messages", {"From": "+18005550100", "To": "+14155552671", "Body": "x"}).json()
    assert body["webhook"]["status_code"] is None and body["webhook"]["error"]
    assert httpserver.log == []
