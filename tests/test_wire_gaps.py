"""The last wire gaps of issue 14, through the official `twilio` SDK against a live server and
through the test client (which checks every response against the official descriptions)."""

from datetime import UTC, date, datetime

import pytest
from twilio.rest.marketplace.v1.referral_conversion import ReferralConversionList

from accounts import services as account_services
from accounts.models import Referral
from recordings import services as recording_services
from recordings.models import Recording
from tests.openapi import CONFORMANCE
from tests.recording_helpers import wav_bytes


@pytest.fixture
def client(sdk, customer):
    return sdk(customer.sid, customer.auth_token)


# --- POST /v1/ReferralConversion --------------------------------------------------------------


def referral(sid):
    return ReferralConversionList.CreateReferralConversionRequest({"referral_account_sid": sid})


def test_referral_conversion_through_the_sdk(sdk, publisher, customer):
    partner = sdk(publisher.sid, publisher.auth_token)
    converted = partner.marketplace.v1.referral_conversion.create(referral(customer.sid))
    assert converted.converted_account_sid == customer.sid
    # Reporting it again is the same answer, and nothing more is recorded.
    again = partner.marketplace.v1.referral_conversion.create(referral(customer.sid))
    assert again.converted_account_sid == customer.sid
    [row] = Referral.objects.all()
    assert (row.referrer, row.referred) == (publisher, customer)


def test_referral_conversion_conforms_and_refuses_what_it_must(api_for, publisher, customer, other_customer):
    as_publisher = api_for(publisher)
    reply = as_publisher.post_json("/v1/ReferralConversion", {"referral_account_sid": "AC" + customer.sid[2:].upper()})
    assert reply.status_code == 200 and reply.json() == {"converted_account_sid": customer.sid}

    rival = account_services.create_account(friendly_name="Rival Partner", is_publisher=True)
    cases = [
        (as_publisher, {"referral_account_sid": "AC123"}, 400, 20001),
        (as_publisher, {}, 400, 20001),
        (as_publisher, ["not", "an", "object"], 400, 20001),
        (as_publisher, {"referral_account_sid": publisher.sid}, 400, 20001),
        (as_publisher, {"referral_account_sid": "AC" + "0" * 32}, 404, 20404),
        (api_for(rival), {"referral_account_sid": customer.sid}, 409, 20409),
        (api_for(customer), {"referral_account_sid": other_customer.sid}, 403, 20403),
    ]
    for caller, body, status, code in cases:
        reply = caller.post_json("/v1/ReferralConversion", body)
        assert (reply.status_code, reply.json()["code"]) == (status, code), (body, reply)
    form = as_publisher.post("/v1/ReferralConversion", {"referral_account_sid": other_customer.sid})
    assert form.status_code == 415
    assert list(Referral.objects.values_list("referrer", "referred")) == [(publisher.pk, customer.pk)]


def test_a_closed_account_cannot_convert(api_for, publisher, customer):
    customer.status = customer.Status.CLOSED
    customer.save()
    reply = api_for(publisher).post_json("/v1/ReferralConversion", {"referral_account_sid": customer.sid})
    assert (reply.status_code, reply.json()["code"]) == (400, 20001) and not Referral.objects.exists()


# --- Recordings.json filters -------------------------------------------------------------------


@pytest.fixture
def dated_recordings(customer):
    """Three recordings created on 1, 2 and 3 March 2026 at noon UTC."""
    made = []
    for day in (1, 2, 3):
        recording = recording_services.create_recording(account=customer, audio=upload_file())
        Recording.objects.filter(pk=recording.pk).update(date_created=datetime(2026, 3, day, 12, tzinfo=UTC))
        made.append(recording.sid)
    return made


def upload_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("call.wav", wav_bytes(0.2), content_type="audio/x-wav")


def test_recording_date_filters_through_the_sdk(client, dated_recordings):
    first, second, third = dated_recordings

    def sids(**filters):
        return [r.sid for r in client.recordings.list(**filters)]

    assert sids() == [first, second, third]
    assert sids(date_created=date(2026, 3, 2)) == [second]
    assert sids(date_created=datetime(2026, 3, 2, 23, 59, tzinfo=UTC)) == [second]  # the day of it
    assert sids(date_created_before=date(2026, 3, 2)) == [first]  # on or before its midnight
    assert sids(date_created_before=datetime(2026, 3, 2, 12, tzinfo=UTC)) == [first, second]
    assert sids(date_created_after=date(2026, 3, 2)) == [second, third]
    assert sids(date_created_after=datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)) == [third]
    assert sids(date_created_after=date(2026, 3, 2), date_created_before=date(2026, 3, 3)) == [second]
    assert sids(call_sid="CA" + "a" * 32) == [] and sids(conference_sid="CF" + "b" * 32) == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"DateCreated": "2026-03-02"}, [1]),
        ({"DateCreated<": "2026-03-02"}, [0, 1]),  # a bare date: the whole day
        ({"DateCreated>": "2026-03-02"}, [1, 2]),
        ({"DateCreated>": "2026-03-02T12:00:00Z", "DateCreated<": "2026-03-02T12:00:00Z"}, [1]),
        ({"DateCreated": "2026-03-04"}, []),
    ],
)
def test_recording_filters_on_the_wire(api, customer, dated_recordings, query, expected):
    reply = api.get(f"/2010-04-01/Accounts/{customer.sid}/Recordings.json", query)
    assert reply.status_code == 200
    assert [r["sid"] for r in reply.json()["recordings"]] == [dated_recordings[i] for i in expected]


