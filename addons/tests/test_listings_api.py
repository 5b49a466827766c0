"""The publisher API for catalog content: GET/POST /v1/Listings and GET/POST /v1/Listing/{XB}.

Twilio's ModuleData and ModuleDataManagement. Every reply goes through the wire client, so
each is also checked against the official OpenAPI description.
"""

import json

import pytest
from twilio.base.exceptions import TwilioRestException

from accounts.services import create_account
from addons.models import Listing
from addons.services import import_listing
from addons.services.listings import MAX_POLICIES_BYTES
from addons.tests.factories import make_manifest
from marketplace.errors import Conflict

BASE = "http://127.0.0.1:8000"
MISSING = "XB" + "0" * 32
NULL_SECTIONS = {
    "description": None,
    "support": None,
    "policies": None,
    "documentation": None,
    "configuration": None,
    "pricing": None,
}
MODULE_INFO = {
    "name": "My Company Listing",
    "description": "Short summary of the company.",
    "tagline": "My Company Subheadline",
    "logo_url": "https://mycompany.example/image.png",
}
CONFIGURATION = {
    "buttons": [{"url": "https://signup.example", "label": "Setup Account", "help_text": "Help caption"}],
    "notification_configuration": {"callback_url": "https://example.com", "notification_events": ["module_install"]},
}
SECTIONS = {
    "Description": {"body": "Long description", "highlights": [{"title": "F1", "description": "Feature 1"}]},
    "Documentation": {"body": "### Docs"},
    "Policies": {"privacy": "[Privacy](https://example.com/privacy)", "legal": "[Legal](https://example.com/legal)"},
    "Support": {"technical_email": "support@example.com", "support_description": "Call us."},
    "Configuration": CONFIGURATION,
    "Pricing": {"body": "### Basic plan - $15/month"},
}
PARAMS = ["ModuleInfo", "Description", "Documentation", "Policies", "Support", "Configuration", "Pricing"]
KEYS = {
    "ModuleInfo": "module_info",
    "Description": "description",
    "Documentation": "documentation",
    "Policies": "policies",
    "Support": "support",
    "Configuration": "configuration",
    "Pricing": "pricing",
}


def encoded(**sections):
    return {name: json.dumps(value) for name, value in sections.items()}


def assert_parameter_error(reply, name, status=400, code=20001):
    assert reply.status_code == status, reply
    body = reply.json()
    assert body["code"] == code
    assert f"'{name}'" in body["message"]


@pytest.fixture
def as_publisher(api_for, publisher):
    return api_for(publisher)


@pytest.fixture
def rival(db):
    return create_account(friendly_name="Rival Data", is_publisher=True)


@pytest.fixture
def as_rival(api_for, rival):
    return api_for(rival)


@pytest.fixture
def shell(as_publisher):
    """A listing created through the API, with ModuleInfo and Configuration."""
    reply = as_publisher.post("/v1/Listings", encoded(ModuleInfo=MODULE_INFO, Configuration=CONFIGURATION))
    assert reply.status_code == 200, reply
    return Listing.objects.get(sid=reply.json()["sid"])


