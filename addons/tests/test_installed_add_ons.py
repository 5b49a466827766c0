"""POST/GET/DELETE /v1/InstalledAddOns and their Extensions."""

import json

import pytest

from addons.models import InstalledAddOn, InstalledExtension
from addons.tests.factories import make_manifest

BASE = "http://127.0.0.1:8000"


def install_data(listing, **overrides):
    data = {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": '{"language": "en"}'}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def assert_nothing_installed():
    assert InstalledAddOn.objects.count() == 0
    assert InstalledExtension.objects.count() == 0


class TestInstall:
    def test_installs_the_current_version_with_every_extension_enabled(self, api, customer, listing):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, UniqueName="insight"))
        assert reply.status_code == 201
        body = reply.json()
        sid = body["sid"]
        assert body == {
            "sid": sid,
            "account_sid": customer.sid,
            "friendly_name": "Caller Insight",
            "description": "Tells who is calling.",
            # the schema's default is filled in for the setting left out
            "configuration": {"language": "en", "include_carrier": False},
            "unique_name": "insight",
            "date_created": body["date_created"],
            "date_updated": body["date_updated"],
            "url": f"{BASE}/v1/InstalledAddOns/{sid}",
            "links": {
                "extensions": f"{BASE}/v1/InstalledAddOns/{sid}/Extensions",
                "available_add_on": f"{BASE}/v1/AvailableAddOns/{listing.sid}",
            },
        }
        installation = InstalledAddOn.objects.get(sid=sid)
        assert installation.version == listing.latest_version
        assert installation.install_sid.startswith("XD")
        assert installation.terms_accepted_at is not None
        assert list(installation.installed_extensions.values_list("enabled", flat=True)) == [True, True, True]

    def test_unique_name_defaults_to_the_listing_name_then_numbers(self, api, listing):
        names = [api.post("/v1/InstalledAddOns", install_data(listing)).json()["unique_name"] for _ in range(3)]
        assert names == ["caller_insight", "caller_insight_2", "caller_insight_3"]

    @pytest.mark.parametrize("value", [None, "false", "0"])
    def test_terms_must_be_accepted(self, api, listing, value):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, AcceptTermsOfService=value))
        assert reply.status_code == 400
        assert "AcceptTermsOfService" in reply.json()["message"]
        assert_nothing_installed()

    def test_terms_must_be_a_boolean(self, api, listing):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, AcceptTermsOfService="maybe"))
        assert reply.status_code == 400
        assert "AcceptTermsOfService" in reply.json()["message"]

    @pytest.mark.parametrize("sid", [None, "", "XB123", "XE" + "0" * 32, "XB" + "z" * 32])
    def test_malformed_or_missing_listing_sid_is_400(self, api, listing, sid):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, AvailableAddOnSid=sid))
        assert reply.status_code == 400
        assert "AvailableAddOnSid" in reply.json()["message"]
        assert_nothing_installed()

    def test_unknown_listing_is_404_naming_the_parameter(self, api, listing):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, AvailableAddOnSid="XB" + "0" * 32))
        assert reply.status_code == 404
        assert reply.json()["code"] == 20404
        assert "AvailableAddOnSid" in reply.json()["message"]

    @pytest.mark.parametrize("state", ["draft", "marketing_preview", "private_beta", "suspended", "retired"])
    def test_listings_not_available_cannot_be_installed(self, api, make_listing, state):
        listing = make_listing(state=state)
        assert api.post("/v1/InstalledAddOns", install_data(listing)).status_code == 404
        assert_nothing_installed()

    def test_allowlisted_private_beta_can_be_installed(self, api, customer, make_listing):
        listing = make_listing(state="private_beta")
        listing.beta_accounts.add(customer)
        assert api.post("/v1/InstalledAddOns", install_data(listing)).status_code == 201

    @pytest.mark.parametrize("configuration", ["{not json", "[1, 2]", '"en"', "null"])
    def test_configuration_must_be_a_json_object(self, api, listing, configuration):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, Configuration=configuration))
        assert reply.status_code == 400
        assert "Configuration" in reply.json()["message"]
        assert_nothing_installed()

    def test_every_schema_violation_is_named_with_its_field(self, api, listing):
        configuration = json.dumps({"caller_prefix": "+44123", "max_results": "many", "include_carrier": "yes"})
        reply = api.post("/v1/InstalledAddOns", install_data(listing, Configuration=configuration))
        assert reply.status_code == 400
        body = reply.json()
        assert body["code"] == 20001
        fields = [d["field"] for d in body["details"]]
        assert fields == ["caller_prefix", "include_carrier", "language", "max_results"]
        assert "Caller prefix (caller_prefix) must match the pattern" in body["message"]
        assert "Language (language) is required" in body["message"]
        assert_nothing_installed()

    def test_enum_violation_lists_the_choices(self, api, listing):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, Configuration='{"language": "fr"}'))
        assert reply.status_code == 400
        assert reply.json()["details"] == [
            {"field": "language", "message": "Language (language) must be one of: en, es"}
        ]

    def test_duplicate_unique_name_is_409(self, api, listing):
        assert api.post("/v1/InstalledAddOns", install_data(listing, UniqueName="mine")).status_code == 201
        reply = api.post("/v1/InstalledAddOns", install_data(listing, UniqueName="mine"))
        assert reply.status_code == 409
        assert "UniqueName" in reply.json()["message"]
        assert InstalledAddOn.objects.count() == 1

    def test_the_same_unique_name_in_two_accounts_is_fine(self, api, other_api, listing):
        assert api.post("/v1/InstalledAddOns", install_data(listing, UniqueName="mine")).status_code == 201
        assert other_api.post("/v1/InstalledAddOns", install_data(listing, UniqueName="mine")).status_code == 201

    @pytest.mark.parametrize("name", ["", "has space", "dots.not.allowed", "x" * 65])
    def test_invalid_unique_name_is_400(self, api, listing, name):
        reply = api.post("/v1/InstalledAddOns", install_data(listing, UniqueName=name))
        assert reply.status_code == 400
        assert "UniqueName" in reply.json()["message"]
        assert_nothing_installed()

    def test_a_parameter_given_twice_is_400(self, api, listing):
        reply = api.post("/v1/InstalledAddOns", {**install_data(listing), "UniqueName": ["a", "b"]})
        assert reply.status_code == 400
        assert "UniqueName" in reply.json()["message"]

    def test_installations_stay_pinned_when_a_new_version_is_released(self, api, listing, make_listing):
        sid = api.post("/v1/InstalledAddOns", install_data(listing)).json()["sid"]
        old_version = listing.latest_version
        make_listing(friendly_name="Caller Insight 2")
        assert InstalledAddOn.objects.get(sid=sid).version == old_version
        newer = api.post("/v1/InstalledAddOns", install_data(listing)).json()["sid"]
        assert InstalledAddOn.objects.get(sid=newer).version.number == 2


