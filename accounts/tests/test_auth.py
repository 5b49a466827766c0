"""HTTP Basic on every endpoint: account credentials, API keys, and refusals."""

import pytest

from accounts import services
from accounts.models import Account, ApiKey
from tests.wire import TwilioTestClient

ENDPOINTS = [
    ("get", "/v1/AvailableAddOns"),
    ("get", "/v1/AvailableAddOns/XB00000000000000000000000000000000"),
    ("get", "/v1/AvailableAddOns/XB00000000000000000000000000000000/Extensions"),
    ("get", "/v1/AvailableAddOns/XB00000000000000000000000000000000/Extensions/XF00000000000000000000000000000000"),
    ("get", "/v1/InstalledAddOns"),
    ("post", "/v1/InstalledAddOns"),
    ("get", "/v1/InstalledAddOns/XE00000000000000000000000000000000"),
    ("post", "/v1/InstalledAddOns/XE00000000000000000000000000000000"),
    ("delete", "/v1/InstalledAddOns/XE00000000000000000000000000000000"),
    ("get", "/v1/InstalledAddOns/XE00000000000000000000000000000000/Extensions"),
    ("get", "/v1/InstalledAddOns/XE00000000000000000000000000000000/Extensions/XF00000000000000000000000000000000"),
    ("post", "/v1/InstalledAddOns/XE00000000000000000000000000000000/Extensions/XF00000000000000000000000000000000"),
    ("get", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers.json"),
    ("post", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers.json"),
    ("get", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000.json"),
    ("post", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000.json"),
    ("delete", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000.json"),
    ("get", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000/AssignedAddOns.json"),
    ("post", "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000/AssignedAddOns.json"),
    (
        "get",
        "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000"
        "/AssignedAddOns/XE00000000000000000000000000000000.json",
    ),
    (
        "delete",
        "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000"
        "/AssignedAddOns/XE00000000000000000000000000000000.json",
    ),
    (
        "get",
        "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000"
        "/AssignedAddOns/XE00000000000000000000000000000000/Extensions.json",
    ),
    (
        "get",
        "/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN00000000000000000000000000000000"
        "/AssignedAddOns/XE00000000000000000000000000000000/Extensions/XF00000000000000000000000000000000.json",
    ),
]


def assert_unauthenticated(reply):
    assert reply.status_code == 401, reply
    assert reply.json()["code"] == 20003
    assert reply.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_every_endpoint_refuses_missing_credentials(customer, method, path):
    reply = getattr(TwilioTestClient(), method)(path.format(ac=customer.sid))
    assert_unauthenticated(reply)


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_every_endpoint_refuses_a_wrong_token(customer, method, path):
    reply = getattr(TwilioTestClient(customer.sid, "0" * 32), method)(path.format(ac=customer.sid))
    assert_unauthenticated(reply)


@pytest.mark.parametrize(
    "header",
    ["Basic !!!notbase64", "Basic " + "QUMxMjM=", "Bearer abc", "Basic"],
    ids=["not-base64", "no-colon", "bearer", "empty"],
)
def test_malformed_authorization_headers_are_refused(customer, header):
    reply = TwilioTestClient().get("/v1/AvailableAddOns", HTTP_AUTHORIZATION=header)
    assert_unauthenticated(reply)


def test_unknown_account_sid_is_refused_like_a_wrong_token(db):
    reply = TwilioTestClient("AC" + "1" * 32, "whatever").get("/v1/InstalledAddOns")
    assert_unauthenticated(reply)


def test_account_sid_and_auth_token_authenticate(api):
    assert api.get("/v1/InstalledAddOns").status_code == 200


def test_api_key_authenticates_and_its_secret_is_stored_hashed(customer):
    key, secret = services.create_api_key(account=customer, friendly_name="ci")
    assert ApiKey.objects.get(sid=key.sid).secret_hash != secret
    assert secret not in ApiKey.objects.get(sid=key.sid).secret_hash
    assert TwilioTestClient(key.sid, secret).get("/v1/InstalledAddOns").status_code == 200
    assert_unauthenticated(TwilioTestClient(key.sid, secret + "x").get("/v1/InstalledAddOns"))


def test_api_key_acts_for_its_own_account_only(customer, other_customer, install, listing):
    installed = install(listing)
    key, secret = services.create_api_key(account=other_customer)
    reply = TwilioTestClient(key.sid, secret).get(f"/v1/InstalledAddOns/{installed['sid']}")
    assert reply.status_code == 404


@pytest.mark.parametrize("status", [Account.Status.SUSPENDED, Account.Status.CLOSED])
def test_inactive_accounts_are_refused(api, customer, status):
    Account.objects.filter(pk=customer.pk).update(status=status)
    reply = api.get("/v1/AvailableAddOns")
    assert reply.status_code == 403
    assert reply.json()["code"] == 20005
    assert status in reply.json()["message"]


def test_inactive_account_api_keys_are_refused_too(customer):
    key, secret = services.create_api_key(account=customer)
    Account.objects.filter(pk=customer.pk).update(status=Account.Status.SUSPENDED)
    assert TwilioTestClient(key.sid, secret).get("/v1/AvailableAddOns").status_code == 403


def test_errors_never_echo_the_token(customer):
    reply = TwilioTestClient(customer.sid, "wrong-token-value").get("/v1/InstalledAddOns")
    assert b"wrong-token-value" not in reply.body
    assert customer.auth_token.encode() not in reply.body


def test_unknown_api_paths_answer_a_twilio_404(api):
    reply = api.get("/v1/NoSuchThing")
    assert reply.status_code == 404
    assert reply.json()["code"] == 20404