class TestCreate:
    def test_creates_a_draft_shell_owned_by_the_publisher(self, as_publisher, publisher):
        reply = as_publisher.post("/v1/Listings", encoded(ModuleInfo=MODULE_INFO, Configuration=CONFIGURATION))
        assert reply.status_code == 200
        body = reply.json()
        sid = body["sid"]
        assert sid.startswith("XB")
        assert body == {
            **NULL_SECTIONS,
            "url": f"{BASE}/v1/Listing/{sid}",
            "sid": sid,
            "module_info": {**MODULE_INFO, "unique_name": "my_company_listing"},
            "configuration": CONFIGURATION,
        }
        listing = Listing.objects.get(sid=sid)
        assert listing.publisher == publisher
        assert listing.state == Listing.State.DRAFT
        assert (listing.type, listing.pricing_type, listing.latest_version) == ("", "", None)
        assert listing.unique_name == "my_company_listing"
        assert listing.friendly_name == "My Company Listing"
        assert listing.description == "Short summary of the company."
        assert listing.content == {"module_info": body["module_info"], "configuration": CONFIGURATION}

    def test_configuration_is_optional_and_description_defaults_to_blank(self, as_publisher):
        body = as_publisher.post("/v1/Listings", encoded(ModuleInfo={"name": "Bare"})).json()
        assert body["module_info"] == {"name": "Bare", "unique_name": "bare"}
        assert body["configuration"] is None
        assert Listing.objects.get(sid=body["sid"]).description == ""

    def test_unique_name_defaults_to_the_slug_numbered_when_taken(self, as_publisher, listing):
        def create(name):
            return as_publisher.post("/v1/Listings", encoded(ModuleInfo={"name": name})).json()["module_info"]

        assert create("Ça Marche! (v2)")["unique_name"] == "ca_marche_v2"
        assert create("Ça marche v2")["unique_name"] == "ca_marche_v2_2"
        # "Caller Insight" is the manifest-imported `listing` fixture's name.
        assert create("Caller Insight")["unique_name"] == "caller_insight_2"
        assert create("!!")["unique_name"] == "listing"
        long = create("x" * 100)["unique_name"]
        assert long == "x" * 64
        assert create("x" * 100)["unique_name"] == "x" * 62 + "_2"

    def test_a_given_unique_name_is_kept(self, as_publisher):
        info = {"name": "Mine", "unique_name": "my-add_on"}
        body = as_publisher.post("/v1/Listings", encoded(ModuleInfo=info)).json()
        assert body["module_info"] == info
        assert Listing.objects.get(sid=body["sid"]).unique_name == "my-add_on"

    def test_a_taken_unique_name_is_409_naming_module_info(self, as_publisher, as_rival, listing):
        reply = as_rival.post("/v1/Listings", encoded(ModuleInfo={"name": "X", "unique_name": "caller_insight"}))
        assert_parameter_error(reply, "ModuleInfo", status=409, code=20409)
        reply = as_publisher.post("/v1/Listings", encoded(ModuleInfo={"name": "X", "unique_name": "caller_insight"}))
        assert_parameter_error(reply, "ModuleInfo", status=409, code=20409)
        assert Listing.objects.count() == 1

    def test_non_publishers_are_refused_with_403(self, api):
        reply = api.post("/v1/Listings", encoded(ModuleInfo=MODULE_INFO))
        assert reply.status_code == 403
        assert reply.json()["code"] == 20403
        assert "publisher" in reply.json()["message"]
        assert not Listing.objects.exists()

    @pytest.mark.parametrize(
        "data,name",
        [
            ({}, "ModuleInfo"),
            ({"ModuleInfo": "{not json"}, "ModuleInfo"),
            ({"ModuleInfo": ""}, "ModuleInfo"),
            ({"ModuleInfo": "[1, 2]"}, "ModuleInfo"),
            ({"ModuleInfo": '"a name"'}, "ModuleInfo"),
            ({"ModuleInfo": "null"}, "ModuleInfo"),
            ({"ModuleInfo": "{}"}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "  "}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": 7}'}, "ModuleInfo"),
            ({"ModuleInfo": json.dumps({"name": "x" * 256})}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "unique_name": "A_B"}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "unique_name": "a"}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "unique_name": "-ab"}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "unique_name": "a b"}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "unique_name": "ab\\n"}'}, "ModuleInfo"),
            ({"ModuleInfo": json.dumps({"name": "A", "unique_name": "a" * 65})}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "unique_name": 12}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A", "description": ["x"]}'}, "ModuleInfo"),
            ({"ModuleInfo": '{"name": "A"}', "Configuration": "{"}, "Configuration"),
            ({"ModuleInfo": '{"name": "A"}', "Configuration": "[]"}, "Configuration"),
            ({"ModuleInfo": ['{"name": "A"}', '{"name": "B"}']}, "ModuleInfo"),
        ],
    )
    def test_bad_input_is_400_naming_the_parameter_and_writes_nothing(self, as_publisher, data, name):
        assert_parameter_error(as_publisher.post("/v1/Listings", data), name)
        assert not Listing.objects.exists()

    def test_the_shell_is_not_in_the_catalog(self, api, shell):
        assert api.get("/v1/AvailableAddOns").json()["available_add_ons"] == []
        assert api.get(f"/v1/AvailableAddOns/{shell.sid}").status_code == 404

    def test_credentials_are_required(self, anonymous_api, api_for, publisher):
        assert anonymous_api.post("/v1/Listings", encoded(ModuleInfo=MODULE_INFO)).status_code == 401
        wrong = api_for(publisher, password="wrong")
        reply = wrong.post("/v1/Listings", encoded(ModuleInfo=MODULE_INFO))
        assert reply.status_code == 401 and reply.json()["code"] == 20003
        assert not Listing.objects.exists()


