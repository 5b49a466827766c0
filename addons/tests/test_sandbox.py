"""Inbound messages and calls: the assigned add-ons run, the customer's webhook gets AddOns."""

import json
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator
from werkzeug import Response

from addons.models import Invocation, Notification

TO = "+14155552671"
FROM = "+18005550100"


@pytest.fixture
def webhook(httpserver):
    """The customer's webhook: records each request, answers TwiML."""
    seen = []

    def handler(request):
        seen.append(request)
        return Response("<Response/>", content_type="text/xml")

    httpserver.expect_request("/hook").respond_with_handler(handler)
    return httpserver.url_for("/hook"), seen


@pytest.fixture
def number(api, customer, webhook):
    url, _ = webhook
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": TO, "SmsUrl": url, "VoiceUrl": url},
    )
    assert reply.status_code == 201
    return reply.json()


def install(api, listing, unique_name, configuration=None):
    reply = api.post(
        "/v1/InstalledAddOns",
        {
            "AvailableAddOnSid": listing.sid,
            "AcceptTermsOfService": "true",
            "Configuration": json.dumps(configuration or {}),
            "UniqueName": unique_name,
        },
    )
    assert reply.status_code == 201, reply
    return reply.json()


@pytest.fixture
def sentiment(api, bundled_listing):
    return install(api, bundled_listing("sentiment"), "sentiment")


@pytest.fixture
def reputation(api, bundled_listing):
    return install(api, bundled_listing("reputation"), "reputation")


def assign(api, customer, number, installed):
    path = f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers/{number['sid']}/AssignedAddOns.json"
    assert api.post(path, {"InstalledAddOnSid": installed["sid"]}).status_code == 201


def form_of(request):
    return dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))


def test_message_runs_account_wide_add_ons_and_delivers_a_signed_webhook(
    api, customer, number, webhook, sentiment, reputation
):
    url, seen = webhook
    reply = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "This is not good at all"})
    assert reply.status_code == 201
    body = reply.json()
    assert body["sid"].startswith("SM") and body["account_sid"] == customer.sid
    results = body["add_ons"]["results"]
    assert results["sentiment"]["result"]["sentiment"] == "negative"
    assert results["reputation"]["result"]["phone_number"] == FROM
    assert body["webhook"]["status_code"] == 200 and body["webhook"]["response_body"] == "<Response/>"

    (request,) = seen
    params = form_of(request)
    assert params["MessageSid"] == body["sid"] and params["AccountSid"] == customer.sid
    assert (params["From"], params["To"], params["Body"]) == (FROM, TO, "This is not good at all")
    assert json.loads(params["AddOns"]) == body["add_ons"]
    validator = RequestValidator(customer.auth_token)
    assert validator.validate(url, params, request.headers["X-Twilio-Signature"])
    assert not RequestValidator("wrong").validate(url, params, request.headers["X-Twilio-Signature"])
    assert {i.resource_sid for i in Invocation.objects.all()} == {body["sid"]}


def test_assigned_add_ons_run_only_on_their_numbers(api, customer, number, sentiment, reputation):
    other = api.post(f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": "+442071838750"})
    assign(api, customer, other.json(), reputation)
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "great"}).json()
    assert set(body["add_ons"]["results"]) == {"sentiment"}
    assign(api, customer, number, reputation)
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "great"}).json()
    assert set(body["add_ons"]["results"]) == {"sentiment", "reputation"}


def test_a_switched_off_extension_does_not_run(api, number, sentiment, reputation):
    path = f"/v1/InstalledAddOns/{reputation['sid']}/Extensions"
    sms = next(e for e in api.get(path).json()["extensions"] if e["unique_name"] == "incoming-sms")
    api.post(f"{path}/{sms['sid']}", {"Enabled": "false"})
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "fine"}).json()
    assert set(body["add_ons"]["results"]) == {"sentiment"}


def test_a_call_runs_phone_number_add_ons_only(api, customer, number, webhook, sentiment, reputation):
    _, seen = webhook
    body = api.post("/sandbox/v1/Calls", {"From": FROM, "To": TO}).json()
    assert body["sid"].startswith("CA") and "body" not in body
    assert set(body["add_ons"]["results"]) == {"reputation"}
    params = form_of(seen[0])
    assert params["CallSid"] == body["sid"] and params["Direction"] == "inbound"
    assert json.loads(params["AddOns"])["results"]["reputation"]["status"] == "successful"


def test_a_get_webhook_gets_no_add_ons_and_a_61006_warning(api, customer, number, webhook, sentiment):
    url, seen = webhook
    api.post(f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers/{number['sid']}.json", {"SmsMethod": "GET"})
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "hello"}).json()
    assert body["webhook"]["method"] == "GET" and body["webhook"]["status_code"] == 200
    (request,) = seen
    assert request.method == "GET" and "AddOns" not in request.args and request.args["Body"] == "hello"
    signed_url = request.url
    assert RequestValidator(customer.auth_token).validate(signed_url, {}, request.headers["X-Twilio-Signature"])
    warning = Notification.objects.get(account=customer, error_code=61006)
    assert warning.log_level == "warning" and warning.resource_sid == body["sid"]


def test_no_add_ons_means_no_add_ons_parameter(api, number, webhook):
    _, seen = webhook
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "plain"}).json()
    assert body["add_ons"]["results"] == {}
    assert "AddOns" not in form_of(seen[0])


def test_a_failing_webhook_is_reported(api, customer, number, httpserver):
    httpserver.expect_request("/broken").respond_with_data("nope", status=500)
    api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers/{number['sid']}.json",
        {"SmsUrl": httpserver.url_for("/broken")},
    )
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "x"}).json()
    assert body["webhook"]["status_code"] == 500 and body["webhook"]["error"] == "HTTP 500"


@pytest.mark.parametrize(
    "data,param",
    [
        ({"To": TO, "Body": "x"}, "From"),
        ({"From": "12", "To": TO, "Body": "x"}, "From"),
        ({"From": FROM, "Body": "x"}, "To"),
        ({"From": FROM, "To": TO}, "Body"),
        ({"From": FROM, "To": "+442071838750", "Body": "x"}, "To"),
    ],
)
def test_bad_inbound_messages_are_refused(api, number, data, param):
    reply = api.post("/sandbox/v1/Messages", data)
    assert reply.status_code in (400, 404)
    assert param in reply.json()["message"]
    assert Invocation.objects.count() == 0


def test_only_the_numbers_owner_can_simulate_its_traffic(other_api, number, sentiment):
    reply = other_api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "x"})
    assert reply.status_code == 404
    assert Invocation.objects.count() == 0
