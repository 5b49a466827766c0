"""Every operation we serve, checked against Twilio's official OpenAPI descriptions.

The test client checks each response it receives (tests/wire.py), so every API test is a
conformance test too; this one makes sure each implemented operation is exercised in one
scenario, success and error alike, and that the checker itself rejects what it should.
"""

import pytest

from tests.openapi import CONFORMANCE, Conformance

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
}


def test_every_implemented_operation_conforms_on_success_and_error(api, customer, listing, monkeypatch):
    seen = set()
    original = CONFORMANCE.check

    def recording_check(method, path, status, body):
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

    assert {key for key, outcome in seen if outcome == "ok"} == IMPLEMENTED
    assert {key for key, outcome in seen if outcome == "error"} == IMPLEMENTED


class TestTheCheckerItself:
    """A checker that accepted anything would make every test above meaningless."""

    checker = Conformance()

    def test_rejects_a_missing_field(self):
        body = {"sid": "XB" + "0" * 32, "friendly_name": "x", "description": "", "pricing_type": "per_use",
                "configuration_schema": {}, "url": "http://h/v1/AvailableAddOns/x"}
        with pytest.raises(AssertionError, match="links"):
            self.checker.check("GET", "/v1/AvailableAddOns/XB" + "0" * 32, 200, body)

    def test_rejects_a_malformed_sid(self):
        body = {"sid": "XE123", "friendly_name": "x", "description": "", "pricing_type": "per_use",
                "configuration_schema": {}, "url": "http://h/", "links": {}}
        with pytest.raises(AssertionError, match="sid"):
            self.checker.check("GET", "/v1/AvailableAddOns/XB" + "0" * 32, 200, body)

    def test_rejects_an_iso_date_where_2010_wants_rfc_2822(self):
        with pytest.raises(AssertionError, match="date-time-rfc-2822"):
            self.checker.check(
                "GET",
                "/2010-04-01/Accounts/AC0/IncomingPhoneNumbers/PN0/AssignedAddOns/XE0.json",
                200,
                {
                    "sid": "XE" + "0" * 32, "account_sid": "AC" + "0" * 32, "resource_sid": "PN" + "0" * 32,
                    "friendly_name": "x", "description": "", "configuration": {}, "unique_name": "x",
                    "date_created": "2026-01-01T00:00:00Z", "date_updated": "Thu, 01 Jan 2026 00:00:00 +0000",
                    "uri": "/x.json", "subresource_uris": {},
                },
            )

    def test_rejects_an_undocumented_status(self):
        with pytest.raises(AssertionError, match="status 200"):
            self.checker.check("DELETE", "/v1/InstalledAddOns/XE" + "0" * 32, 200, {})

    def test_rejects_an_error_body_without_code(self):
        with pytest.raises(AssertionError, match="code"):
            self.checker.check("GET", "/v1/InstalledAddOns", 404, {"message": "x", "more_info": "u", "status": 404})