class TestList:
    def test_lists_the_callers_own_listings_only(self, as_publisher, as_rival, rival, listing, shell):
        as_rival.post("/v1/Listings", encoded(ModuleInfo={"name": "Rival's"}))
        body = as_publisher.get("/v1/Listings").json()
        assert body == {
            "listings": [
                # imported from a manifest: no catalog section set yet
                {"url": f"{BASE}/v1/Listing/{listing.sid}", "sid": listing.sid, "module_info": None, **NULL_SECTIONS},
                as_publisher.get(f"/v1/Listing/{shell.sid}").json(),
            ]
        }
        assert [item["module_info"]["name"] for item in as_rival.get("/v1/Listings").json()["listings"]] == ["Rival's"]

    def test_every_state_is_listed(self, as_publisher, make_listing):
        sids = [make_listing(state=state, unique_name=f"in_{state}").sid for state in Listing.State.values]
        assert [item["sid"] for item in as_publisher.get("/v1/Listings").json()["listings"]] == sids

    def test_an_account_without_listings_gets_an_empty_list(self, api, listing):
        reply = api.get("/v1/Listings")
        assert reply.status_code == 200
        assert reply.json() == {"listings": []}

    def test_credentials_are_required(self, anonymous_api, api_for, publisher, listing):
        assert anonymous_api.get("/v1/Listings").status_code == 401
        assert api_for(publisher, password="wrong").get("/v1/Listings").status_code == 401


class TestFetch:
    def test_the_owner_reads_the_listing(self, as_publisher, shell):
        body = as_publisher.get(f"/v1/Listing/{shell.sid}").json()
        assert body == {
            **NULL_SECTIONS,
            "url": f"{BASE}/v1/Listing/{shell.sid}",
            "sid": shell.sid,
            "module_info": {**MODULE_INFO, "unique_name": "my_company_listing"},
            "configuration": CONFIGURATION,
        }

    def test_accepts_uppercase_hex(self, as_publisher, shell):
        assert as_publisher.get(f"/v1/Listing/XB{shell.sid[2:].upper()}").json()["sid"] == shell.sid

    def test_works_with_an_api_key(self, api_for, publisher, shell):
        from accounts.services import create_api_key

        key, secret = create_api_key(account=publisher)
        assert api_for(publisher, key.sid, secret).get(f"/v1/Listing/{shell.sid}").status_code == 200

    @pytest.mark.parametrize("who", ["rival", "customer"])
    def test_another_accounts_listing_is_404_like_a_missing_one(self, request, listing, shell, who):
        client = request.getfixturevalue("as_rival" if who == "rival" else "api")
        # Even an active listing the account may install: this resource is its publisher's.
        for sid in (shell.sid, listing.sid):
            reply = client.get(f"/v1/Listing/{sid}")
            assert reply.status_code == 404 and reply.json()["code"] == 20404
        missing = client.get(f"/v1/Listing/{MISSING}").json()
        assert reply.json() == {**missing, "message": missing["message"].replace(MISSING, listing.sid)}

    @pytest.mark.parametrize("bad", ["XB123", "XE" + "0" * 32, "XB" + "g" * 32, MISSING])
    def test_malformed_or_unknown_sids_are_404(self, as_publisher, shell, bad):
        reply = as_publisher.get(f"/v1/Listing/{bad}")
        assert reply.status_code == 404 and reply.json()["code"] == 20404

    def test_credentials_are_required(self, anonymous_api, api_for, publisher, shell):
        assert anonymous_api.get(f"/v1/Listing/{shell.sid}").status_code == 401
        assert api_for(publisher, password="wrong").get(f"/v1/Listing/{shell.sid}").status_code == 401