@pytest.mark.parametrize(
    "name, value",
    [
        ("DateCreated", "notadate"),
        ("DateCreated<", "2026-13-01"),
        ("DateCreated>", "yesterday"),
        ("CallSid", "CA123"),
        ("ConferenceSid", "CA" + "a" * 32),
    ],
)
def test_bad_recording_filters_are_400_naming_the_parameter(api, customer, name, value):
    reply = api.get(f"/2010-04-01/Accounts/{customer.sid}/Recordings.json", {name: value})
    assert (reply.status_code, reply.json()["code"]) == (400, 20001)
    assert f"'{name}'" in reply.json()["message"]


# --- IncomingPhoneNumbers.json filters ---------------------------------------------------------


@pytest.fixture
def numbers(customer):
    made = {}
    for number, name in (("+14155552671", "office"), ("+14155550123", "sales"), ("+442071838750", "office")):
        made[number] = account_services.create_phone_number(
            account=customer, phone_number=number, friendly_name=name
        ).sid
    return made


def test_number_filters_through_the_sdk(client, numbers):
    def listed(**filters):
        return sorted(n.phone_number for n in client.incoming_phone_numbers.list(**filters))

    assert listed(phone_number="555") == ["+14155550123", "+14155552671"]
    assert listed(phone_number="+1415") == ["+14155550123", "+14155552671"]
    assert listed(phone_number="+415") == []  # a leading + anchors at the country code
    assert listed(phone_number="71838") == ["+442071838750"]
    assert listed(phone_number="555*671") == ["+14155552671"]  # * is any one digit
    assert listed(phone_number="(415) 555-0123") == ["+14155550123"]
    assert listed(friendly_name="office") == ["+14155552671", "+442071838750"]
    assert listed(friendly_name="offi") == []  # the exact friendly name
    assert listed(origin="hosted") == sorted(numbers) and listed(origin="twilio") == []
    assert listed(beta=False) == sorted(numbers)
    assert listed(origin="hosted", phone_number="+44") == ["+442071838750"]


@pytest.mark.parametrize(
    "name, value", [("Origin", "carrier"), ("PhoneNumber", "abc"), ("PhoneNumber", "1+2"), ("Beta", "maybe")]
)
def test_bad_number_filters_are_400(api, customer, numbers, name, value):
    reply = api.get(f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json", {name: value})
    assert (reply.status_code, reply.json()["code"]) == (400, 20001) and f"'{name}'" in reply.json()["message"]


# --- Page without PageToken --------------------------------------------------------------------


def test_page_alone_is_a_page_index_on_a_2010_list(api, customer, numbers):
    path = f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json"
    by_index = api.get(path, {"PageSize": 1, "Page": 1}).json()
    assert [n["sid"] for n in by_index["incoming_phone_numbers"]] == [list(numbers.values())[1]]
    assert (by_index["page"], by_index["start"], by_index["end"]) == (1, 1, 1)
    following = api.get(by_index["next_page_uri"]).json()
    assert [n["sid"] for n in following["incoming_phone_numbers"]] == [list(numbers.values())[2]]
    assert following["next_page_uri"] is None


def test_the_sdk_pages_through_every_list(client, numbers, dated_recordings):
    assert [n.sid for n in client.incoming_phone_numbers.list(page_size=1)] == list(numbers.values())
    assert [r.sid for r in client.recordings.list(page_size=2)] == dated_recordings
    page = client.incoming_phone_numbers.page(page_size=2, page_number=1)
    assert [n.sid for n in page] == [list(numbers.values())[2]]


# --- Lookups Type=carrier ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, name, kind",
    [
        ("+447400123456", "Three", "mobile"),
        ("+33612345678", "SFR", "mobile"),
        ("+442071838750", None, "landline"),
        ("+14155552671", None, None),  # North America: fixed line or mobile, no operator data
    ],
)
def test_carrier_through_the_sdk(client, number, name, kind):
    client.lookups.v1  # noqa: B018 (the domain is pointed at the live server by the fixture)
    found = client.lookups.v1.phone_numbers(number).fetch(type=["carrier"])
    assert found.carrier == {
        "mobile_country_code": None,
        "mobile_network_code": None,
        "name": name,
        "type": kind,
        "error_code": None,
    }
    assert found.caller_name is None


def test_caller_name_stays_null_and_carrier_only_when_asked(api):
    body = api.get("/v1/PhoneNumbers/+447400123456", {"Type": "caller-name"}).json()
    assert body["caller_name"] is None and body["carrier"] is None
    both = api.get("/v1/PhoneNumbers/+447400123456?Type=carrier&Type=caller-name").json()
    assert both["carrier"]["name"] == "Three" and both["caller_name"] is None
    reply = api.get("/v1/PhoneNumbers/+447400123456", {"Type": "cnam"})
    assert (reply.status_code, reply.json()["code"]) == (400, 20001) and "'Type'" in reply.json()["message"]


def test_the_lookup_with_carrier_conforms():
    CONFORMANCE.check(
        "GET",
        "/v1/PhoneNumbers/+447400123456",
        200,
        {
            "caller_name": None,
            "country_code": "GB",
            "phone_number": "+447400123456",
            "national_format": "07400 123456",
            "carrier": {
                "mobile_country_code": None,
                "mobile_network_code": None,
                "name": "Three",
                "type": "mobile",
                "error_code": None,
            },
            "add_ons": None,
            "url": "http://127.0.0.1:8000/v1/PhoneNumbers/+447400123456",
        },
    )
