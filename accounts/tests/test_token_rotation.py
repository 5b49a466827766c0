"""Auth token rotation with a grace period for the previous token."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from twilio.request_validator import RequestValidator
from werkzeug import Response

from accounts.models import Account
from accounts.services import rotate_auth_token
from tests.wire import TwilioTestClient


def works(account, token):
    return TwilioTestClient(account.sid, token).get("/v1/InstalledAddOns").status_code == 200


def test_the_old_token_works_during_the_grace_period_then_stops(customer):
    old = customer.auth_token
    new = rotate_auth_token(account=customer, grace=timedelta(hours=1))
    assert new != old and works(customer, new) and works(customer, old)
    Account.objects.filter(pk=customer.pk).update(secondary_auth_token_expires=timezone.now() - timedelta(seconds=1))
    assert works(customer, new) and not works(customer, old)


def test_no_grace_means_the_old_token_stops_at_once(customer):
    old = customer.auth_token
    new = rotate_auth_token(account=customer, grace=timedelta(0))
    assert works(customer, new) and not works(customer, old)


def test_rotating_twice_retires_the_first_token(customer):
    first = customer.auth_token
    second = rotate_auth_token(account=customer)
    third = rotate_auth_token(account=customer)
    assert works(customer, third) and works(customer, second) and not works(customer, first)


def test_the_new_token_signs_webhooks(api, customer, httpserver):
    seen = []

    def hook(request):
        seen.append(request)
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(hook)
    api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": "+14155552671", "SmsUrl": httpserver.url_for("/hook")},
    )
    new = rotate_auth_token(account=customer)
    TwilioTestClient(customer.sid, new).post(
        "/sandbox/v1/Messages", {"From": "+18005550100", "To": "+14155552671", "Body": "x"}
    )
    form = seen[0].form.to_dict()
    assert RequestValidator(new).validate(httpserver.url_for("/hook"), form, seen[0].headers["X-Twilio-Signature"])


def test_the_command(customer):
    out = io.StringIO()
    call_command("rotate_auth_token", "--account", customer.sid, "--grace-hours", "2", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    customer.refresh_from_db()
    assert printed["auth_token"] == customer.auth_token and printed["previous_token_expires"]
    with pytest.raises(CommandError, match="no such account"):
        call_command("rotate_auth_token", "--account", "AC" + "0" * 32)