class TestUpdate:
    def test_replaces_the_given_sections_and_keeps_the_others(self, as_publisher, shell):
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(**SECTIONS))
        assert reply.status_code == 200
        expected = {
            "url": f"{BASE}/v1/Listing/{shell.sid}",
            "sid": shell.sid,
            "module_info": {**MODULE_INFO, "unique_name": "my_company_listing"},
            **{KEYS[name]: value for name, value in SECTIONS.items()},
        }
        assert reply.json() == expected
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={"body": "Free"}))
        assert reply.json() == {**expected, "pricing": {"body": "Free"}}
        assert as_publisher.get(f"/v1/Listing/{shell.sid}").json() == reply.json()

    def test_a_section_is_replaced_whole_not_merged(self, as_publisher, shell):
        body = as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Configuration={"buttons": []})).json()
        assert body["configuration"] == {"buttons": []}

    def test_module_info_keeps_the_listing_names_in_step(self, as_publisher, api, listing):
        info = {"name": "Caller Insight Pro", "description": "Knows every caller.", "tagline": "Who?"}
        body = as_publisher.post(f"/v1/Listing/{listing.sid}", encoded(ModuleInfo=info)).json()
        assert body["module_info"] == {**info, "unique_name": "caller_insight"}
        listing.refresh_from_db()
        assert (listing.friendly_name, listing.description) == ("Caller Insight Pro", "Knows every caller.")
        available = api.get(f"/v1/AvailableAddOns/{listing.sid}").json()
        assert (available["friendly_name"], available["description"]) == ("Caller Insight Pro", "Knows every caller.")

    def test_module_info_without_description_keeps_the_listing_description(self, as_publisher, shell):
        as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(ModuleInfo={"name": "Renamed"}))
        shell.refresh_from_db()
        assert (shell.friendly_name, shell.description) == ("Renamed", "Short summary of the company.")

    def test_the_unique_name_cannot_change(self, as_publisher, shell):
        before = Listing.objects.get(pk=shell.pk)
        reply = as_publisher.post(
            f"/v1/Listing/{shell.sid}", encoded(ModuleInfo={"name": "X", "unique_name": "other_name"})
        )
        assert_parameter_error(reply, "ModuleInfo")
        after = Listing.objects.get(pk=shell.pk)
        assert (after.unique_name, after.friendly_name, after.content) == (
            before.unique_name,
            before.friendly_name,
            before.content,
        )

    def test_repeating_the_unique_name_is_fine(self, as_publisher, shell):
        info = {"name": "Renamed", "unique_name": "my_company_listing"}
        assert as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(ModuleInfo=info)).status_code == 200

    @pytest.mark.parametrize(
        "data",
        [
            {},
            encoded(Configuration=CONFIGURATION),
            # key order and spacing do not matter; the unique name may be left out or repeated
            {"Configuration": json.dumps(dict(reversed(CONFIGURATION.items())), indent=2)},
            encoded(ModuleInfo=MODULE_INFO, Configuration=CONFIGURATION),
            encoded(ModuleInfo={**MODULE_INFO, "unique_name": "my_company_listing"}),
        ],
    )
    def test_nothing_changed_is_304_with_no_body_and_no_write(self, as_publisher, shell, data):
        before = Listing.objects.get(pk=shell.pk)
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", data)
        assert reply.status_code == 304
        assert reply.body == b""
        after = Listing.objects.get(pk=shell.pk)
        assert after.date_updated == before.date_updated
        assert after.content == before.content

    def test_an_unset_section_given_is_a_change(self, as_publisher, shell):
        before = Listing.objects.get(pk=shell.pk).date_updated
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={}))
        assert reply.status_code == 200 and reply.json()["pricing"] == {}
        assert Listing.objects.get(pk=shell.pk).date_updated > before
        assert as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={})).status_code == 304

    def test_json_types_are_compared_exactly(self, as_publisher, shell):
        as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={"free": True}))
        # equal in Python (True == 1), different in JSON
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={"free": 1}))
        assert reply.status_code == 200 and reply.json()["pricing"] == {"free": 1}

    def test_one_changed_section_among_equal_ones_is_a_change(self, as_publisher, shell):
        reply = as_publisher.post(
            f"/v1/Listing/{shell.sid}", encoded(Configuration=CONFIGURATION, Support={"technical_email": "a@b.c"})
        )
        assert reply.status_code == 200
        assert reply.json()["support"] == {"technical_email": "a@b.c"}

    @pytest.mark.parametrize("name", PARAMS)
    @pytest.mark.parametrize("value", ["{not json", "", "[1]", '"text"', "3", "null", "true"])
    def test_each_section_must_be_a_json_object(self, as_publisher, shell, name, value):
        before = Listing.objects.get(pk=shell.pk)
        # A good section given alongside is not written either.
        data = {**encoded(Pricing={"body": "changed"}), name: value}
        assert_parameter_error(as_publisher.post(f"/v1/Listing/{shell.sid}", data), name)
        after = Listing.objects.get(pk=shell.pk)
        assert (after.content, after.date_updated) == (before.content, before.date_updated)

    @pytest.mark.parametrize(
        "info",
        [
            {},
            {"name": ""},
            {"name": None},
            {"name": "x" * 256},
            {"name": "A", "unique_name": "B"},
            {"name": "A", "description": 5},
        ],
    )
    def test_module_info_is_checked_as_on_create(self, as_publisher, shell, info):
        before = Listing.objects.get(pk=shell.pk)
        assert_parameter_error(as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(ModuleInfo=info)), "ModuleInfo")
        after = Listing.objects.get(pk=shell.pk)
        assert (after.content, after.friendly_name) == (before.content, before.friendly_name)

    def test_policies_over_5_mb_are_refused(self, as_publisher, shell):
        before = Listing.objects.get(pk=shell.pk)
        overhead = len('{"privacy":""}')
        too_big = json.dumps({"privacy": "p" * (MAX_POLICIES_BYTES - overhead + 1)}, separators=(",", ":"))
        assert len(too_big.encode()) == MAX_POLICIES_BYTES + 1
        assert_parameter_error(as_publisher.post(f"/v1/Listing/{shell.sid}", {"Policies": too_big}), "Policies")
        after = Listing.objects.get(pk=shell.pk)
        assert (after.content, after.date_updated) == (before.content, before.date_updated)

    def test_policies_of_exactly_5_mb_are_accepted(self, as_publisher, shell):
        overhead = len('{"privacy":""}')
        policies = {"privacy": "p" * (MAX_POLICIES_BYTES - overhead)}
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", encoded(Policies=policies))
        assert reply.status_code == 200
        assert len(Listing.objects.get(pk=shell.pk).content["policies"]["privacy"]) == MAX_POLICIES_BYTES - overhead

    def test_a_body_beyond_the_endpoints_cap_is_413(self, as_publisher, shell):
        from addons.api.listings import MAX_UPDATE_BODY_BYTES

        before = Listing.objects.get(pk=shell.pk).content
        reply = as_publisher.post(f"/v1/Listing/{shell.sid}", {"Pricing": "x" * MAX_UPDATE_BODY_BYTES})
        assert reply.status_code == 413 and reply.json()["code"] == 20001
        assert Listing.objects.get(pk=shell.pk).content == before

    def test_only_form_encoded_bodies_are_taken(self, as_publisher, shell):
        reply = as_publisher.post_json(f"/v1/Listing/{shell.sid}", {"Pricing": "{}"})
        assert reply.status_code == 415

    @pytest.mark.parametrize("who", ["rival", "customer"])
    def test_another_accounts_listing_is_404_and_untouched(self, request, shell, who):
        client = request.getfixturevalue("as_rival" if who == "rival" else "api")
        before = Listing.objects.get(pk=shell.pk)
        reply = client.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={"body": "hijacked"}))
        assert reply.status_code == 404 and reply.json()["code"] == 20404
        # Bad input does not reveal the listing either: 404 comes first.
        assert client.post(f"/v1/Listing/{shell.sid}", {"Pricing": "{"}).status_code == 404
        after = Listing.objects.get(pk=shell.pk)
        assert (after.content, after.date_updated) == (before.content, before.date_updated)

    def test_unknown_sid_is_404(self, as_publisher):
        assert as_publisher.post(f"/v1/Listing/{MISSING}", encoded(Pricing={})).status_code == 404

    def test_credentials_are_required(self, anonymous_api, api_for, publisher, shell):
        before = Listing.objects.get(pk=shell.pk).content
        assert anonymous_api.post(f"/v1/Listing/{shell.sid}", encoded(Pricing={})).status_code == 401
        assert (
            api_for(publisher, password="wrong").post(f"/v1/Listing/{shell.sid}", encoded(Pricing={})).status_code
            == 401
        )
        assert Listing.objects.get(pk=shell.pk).content == before


