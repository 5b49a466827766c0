"""2010 API: IncomingPhoneNumbers and the add-ons assigned to them."""

import pytest

from accounts.models import IncomingPhoneNumber
from addons.models import Assignment, InstalledAddOn


@pytest.fixture
def numbers_path(customer):
    return f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers"


@pytest.fixture
def number(api, numbers_path):
    reply = api.post(
        f"{numbers_path}.json",
        {"PhoneNumber": "+14155552671", "FriendlyName": "Support line", "SmsUrl": "https://example.com/sms"},
    )
    assert reply.status_code == 201, reply
    return reply.json()


class TestIncomingPhoneNumbers:
    def test_create_shows_the_number_in_2010_form(self, customer, number, numbers_path):
        assert number["sid"].startswith("PN")
        assert number["account_sid"] == customer.sid
        assert number["phone_number"] == "+14155552671"
        assert number["friendly_name"] == "Support line"
        assert number["sms_url"] == "https://example.com/sms"
        assert number["sms_method"] == "POST" and number["voice_method"] == "POST"
        assert number["uri"] == f"{numbers_path}/{number['sid']}.json"
        assert number["subresource_uris"] == {"assigned_add_ons": f"{numbers_path}/{number['sid']}/AssignedAddOns.json"}
        assert number["date_created"].endswith("+0000")  # RFC 2822

    def test_friendly_name_defaults_to_the_number(self, api, numbers_path):
        body = api.post(f"{numbers_path}.json", {"PhoneNumber": "+442071838750"}).json()
        assert body["friendly_name"] == "+442071838750"

    @pytest.mark.parametrize(
        "value", ["4155552671", "+1 415 555 2671", "+1415555267", "+999123", "+14155552671x", "tel:+14155552671", ""]
    )
    def test_numbers_not_in_e164_are_refused(self, api, numbers_path, value):
        reply = api.post(f"{numbers_path}.json", {"PhoneNumber": value})
        assert reply.status_code == 400
        assert reply.json()["code"] == 21421
        assert "PhoneNumber" in reply.json()["message"]
        assert IncomingPhoneNumber.objects.count() == 0

    def test_phone_number_is_required(self, api, numbers_path):
        reply = api.post(f"{numbers_path}.json", {"FriendlyName": "x"})
        assert reply.status_code == 400 and "PhoneNumber" in reply.json()["message"]

    def test_area_code_purchase_is_explained(self, api, numbers_path):
        reply = api.post(f"{numbers_path}.json", {"AreaCode": "415"})
        assert reply.status_code == 400 and "AreaCode" in reply.json()["message"]

    @pytest.mark.parametrize(
        "param,value",
        [("SmsUrl", "ftp://example.com"), ("VoiceUrl", "not a url"), ("SmsMethod", "PUT"), ("VoiceMethod", "x")],
    )
    def test_bad_urls_and_methods_are_refused(self, api, numbers_path, param, value):
        reply = api.post(f"{numbers_path}.json", {"PhoneNumber": "+14155552671", param: value})
        assert reply.status_code == 400
        assert param in reply.json()["message"]
        assert IncomingPhoneNumber.objects.count() == 0

    def test_a_number_has_one_owner(self, other_api, other_customer, number):
        reply = other_api.post(
            f"/2010-04-01/Accounts/{other_customer.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": "+14155552671"}
        )
        assert reply.status_code == 409

    def test_list_filters_and_fetch(self, api, number, numbers_path):
        api.post(f"{numbers_path}.json", {"PhoneNumber": "+442071838750"})
        listed = api.get(f"{numbers_path}.json").json()
        assert [n["phone_number"] for n in listed["incoming_phone_numbers"]] == ["+14155552671", "+442071838750"]
        assert listed["start"] == 0 and listed["end"] == 1 and listed["page_size"] == 50
        assert listed["uri"] == f"{numbers_path}.json?PageSize=50&Page=0"
        filtered = api.get(f"{numbers_path}.json", {"PhoneNumber": "+442071838750"}).json()
        assert [n["phone_number"] for n in filtered["incoming_phone_numbers"]] == ["+442071838750"]
        assert api.get(f"{numbers_path}/{number['sid']}.json").json() == number

    def test_list_pages_with_relative_uris(self, api, numbers_path):
        for suffix in range(3):
            api.post(f"{numbers_path}.json", {"PhoneNumber": f"+1415555267{suffix}"})
        first = api.get(f"{numbers_path}.json", {"PageSize": 2}).json()
        assert first["next_page_uri"].startswith(f"{numbers_path}.json?PageSize=2&Page=1&PageToken=PT")
        second = api.get(first["next_page_uri"]).json()
        assert [n["phone_number"] for n in second["incoming_phone_numbers"]] == ["+14155552672"]
        assert second["start"] == 2 and second["end"] == 2 and second["next_page_uri"] is None
        assert second["previous_page_uri"] is not None

    def test_update(self, api, number, numbers_path):
        reply = api.post(
            f"{numbers_path}/{number['sid']}.json",
            {"VoiceUrl": "https://example.com/voice", "VoiceMethod": "GET", "FriendlyName": "Renamed"},
        )
        assert reply.status_code == 200
        body = reply.json()
        assert (body["voice_url"], body["voice_method"], body["friendly_name"]) == (
            "https://example.com/voice",
            "GET",
            "Renamed",
        )
        assert body["sms_url"] == "https://example.com/sms"

    def test_invalid_update_changes_nothing(self, api, number, numbers_path):
        reply = api.post(f"{numbers_path}/{number['sid']}.json", {"FriendlyName": "New", "SmsUrl": "nope"})
        assert reply.status_code == 400
        assert IncomingPhoneNumber.objects.get(sid=number["sid"]).friendly_name == "Support line"

    def test_delete(self, api, number, numbers_path):
        assert api.delete(f"{numbers_path}/{number['sid']}.json").status_code == 204
        assert api.get(f"{numbers_path}/{number['sid']}.json").status_code == 404

    def test_the_path_must_name_the_callers_account(self, api, other_customer, number):
        others = f"/2010-04-01/Accounts/{other_customer.sid}/IncomingPhoneNumbers"
        assert api.get(f"{others}.json").status_code == 404
        assert api.get(f"{others}/{number['sid']}.json").status_code == 404
        assert api.post(f"{others}.json", {"PhoneNumber": "+14155550100"}).status_code == 404
        assert api.get("/2010-04-01/Accounts/not-a-sid/IncomingPhoneNumbers.json").status_code == 404

    def test_other_accounts_numbers_are_404(self, other_api, other_customer, number):
        mine = f"/2010-04-01/Accounts/{other_customer.sid}/IncomingPhoneNumbers/{number['sid']}.json"
        assert other_api.get(mine).status_code == 404
        assert other_api.post(mine, {"FriendlyName": "stolen"}).status_code == 404
        assert other_api.delete(mine).status_code == 404
        assert IncomingPhoneNumber.objects.get(sid=number["sid"]).friendly_name == "Support line"


