"""Every operation we serve, checked against Twilio's official OpenAPI descriptions.

The test client checks each response it receives (tests/wire.py), so every API test is a
conformance test too; this one makes sure each implemented operation is exercised in one
scenario, success and error alike, and that the checker itself rejects what it should.
"""

import base64

import pytest

from recordings import services
from recordings.models import AddOnResult, Payload
from tests.openapi import CONFORMANCE, Conformance
from tests.recording_helpers import recording_manifest, wav_bytes

IMPLEMENTED = {
    "GET /v1/AvailableAddOns",
    "GET /v1/AvailableAddOns/{Sid}",
    "GET /v1/AvailableAddOns/{AvailableAddOnSid}/Extensions",
    "GET /v1/AvailableAddOns/{AvailableAddOnSid}/Extensions/{Sid}",
    "POST /v1/InstalledAddOns",
    "GET /v1/InstalledAddOns",
    "GET /v1/InstalledAddOns/{Sid}",
    "POST /v1/InstalledAddOns/{Sid}",
    "DELETE /v1/InstalledAddOns/{Sid}",
    "GET /v1/InstalledAddOns/{InstalledAddOnSid}/Extensions",
    "GET /v1/InstalledAddOns/{InstalledAddOnSid}/Extensions/{Sid}",
    "POST /v1/InstalledAddOns/{InstalledAddOnSid}/Extensions/{Sid}",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
    "DELETE /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{ResourceSid}/AssignedAddOns.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{ResourceSid}/AssignedAddOns.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{ResourceSid}/AssignedAddOns/{Sid}.json",
    "DELETE /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{ResourceSid}/AssignedAddOns/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{ResourceSid}/AssignedAddOns/{AssignedAddOnSid}"
    "/Extensions.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{ResourceSid}/AssignedAddOns/{AssignedAddOnSid}"
    "/Extensions/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json",
    "DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults/{Sid}.json",
    "DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults/{AddOnResultSid}/Payloads.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults/{AddOnResultSid}/Payloads/{Sid}.json",
    "DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults/{AddOnResultSid}/Payloads/{Sid}"
    ".json",
    "GET /2010-04-01/Accounts/{AccountSid}/Recordings/{ReferenceSid}/AddOnResults/{AddOnResultSid}/Payloads"
    "/{PayloadSid}/Data.json",
    "GET /v1/PhoneNumbers/{PhoneNumber}",
    "POST /v1/InstalledAddOns/{InstalledAddOnSid}/Usage",
    "GET /2010-04-01/Accounts/{AccountSid}/Usage/Records.json",
    "GET /v1/Listings",
    "POST /v1/Listings",
    "GET /v1/Listing/{Sid}",
    "POST /v1/Listing/{Sid}",
    "POST /v1/ReferralConversion",
}