class TestFirstManifest:
    def test_a_manifest_with_the_same_unique_name_releases_version_1(self, as_publisher, publisher, api, shell):
        version = import_listing(
            manifest=make_manifest(unique_name=shell.unique_name, friendly_name="My Company Listing"),
            publisher=publisher,
            state="active",
        )
        assert version.number == 1 and version.listing.pk == shell.pk
        listing = Listing.objects.get(pk=shell.pk)
        assert listing.latest_version == version
        assert (listing.type, listing.pricing_type) == ("phone_number", "per_use")
        assert listing.content["configuration"] == CONFIGURATION  # the catalog sections survive
        assert [a["sid"] for a in api.get("/v1/AvailableAddOns").json()["available_add_ons"]] == [shell.sid]
        # ...and a second manifest releases version 2, as for any listing.
        again = import_listing(manifest=make_manifest(unique_name=shell.unique_name), publisher=publisher)
        assert again.number == 2

    def test_another_publisher_cannot_release_into_the_shell(self, rival, shell):
        with pytest.raises(Conflict):
            import_listing(manifest=make_manifest(unique_name=shell.unique_name), publisher=rival)
        assert Listing.objects.get(pk=shell.pk).latest_version is None


@pytest.fixture
def sdk_publisher(sdk, publisher):
    return sdk(publisher.sid, publisher.auth_token)