class TestAssignedAddOns:
    @pytest.fixture
    def installed(self, install, listing):
        return install(listing, UniqueName="insight")

    @pytest.fixture
    def assigned_path(self, numbers_path, number):
        return f"{numbers_path}/{number['sid']}/AssignedAddOns"

    def test_assign_list_fetch_unassign(self, api, customer, number, installed, assigned_path):
        reply = api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        assert reply.status_code == 201
        body = reply.json()
        assert body["sid"] == installed["sid"]
        assert body["resource_sid"] == number["sid"]
        assert body["account_sid"] == customer.sid
        assert body["unique_name"] == "insight"
        assert body["configuration"] == installed["configuration"]
        assert body["uri"] == f"{assigned_path}/{installed['sid']}.json"
        assert body["subresource_uris"] == {"extensions": f"{assigned_path}/{installed['sid']}/Extensions.json"}
        listed = api.get(f"{assigned_path}.json").json()
        assert [a["sid"] for a in listed["assigned_add_ons"]] == [installed["sid"]]
        assert api.get(f"{assigned_path}/{installed['sid']}.json").json() == body
        assert api.delete(f"{assigned_path}/{installed['sid']}.json").status_code == 204
        assert api.get(f"{assigned_path}/{installed['sid']}.json").status_code == 404
        assert InstalledAddOn.objects.filter(sid=installed["sid"]).exists()

    def test_extensions_of_an_assigned_add_on(self, api, installed, assigned_path):
        api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        api.post(
            f"/v1/InstalledAddOns/{installed['sid']}/Extensions/"
            + api.get(f"/v1/InstalledAddOns/{installed['sid']}/Extensions").json()["extensions"][0]["sid"],
            {"Enabled": "false"},
        )
        path = f"{assigned_path}/{installed['sid']}/Extensions"
        extensions = api.get(f"{path}.json").json()["extensions"]
        assert [(e["unique_name"], e["enabled"]) for e in extensions] == [
            ("lookups", False),
            ("incoming-sms", True),
            ("incoming-voice", True),
        ]
        assert extensions[0]["assigned_add_on_sid"] == installed["sid"]
        assert api.get(f"{path}/{extensions[1]['sid']}.json").json() == extensions[1]
        assert api.get(f"{path}/XF{'0' * 32}.json").status_code == 404

    def test_assigning_twice_is_409(self, api, installed, assigned_path):
        api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        reply = api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        assert reply.status_code == 409
        assert Assignment.objects.count() == 1

    @pytest.mark.parametrize("value", [None, "XE123", "XB" + "0" * 32])
    def test_installation_sid_must_be_well_formed(self, api, installed, assigned_path, value):
        reply = api.post(f"{assigned_path}.json", {} if value is None else {"InstalledAddOnSid": value})
        assert reply.status_code == 400
        assert "InstalledAddOnSid" in reply.json()["message"]
        assert Assignment.objects.count() == 0

    def test_another_accounts_installation_cannot_be_assigned(self, api, install, other_api, listing, assigned_path):
        theirs = install(listing, client=other_api)
        reply = api.post(f"{assigned_path}.json", {"InstalledAddOnSid": theirs["sid"]})
        assert reply.status_code == 404
        assert "InstalledAddOnSid" in reply.json()["message"]
        assert Assignment.objects.count() == 0

    def test_other_accounts_cannot_see_or_remove_assignments(
        self, api, other_api, other_customer, installed, assigned_path, number
    ):
        api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        theirs = f"/2010-04-01/Accounts/{other_customer.sid}/IncomingPhoneNumbers/{number['sid']}/AssignedAddOns"
        assert other_api.get(f"{theirs}.json").status_code == 404
        assert other_api.get(f"{theirs}/{installed['sid']}.json").status_code == 404
        assert other_api.delete(f"{theirs}/{installed['sid']}.json").status_code == 404
        assert other_api.get(f"{theirs}/{installed['sid']}/Extensions.json").status_code == 404
        assert other_api.get(f"{assigned_path}.json").status_code == 404
        assert Assignment.objects.count() == 1

    def test_uninstalling_removes_the_assignment(self, api, installed, assigned_path):
        api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        api.delete(f"/v1/InstalledAddOns/{installed['sid']}")
        assert api.get(f"{assigned_path}.json").json()["assigned_add_ons"] == []

    def test_deleting_the_number_removes_its_assignments(self, api, installed, assigned_path, numbers_path, number):
        api.post(f"{assigned_path}.json", {"InstalledAddOnSid": installed["sid"]})
        api.delete(f"{numbers_path}/{number['sid']}.json")
        assert Assignment.objects.count() == 0
        assert InstalledAddOn.objects.filter(sid=installed["sid"]).exists()