class TestReadUpdateDelete:
    @pytest.fixture
    def installed(self, install, listing):
        return install(listing)

    def test_list_and_fetch(self, api, installed):
        listed = api.get("/v1/InstalledAddOns").json()
        assert [i["sid"] for i in listed["installed_add_ons"]] == [installed["sid"]]
        assert listed["meta"]["key"] == "installed_add_ons"
        assert api.get(f"/v1/InstalledAddOns/{installed['sid']}").json() == installed

    def test_update_replaces_the_configuration_and_renames(self, api, installed):
        reply = api.post(
            f"/v1/InstalledAddOns/{installed['sid']}",
            {"Configuration": '{"language": "es", "max_results": 3}', "UniqueName": "renamed"},
        )
        assert reply.status_code == 200
        body = reply.json()
        assert body["configuration"] == {"language": "es", "max_results": 3, "include_carrier": False}
        assert body["unique_name"] == "renamed"
        assert api.get(f"/v1/InstalledAddOns/{installed['sid']}").json()["unique_name"] == "renamed"

    def test_invalid_update_changes_nothing(self, api, installed):
        reply = api.post(
            f"/v1/InstalledAddOns/{installed['sid']}",
            {"Configuration": '{"language": "klingon"}', "UniqueName": "renamed"},
        )
        assert reply.status_code == 400
        row = InstalledAddOn.objects.get(sid=installed["sid"])
        assert row.configuration == installed["configuration"]
        assert row.unique_name == installed["unique_name"]

    def test_rename_to_a_taken_name_is_409(self, api, install, listing, installed):
        other = install(listing, UniqueName="other")
        reply = api.post(f"/v1/InstalledAddOns/{other['sid']}", {"UniqueName": installed["unique_name"]})
        assert reply.status_code == 409

    def test_delete_uninstalls(self, api, installed):
        assert api.delete(f"/v1/InstalledAddOns/{installed['sid']}").status_code == 204
        assert api.get(f"/v1/InstalledAddOns/{installed['sid']}").status_code == 404
        assert InstalledExtension.objects.count() == 0

    def test_other_accounts_get_404_for_everything(self, other_api, installed):
        sid = installed["sid"]
        extension = InstalledExtension.objects.first().extension.sid
        assert other_api.get(f"/v1/InstalledAddOns/{sid}").status_code == 404
        assert other_api.post(f"/v1/InstalledAddOns/{sid}", {"UniqueName": "stolen"}).status_code == 404
        assert other_api.delete(f"/v1/InstalledAddOns/{sid}").status_code == 404
        assert other_api.get(f"/v1/InstalledAddOns/{sid}/Extensions").status_code == 404
        assert other_api.get(f"/v1/InstalledAddOns/{sid}/Extensions/{extension}").status_code == 404
        reply = other_api.post(f"/v1/InstalledAddOns/{sid}/Extensions/{extension}", {"Enabled": "false"})
        assert reply.status_code == 404
        assert other_api.get("/v1/InstalledAddOns").json()["installed_add_ons"] == []
        assert InstalledAddOn.objects.get(sid=sid).unique_name == installed["unique_name"]
        assert InstalledExtension.objects.filter(enabled=False).count() == 0

    def test_extensions_list_fetch_and_switch_off(self, api, installed):
        path = f"/v1/InstalledAddOns/{installed['sid']}/Extensions"
        extensions = api.get(path).json()["extensions"]
        assert [(e["unique_name"], e["enabled"]) for e in extensions] == [
            ("lookups", True),
            ("incoming-sms", True),
            ("incoming-voice", True),
        ]
        sms = extensions[1]
        assert sms["installed_add_on_sid"] == installed["sid"]
        assert sms["url"] == f"{BASE}{path}/{sms['sid']}"
        reply = api.post(f"{path}/{sms['sid']}", {"Enabled": "false"})
        assert reply.status_code == 200 and reply.json()["enabled"] is False
        assert api.get(f"{path}/{sms['sid']}").json()["enabled"] is False
        assert api.post(f"{path}/{sms['sid']}", {"Enabled": "true"}).json()["enabled"] is True

    @pytest.mark.parametrize("value", [None, "perhaps"])
    def test_extension_update_needs_a_boolean(self, api, installed, value):
        path = f"/v1/InstalledAddOns/{installed['sid']}/Extensions"
        sid = api.get(path).json()["extensions"][0]["sid"]
        reply = api.post(f"{path}/{sid}", {} if value is None else {"Enabled": value})
        assert reply.status_code == 400
        assert "Enabled" in reply.json()["message"]
        assert InstalledExtension.objects.filter(enabled=False).count() == 0

    def test_unknown_extension_is_404(self, api, installed):
        path = f"/v1/InstalledAddOns/{installed['sid']}/Extensions/XF{'0' * 32}"
        assert api.get(path).status_code == 404


