"""The official `twilio` SDK against a live server: the whole foundation, end to end."""

import pytest
from twilio.base.exceptions import TwilioRestException

from accounts import services as account_services


@pytest.fixture
def client(sdk, customer):
    return sdk(customer.sid, customer.auth_token)


def test_the_foundation_through_the_official_sdk(client, customer, listing, make_listing):
    make_listing(unique_name="second_listing")

    # Browse: list (paging through two pages of one) and fetch, with extensions.
    available = client.marketplace.v1.available_add_ons.list(page_size=1)
    assert [a.sid for a in available] == [listing.sid, available[1].sid] and len(available) == 2
    fetched = client.marketplace.v1.available_add_ons(listing.sid).fetch()
    assert fetched.friendly_name == "Caller Insight"
    assert fetched.pricing_type == "per_use"
    assert fetched.configuration_schema["required"] == ["language"]
    extensions = client.marketplace.v1.available_add_ons(listing.sid).extensions.list()
    assert [e.unique_name for e in extensions] == ["lookups", "incoming-sms", "incoming-voice"]
    lookups = client.marketplace.v1.available_add_ons(listing.sid).extensions(extensions[0].sid).fetch()
    assert lookups.product_name == "Lookups"

    # Install with a configuration, then update it.
    installed = client.marketplace.v1.installed_add_ons.create(
        available_add_on_sid=listing.sid,
        accept_terms_of_service=True,
        configuration={"language": "en", "max_results": 5},
        unique_name="insight",
    )
    assert installed.sid.startswith("XE") and installed.account_sid == customer.sid
    assert installed.configuration == {"language": "en", "max_results": 5, "include_carrier": False}
    updated = client.marketplace.v1.installed_add_ons(installed.sid).update(
        configuration={"language": "es"}, unique_name="insight_es"
    )
    assert updated.unique_name == "insight_es" and updated.configuration["language"] == "es"
    assert [i.sid for i in client.marketplace.v1.installed_add_ons.list()] == [installed.sid]

    # Switch one extension off.
    installed_extensions = client.marketplace.v1.installed_add_ons(installed.sid).extensions.list()
    assert all(e.enabled for e in installed_extensions)
    sms = next(e for e in installed_extensions if e.unique_name == "incoming-sms")
    switched = client.marketplace.v1.installed_add_ons(installed.sid).extensions(sms.sid).update(enabled=False)
    assert switched.enabled is False
    assert client.marketplace.v1.installed_add_ons(installed.sid).extensions(sms.sid).fetch().enabled is False

    # Register a number and assign the installation to it.
    number = client.incoming_phone_numbers.create(phone_number="+14155552671", sms_url="https://example.com/sms")
    assert number.sid.startswith("PN") and number.phone_number == "+14155552671"
    assert [n.sid for n in client.incoming_phone_numbers.list()] == [number.sid]
    assigned = client.incoming_phone_numbers(number.sid).assigned_add_ons.create(installed_add_on_sid=installed.sid)
    assert assigned.sid == installed.sid and assigned.resource_sid == number.sid
    assert [a.sid for a in client.incoming_phone_numbers(number.sid).assigned_add_ons.list()] == [installed.sid]
    assigned_extensions = client.incoming_phone_numbers(number.sid).assigned_add_ons(installed.sid).extensions.list()
    assert {e.unique_name: e.enabled for e in assigned_extensions} == {
        "lookups": True,
        "incoming-sms": False,
        "incoming-voice": True,
    }
    one = client.incoming_phone_numbers(number.sid).assigned_add_ons(installed.sid).extensions(sms.sid).fetch()
    assert one.enabled is False

    # Unassign, uninstall.
    assert client.incoming_phone_numbers(number.sid).assigned_add_ons(installed.sid).delete() is True
    assert client.incoming_phone_numbers(number.sid).assigned_add_ons.list() == []
    assert client.marketplace.v1.installed_add_ons(installed.sid).delete() is True
    assert client.marketplace.v1.installed_add_ons.list() == []
    with pytest.raises(TwilioRestException) as gone:
        client.marketplace.v1.installed_add_ons(installed.sid).fetch()
    assert gone.value.status == 404 and gone.value.code == 20404


def test_sdk_with_an_api_key(sdk, customer, listing):
    key, secret = account_services.create_api_key(account=customer)
    client = sdk(key.sid, secret, account_sid=customer.sid)
    assert [a.sid for a in client.marketplace.v1.available_add_ons.list()] == [listing.sid]
    assert client.incoming_phone_numbers.list() == []


def test_sdk_sees_twilio_errors(sdk, customer, listing):
    bad = sdk(customer.sid, "wrong")
    with pytest.raises(TwilioRestException) as denied:
        bad.marketplace.v1.available_add_ons(listing.sid).fetch()
    assert denied.value.status == 401 and denied.value.code == 20003

    client = sdk(customer.sid, customer.auth_token)
    with pytest.raises(TwilioRestException) as refused:
        client.marketplace.v1.installed_add_ons.create(available_add_on_sid=listing.sid, accept_terms_of_service=False)
    assert refused.value.status == 400 and "AcceptTermsOfService" in refused.value.msg
    with pytest.raises(TwilioRestException) as invalid:
        client.marketplace.v1.installed_add_ons.create(
            available_add_on_sid=listing.sid, accept_terms_of_service=True, configuration={"language": "fr"}
        )
    assert invalid.value.status == 400 and "language" in invalid.value.msg
    with pytest.raises(TwilioRestException) as bad_number:
        client.incoming_phone_numbers.create(phone_number="555-1234")
    assert bad_number.value.code == 21421