def test_the_publisher_api_through_the_official_sdk(sdk_publisher, sdk, customer, publisher, listing):
    v1 = sdk_publisher.marketplace.v1

    # module_data: create (the SDK sends the JSON strings as given) and fetch the list.
    created = v1.module_data.create(module_info=json.dumps(MODULE_INFO), configuration=json.dumps(CONFIGURATION))
    assert created.sid.startswith("XB")
    assert created.module_info == {**MODULE_INFO, "unique_name": "my_company_listing"}
    assert created.configuration == CONFIGURATION and created.pricing is None
    listings = v1.module_data.fetch().listings
    assert [item["sid"] for item in listings] == [listing.sid, created.sid]

    # module_data_management: fetch and update.
    fetched = v1.module_data_management(created.sid).fetch()
    assert fetched.sid == created.sid and fetched.url.endswith(f"/v1/Listing/{created.sid}")
    updated = v1.module_data_management(created.sid).update(
        description=json.dumps(SECTIONS["Description"]), pricing=json.dumps(SECTIONS["Pricing"])
    )
    assert updated.description == SECTIONS["Description"] and updated.pricing == SECTIONS["Pricing"]
    assert updated.module_info == created.module_info

    # 304 Not Modified: the spec's answer when nothing changed; the SDK treats it as an error.
    with pytest.raises(TwilioRestException) as unchanged:
        v1.module_data_management(created.sid).update(pricing=json.dumps(SECTIONS["Pricing"]))
    assert unchanged.value.status == 304

    with pytest.raises(TwilioRestException) as bad:
        v1.module_data_management(created.sid).update(policies="{")
    assert bad.value.status == 400 and bad.value.code == 20001 and "Policies" in bad.value.msg

    # A customer account: not a publisher, sees no one else's listing.
    as_customer = sdk(customer.sid, customer.auth_token).marketplace.v1
    with pytest.raises(TwilioRestException) as refused:
        as_customer.module_data.create(module_info=json.dumps({"name": "Nope"}))
    assert refused.value.status == 403 and refused.value.code == 20403
    assert as_customer.module_data.fetch().listings == []
    with pytest.raises(TwilioRestException) as hidden:
        as_customer.module_data_management(created.sid).fetch()
    assert hidden.value.status == 404 and hidden.value.code == 20404