def test_every_implemented_operation_conforms_on_success_and_error(
    api,
    api_for,
    customer,
    publisher,
    listing,
    monkeypatch,
    make_listing,
    httpserver,
    client,
    django_capture_on_commit_callbacks,
):
    seen = set()
    original = CONFORMANCE.check

    def recording_check(method, path, status, body):
        if path.startswith("/sandbox/"):
            return None  # ours, not Twilio's: no official description to hold it to
        op = original(method, path, status, body)
        assert op is not None, f"{method} {path} matches no operation of the official descriptions"
        seen.add((op.key, "error" if status >= 400 else "ok"))
        return op

    monkeypatch.setattr(CONFORMANCE, "check", recording_check)

    bad = "0" * 32
    api.get("/v1/AvailableAddOns")
    api.get("/v1/AvailableAddOns", {"PageSize": "1001"})
    api.get(f"/v1/AvailableAddOns/XB{bad}")
    api.get(f"/v1/AvailableAddOns/{listing.sid}")
    extensions = api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions").json()["extensions"]
    api.get(f"/v1/AvailableAddOns/XB{bad}/Extensions")
    api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions/{extensions[0]['sid']}")
    api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions/XF{bad}")

    api.post("/v1/InstalledAddOns", {"AvailableAddOnSid": listing.sid})
    installed = api.post(
        "/v1/InstalledAddOns",
        {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": '{"language": "en"}'},
    ).json()
    xe = installed["sid"]
    api.get("/v1/InstalledAddOns")
    api.get("/v1/InstalledAddOns", {"PageSize": "0"})
    api.get(f"/v1/InstalledAddOns/{xe}")
    api.get(f"/v1/InstalledAddOns/XE{bad}")
    api.post(f"/v1/InstalledAddOns/{xe}", {"UniqueName": "renamed"})
    api.post(f"/v1/InstalledAddOns/{xe}", {"Configuration": "{"})
    api.get(f"/v1/InstalledAddOns/{xe}/Extensions")
    api.get(f"/v1/InstalledAddOns/XE{bad}/Extensions")
    xf = extensions[0]["sid"]
    api.get(f"/v1/InstalledAddOns/{xe}/Extensions/{xf}")
    api.get(f"/v1/InstalledAddOns/{xe}/Extensions/XF{bad}")
    api.post(f"/v1/InstalledAddOns/{xe}/Extensions/{xf}", {"Enabled": "false"})
    api.post(f"/v1/InstalledAddOns/{xe}/Extensions/{xf}", {"Enabled": "maybe"})

    numbers = f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers"
    number = api.post(f"{numbers}.json", {"PhoneNumber": "+14155552671"}).json()
    api.post(f"{numbers}.json", {"PhoneNumber": "not-a-number"})
    pn = number["sid"]
    api.get(f"{numbers}.json")
    api.get(f"{numbers}.json", {"PageToken": "forged"})
    api.get(f"{numbers}/{pn}.json")
    api.get(f"{numbers}/PN{bad}.json")
    api.post(f"{numbers}/{pn}.json", {"FriendlyName": "Main"})
    api.post(f"{numbers}/{pn}.json", {"SmsUrl": "nope"})

    assigned = f"{numbers}/{pn}/AssignedAddOns"
    api.post(f"{assigned}.json", {"InstalledAddOnSid": xe})
    api.post(f"{assigned}.json", {"InstalledAddOnSid": xe})
    api.get(f"{assigned}.json")
    api.get(f"{numbers}/PN{bad}/AssignedAddOns.json")
    api.get(f"{assigned}/{xe}.json")
    api.get(f"{assigned}/XE{bad}.json")
    api.get(f"{assigned}/{xe}/Extensions.json")
    api.get(f"{assigned}/XE{bad}/Extensions.json")
    api.get(f"{assigned}/{xe}/Extensions/{xf}.json")
    api.get(f"{assigned}/{xe}/Extensions/XF{bad}.json")
    api.delete(f"{assigned}/{xe}.json")
    api.delete(f"{assigned}/{xe}.json")

    api.delete(f"/v1/InstalledAddOns/{xe}")
    api.delete(f"/v1/InstalledAddOns/{xe}")
    api.delete(f"{numbers}/{pn}.json")
    api.delete(f"{numbers}/{pn}.json")

    api.get("/v1/PhoneNumbers/+14155552671")
    api.get("/v1/PhoneNumbers/12")

    httpserver.expect_request("/rec").respond_with_data("", status=202)
    recorder = make_listing(**recording_manifest(httpserver.url_for("/rec"), "recorder"))
    api.post("/v1/InstalledAddOns", {"AvailableAddOnSid": recorder.sid, "AcceptTermsOfService": "true"})
    with django_capture_on_commit_callbacks(execute=True):
        re = api.upload("/sandbox/v1/Recordings", {"Audio": ("a.wav", wav_bytes(1))}).json()["sid"]
    xr = AddOnResult.objects.get().sid
    credentials = base64.b64encode(f"{publisher.sid}:{publisher.auth_token}".encode()).decode()
    path = services.callback_url(xr).split("8000", 1)[1]
    client.post(
        path, b'{"transcript": "x"}', content_type="application/json", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )
    xh = Payload.objects.get().sid
    recordings = f"/2010-04-01/Accounts/{customer.sid}/Recordings"
    results = f"{recordings}/{re}/AddOnResults"
    api.get(f"{recordings}.json")
    api.get(f"{recordings}.json", {"PageSize": "0"})
    api.get(f"{recordings}/{re}.json")
    api.get(f"{recordings}/RE{bad}.json")
    api.get(f"{results}.json")
    api.get(f"{recordings}/RE{bad}/AddOnResults.json")
    api.get(f"{results}/{xr}.json")
    api.get(f"{results}/XR{bad}.json")
    api.get(f"{results}/{xr}/Payloads.json")
    api.get(f"{results}/XR{bad}/Payloads.json")
    api.get(f"{results}/{xr}/Payloads/{xh}.json")
    api.get(f"{results}/{xr}/Payloads/XH{bad}.json")
    api.get(f"{results}/{xr}/Payloads/{xh}/Data.json")
    api.get(f"{results}/{xr}/Payloads/XH{bad}/Data.json")
    api.delete(f"{results}/{xr}/Payloads/{xh}.json")
    api.delete(f"{results}/{xr}/Payloads/{xh}.json")
    api.delete(f"{results}/{xr}.json")
    api.delete(f"{results}/{xr}.json")
    api.delete(f"{recordings}/{re}.json")
    api.delete(f"{recordings}/{re}.json")

    manual = make_listing(
        unique_name="reports", pricing={"model": "manual"}, billable_items=[{"name": "page", "price": "0.1"}]
    )
    installed = api.post(
        "/v1/InstalledAddOns",
        {"AvailableAddOnSid": manual.sid, "AcceptTermsOfService": "true", "Configuration": '{"language": "en"}'},
    ).json()["sid"]
    as_publisher = api_for(publisher)
    item = manual.billable_items.get().sid
    as_publisher.post_json(f"/v1/InstalledAddOns/{installed}/Usage", {"billable_items": [{"sid": item, "quantity": 2}]})
    as_publisher.post_json(f"/v1/InstalledAddOns/{installed}/Usage", {"billable_items": [{"sid": item, "quantity": 0}]})
    usage = f"/2010-04-01/Accounts/{customer.sid}/Usage/Records.json"
    api.get(usage)
    api.get(usage, {"StartDate": "not-a-date"})

    shell = as_publisher.post("/v1/Listings", {"ModuleInfo": '{"name": "Shell"}'}).json()["sid"]
    api.post("/v1/Listings", {"ModuleInfo": '{"name": "Not a publisher"}'})
    as_publisher.get("/v1/Listings")
    api_for(publisher, password="wrong").get("/v1/Listings")
    as_publisher.get(f"/v1/Listing/{shell}")
    api.get(f"/v1/Listing/{shell}")
    as_publisher.post(f"/v1/Listing/{shell}", {"Pricing": '{"body": "Free"}'})
    as_publisher.post(f"/v1/Listing/{shell}", {"Pricing": '{"body": "Free"}'})  # 304
    as_publisher.post(f"/v1/Listing/{shell}", {"Policies": "[]"})

    as_publisher.post_json("/v1/ReferralConversion", {"referral_account_sid": customer.sid})
    as_publisher.post_json("/v1/ReferralConversion", {"referral_account_sid": "not a sid"})

    assert {key for key, outcome in seen if outcome == "ok"} == IMPLEMENTED
    assert {key for key, outcome in seen if outcome == "error"} == IMPLEMENTED


class TestTheCheckerItself:
    """A checker that accepted anything would make every test above meaningless."""

    checker = Conformance()

    def test_rejects_a_missing_field(self):
        body = {
            "sid": "XB" + "0" * 32,
            "friendly_name": "x",
            "description": "",
            "pricing_type": "per_use",
            "configuration_schema": {},
            "url": "http://h/v1/AvailableAddOns/x",
        }
        with pytest.raises(AssertionError, match="links"):
            self.checker.check("GET", "/v1/AvailableAddOns/XB" + "0" * 32, 200, body)

    def test_rejects_a_malformed_sid(self):
        body = {
            "sid": "XE123",
            "friendly_name": "x",
            "description": "",
            "pricing_type": "per_use",
            "configuration_schema": {},
            "url": "http://h/",
            "links": {},
        }
        with pytest.raises(AssertionError, match="sid"):
            self.checker.check("GET", "/v1/AvailableAddOns/XB" + "0" * 32, 200, body)

    def test_rejects_an_iso_date_where_2010_wants_rfc_2822(self):
        with pytest.raises(AssertionError, match="date-time-rfc-2822"):
            self.checker.check(
                "GET",
                "/2010-04-01/Accounts/AC0/IncomingPhoneNumbers/PN0/AssignedAddOns/XE0.json",
                200,
                {
                    "sid": "XE" + "0" * 32,
                    "account_sid": "AC" + "0" * 32,
                    "resource_sid": "PN" + "0" * 32,
                    "friendly_name": "x",
                    "description": "",
                    "configuration": {},
                    "unique_name": "x",
                    "date_created": "2026-01-01T00:00:00Z",
                    "date_updated": "Thu, 01 Jan 2026 00:00:00 +0000",
                    "uri": "/x.json",
                    "subresource_uris": {},
                },
            )

    def test_rejects_an_undocumented_status(self):
        with pytest.raises(AssertionError, match="status 200"):
            self.checker.check("DELETE", "/v1/InstalledAddOns/XE" + "0" * 32, 200, {})

    def test_rejects_an_error_body_without_code(self):
        with pytest.raises(AssertionError, match="code"):
            self.checker.check("GET", "/v1/InstalledAddOns", 404, {"message": "x", "more_info": "u", "status": 404})