def test_installing_a_version_with_fewer_extensions(api, listing, make_listing):
    make_listing(extensions=["lookups"])
    sid = api.post("/v1/InstalledAddOns", install_data(listing)).json()["sid"]
    names = [e["unique_name"] for e in api.get(f"/v1/InstalledAddOns/{sid}/Extensions").json()["extensions"]]
    assert names == ["lookups"]


def test_no_configuration_schema_means_an_empty_configuration(api, make_listing):
    listing = make_listing(
        unique_name="plain",
        configuration_schema={"type": "object", "properties": {}},
        endpoint={**make_manifest()["endpoint"], "params": {"number": "{{primary_address}}"}},
    )
    reply = api.post("/v1/InstalledAddOns", install_data(listing, Configuration=None))
    assert reply.status_code == 201
    assert reply.json()["configuration"] == {}


def test_unknown_settings_are_refused(api, listing):
    reply = api.post("/v1/InstalledAddOns", install_data(listing, Configuration='{"language": "en", "langauge": "es"}'))
    assert reply.status_code == 400
    assert reply.json()["details"] == [{"field": "langauge", "message": "langauge is not a setting of this add-on"}]
    assert_nothing_installed()


def test_a_body_over_the_size_limit_is_413_not_a_crash(api, listing):
    reply = api.post(
        "/v1/InstalledAddOns", install_data(listing, Configuration='{"language": "' + "x" * 3_000_000 + '"}')
    )
    assert reply.status_code == 413 and reply.json()["code"] == 20001
    assert_nothing_installed()
