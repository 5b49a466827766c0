"""Schemathesis over every operation of /openapi.json, in-process against the WSGI app.

The description is loaded from the app itself (`from_wsgi`); each operation then gets a bounded,
seeded Hypothesis run (SCHEMATHESIS_MAX_EXAMPLES, 25 by default; derandomized), authenticated
as a real account, with path parameters naming real resources of that account made by the
fixtures below (a token or a phone number in the path is left to the generator). Explicit cases
come first: happy paths (a real WAV, a valid install, ...) so that 2xx bodies are always checked,
the same path naming SIDs that do not exist, and a request without credentials. Every response
must not be a 5xx, must have a documented status, content type and headers, and its body must
match the documented schema.

A failure here is a bug in the server or in the description. Server bugs found this way are
listed in KNOWN_BUGS: the operation is marked xfail(strict=True, raises=KnownBugReproduced), its
reproduction runs as an explicit case, and a failure matching the bug is tolerated during
generation; any other failure of that operation still fails the test, and once the bug is fixed
the XPASS fails it too, so the entry gets removed.
"""

import base64
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.api.auth import ApiPrincipal
from accounts.services import create_phone_number
from addons.models import Extension
from addons.services import installations
from addons.services.assignments import assign_add_on
from addons.services.notifications import notify
from marketplace.wsgi import application
from recordings import services as recordings
from recordings.downloads import payload_download_url
from recordings.models import AddOnResult, Payload
from tests.recording_helpers import recording_manifest, wav_bytes

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NUMBERS = ["+14155550123", "+14155552671", "+18005550100", "+442071838750"]
OUR_NUMBER = NUMBERS[0]

# Phone numbers in requests are real E.164 numbers (one of them is the account's), not noise.
schemathesis.openapi.format("phone-number", st.sampled_from(NUMBERS))
SCHEMA = schemathesis.openapi.from_wsgi("/openapi.json", application)
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}


class KnownBugReproduced(Exception):
    """The operation still has its known bug (see KNOWN_BUGS)."""


@dataclass(frozen=True)
class KnownBug:
    reason: str
    reproduce: Callable  # World -> the explicit case's keyword arguments
    matches: Callable  # (case, response) -> whether a failure is this bug


def _quantities(case):
    items = case.body.get("billable_items") if isinstance(case.body, dict) else None
    quantities = [item.get("quantity") for item in items or [] if isinstance(item, dict)]
    return [quantity for quantity in quantities if isinstance(quantity, (int, float))]


# Server bugs schemathesis found, by operation: what fails, how to reproduce it, how to recognise it.
KNOWN_BUGS = {}  # none open: those found so far are fixed and have tests of their own below

# The Marketplace API's error table documents a 500 when a billing event cannot be written
# (the whole report rolled back); a quantity whose amount passes the per-event ceiling is one.
DOCUMENTED_SERVER_ERRORS = {
    "POST /v1/InstalledAddOns/{installation_sid}/Usage": "A billing event could not be generated",
}

FAST_FAILING_ENDPOINT = {
    "url": "http://127.0.0.1:9/insight",  # the discard port: refused at once, on every machine
    "method": "POST",
    "format": "form",
    "params": {"number": "{{primary_address}}", "lang": "{{language}}"},
    "auth": {"type": "none"},
    "headers": {},
    "timeout_ms": 500,
    "retries": 0,
    "ttl_ms": 1000,
}


def basic(account):
    token = base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class World:
    """The resources an operation's path names, made on first use (each test gets its own)."""

    def __init__(self, customer, publisher, make_listing):
        self.customer = customer
        self.publisher = publisher
        self.make_listing = make_listing

    @cached_property
    def listing(self):
        return self.make_listing(endpoint=FAST_FAILING_ENDPOINT)

    @cached_property
    def extension(self):
        return Extension.objects.filter(listing=self.listing).order_by("id").first()

    @cached_property
    def installation(self):
        return installations.install_add_on(
            account=self.customer,
            available_add_on_sid=self.listing.sid,
            accept_terms_of_service=True,
            configuration={"language": "en"},
        )

    @cached_property
    def number(self):
        return create_phone_number(account=self.customer, phone_number=OUR_NUMBER)

    @cached_property
    def assignment(self):
        return assign_add_on(phone_number=self.number, installation=self.installation)

    @cached_property
    def alert(self):
        return notify(account=self.customer, code=61005, message="A test alert", level="error")

    @cached_property
    def recorder(self):
        listing = self.make_listing(**recording_manifest("http://127.0.0.1:9/rec", "recorder"))
        return installations.install_add_on(
            account=self.customer, available_add_on_sid=listing.sid, accept_terms_of_service=True
        )

    def new_result(self):
        """A recording with one queued result (its delivery waits for a commit that never comes)."""
        self.recorder  # noqa: B018 (the recording add-on must be installed first)
        audio = SimpleUploadedFile("call.wav", wav_bytes(1), content_type="audio/x-wav")
        recording = recordings.create_recording(account=self.customer, audio=audio)
        return AddOnResult.objects.get(recording=recording)

    @cached_property
    def result(self):
        return self.new_result()

    @cached_property
    def recording(self):
        return self.result.recording

    @cached_property
    def payload(self):
        recordings.receive_callback(
            result_sid=self.result.sid,
            token=recordings.callback_token(self.result.sid),
            principal=ApiPrincipal(self.publisher),
            body=io.BytesIO(b'{"transcript": "hello"}'),
            content_type="application/json",
        )
        return Payload.objects.get(add_on_result=self.result)

    @cached_property
    def open_result(self):
        """A result whose one-time callback URL is still unused."""
        return self.new_result()

    @cached_property
    def manual_installation(self):
        listing = self.make_listing(
            unique_name="reports", pricing={"model": "manual"}, billable_items=[{"name": "page", "price": "0.1"}]
        )
        return installations.install_add_on(
            account=self.customer,
            available_add_on_sid=listing.sid,
            accept_terms_of_service=True,
            configuration={"language": "en"},
        )

    # --- what each path parameter names ---

    def value(self, path, name):
        if path.startswith("/callbacks/"):
            return self.open_result.sid if name == "result_sid" else recordings.callback_token(self.open_result.sid)
        if path.startswith("/downloads/"):
            return payload_download_url(self.payload).rsplit("/", 1)[1]
        if path.endswith("/Usage"):
            return self.manual_installation.sid
        parent = path.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[-1]
        by_parent = {
            "Accounts": lambda: self.customer.sid,
            "AvailableAddOns": lambda: self.listing.sid,
            "Listing": lambda: self.listing.sid,
            "Listings": lambda: self.listing.sid,
            "Extensions": lambda: self.extension.sid,
            "InstalledAddOns": lambda: self.installation.sid,
            "Alerts": lambda: self.alert.sid,
            "IncomingPhoneNumbers": lambda: self.number.sid,
            "AssignedAddOns": lambda: self.assignment.installation.sid,
            "Recordings": lambda: self.recording.sid,
            "AddOnResults": lambda: self.result.sid,
            "Payloads": lambda: self.payload.sid,
        }
        return by_parent[parent]()

    def path_parameters(self, operation):
        """The real resources the path names; a token or phone number is left to the generator."""
        names = re.findall(r"\{(\w+)\}", operation.path)
        return {name: self.value(operation.path, name) for name in names if name not in ("token", "phone_number")}

    def unknown_path_parameters(self, operation):
        """Well-formed SIDs of resources that do not exist (and a token that is not one)."""
        names = re.findall(r"\{(\w+)\}", operation.path)
        values = {name: self.value(operation.path, name) for name in names if name != "phone_number"}
        return {
            name: value[:2] + "0" * 32 if re.fullmatch(r"[A-Z]{2}[0-9a-f]{32}", value) else "not-a-token"
            for name, value in values.items()
        }

    def headers(self, path):
        if path in ("/healthz", "/readyz") or path.startswith("/downloads/"):
            return {}
        publishers = ("/v1/Listing", "/sandbox/v1/Listings/", "/callbacks/")
        if path.startswith(publishers) or path.endswith("/Usage") or path == "/v1/ReferralConversion":
            return basic(self.publisher)
        return basic(self.customer)

    # --- happy paths, so that 2xx bodies are checked whatever the generator makes ---

    def explicit_cases(self, label):
        config = '{"language": "en"}'
        cases = {
            "POST /v1/InstalledAddOns": lambda: [
                {"body": {"AvailableAddOnSid": self.listing.sid, "AcceptTermsOfService": True, "Configuration": config}}
            ],
            "POST /v1/InstalledAddOns/{sid}": lambda: [{"body": {"UniqueName": "renamed", "Configuration": config}}],
            "POST /v1/InstalledAddOns/{installation_sid}/Extensions/{sid}": lambda: [{"body": {"Enabled": False}}],
            "POST /v1/InstalledAddOns/{installation_sid}/Usage": lambda: [
                {
                    "body": {
                        "billable_items": [
                            {"sid": self.manual_installation.listing.billable_items.get().sid, "quantity": 2},
                            {"sid": "BI" + "0" * 32, "quantity": 1},
                        ]
                    }
                }
            ],
            "POST /v1/Listings": lambda: [{"body": {"ModuleInfo": '{"name": "Shell"}'}}],
            "POST /v1/ReferralConversion": lambda: [{"body": {"referral_account_sid": self.customer.sid}}] * 2,
            "POST /v1/Listing/{sid}": lambda: [{"body": {"Pricing": '{"body": "Free"}'}}] * 2,  # 200, then 304
            "POST /sandbox/v1/Listings/{listing_sid}/TestInvocations": lambda: [{"body": {"Configuration": config}}],
            "GET /v1/PhoneNumbers/{phone_number}": lambda: [
                {
                    "path_parameters": {"phone_number": "+14155552671"},
                    "query": {"AddOns": [self.installation.unique_name]},
                },
                {"path_parameters": {"phone_number": "4155552671"}, "query": {"CountryCode": "US"}},
            ],
            "POST /sandbox/v1/Messages": lambda: [
                {"body": {"From": NUMBERS[2], "To": self.assignment.phone_number.phone_number, "Body": "hello"}}
            ],
            "POST /sandbox/v1/Calls": lambda: [
                {"body": {"From": NUMBERS[2], "To": self.assignment.phone_number.phone_number}}
            ],
            "POST /sandbox/v1/Recordings": lambda: [{"body": {"Audio": wav_bytes(1)}}],
            "POST /2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json": lambda: [
                {
                    "body": {
                        "PhoneNumber": NUMBERS[1],
                        "FriendlyName": "Main",
                        "SmsUrl": "https://example.com/sms",
                        "SmsMethod": "POST",
                    }
                }
            ],
            "POST /2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json": lambda: [
                {"body": {"FriendlyName": "Renamed", "VoiceMethod": "GET"}}
            ],
            "POST /2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{resource_sid}/AssignedAddOns.json": lambda: [
                {"body": {"InstalledAddOnSid": self.installation.sid}}
            ],
            "POST /callbacks/v1/AddOnResults/{result_sid}/{token}": lambda: [
                {
                    "path_parameters": {"token": recordings.callback_token(self.open_result.sid)},
                    "body": {"transcript": "done"},
                }
            ],
            "GET /downloads/v1/Payloads/{token}": lambda: [
                {"path_parameters": {"token": payload_download_url(self.payload).rsplit("/", 1)[1]}}
            ],
        }
        return cases.get(label, list)()


@pytest.fixture
def world(customer, publisher, make_listing):
    return World(customer, publisher, make_listing)


@pytest.fixture
def in_process():
    """Requests share the test's database transaction, as Django's test client arranges."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _params():
    for label in sorted(OPERATIONS):
        bug = KNOWN_BUGS.get(label)
        marks = [pytest.mark.xfail(strict=True, raises=KnownBugReproduced, reason=bug.reason)] if bug else []
        yield pytest.param(label, marks=marks, id=label)


def test_every_operation_is_exercised():
    assert len(OPERATIONS) >= 50
    assert set(KNOWN_BUGS) <= set(OPERATIONS)


@pytest.mark.parametrize("label", _params())
def test_operation_conforms(label, world, in_process):
    operation = OPERATIONS[label]
    headers = world.headers(operation.path)
    real = world.path_parameters(operation)
    bug = KNOWN_BUGS.get(label)
    reproduced = []
    statuses = []

    def check(case, headers=headers):
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup:
            documented = DOCUMENTED_SERVER_ERRORS.get(label)
            if response.status_code == 500 and documented and documented in response.text:
                return
            if bug is None or not bug.matches(case, response):
                raise
            reproduced.append(case)

    def explicit(kwargs):
        kwargs = dict(kwargs)
        path_parameters = {**real, **kwargs.pop("path_parameters", {})}
        check(operation.Case(path_parameters=path_parameters or None, **kwargs))

    # Happy paths, then the same path naming resources that do not exist, then no credentials.
    for kwargs in world.explicit_cases(label):
        explicit(kwargs)
    if unknown := world.unknown_path_parameters(operation):
        explicit({"path_parameters": unknown})
    names = re.findall(r"\{(\w+)\}", operation.path)
    everything = {name: real.get(name, NUMBERS[1] if name == "phone_number" else "not-a-token") for name in names}
    check(operation.Case(path_parameters=everything or None), headers={})

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(path_parameters=real or None))
    def generated(case):
        check(case)

    generated()
    # The credentials and fixtures work: the operation succeeded at least once (its 2xx body checked).
    assert any(status < 400 for status in statuses), f"{label} never succeeded: {sorted(set(statuses))}"

    if bug is not None:
        explicit(bug.reproduce(world))
        if reproduced:
            raise KnownBugReproduced(f"{label}: {bug.reason}")


def test_a_garbled_callback_token_is_404(client, publisher):
    credentials = base64.b64encode(f"{publisher.sid}:{publisher.auth_token}".encode()).decode()
    reply = client.post(
        "/callbacks/v1/AddOnResults/XR" + "0" * 32 + "/%C3%A9",
        b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert reply.status_code == 404


def test_the_last_possible_end_date_is_a_400(api, customer):
    reply = api.get(f"/2010-04-01/Accounts/{customer.sid}/Usage/Records.json", {"EndDate": "9999-12-31"})
    assert reply.status_code == 400 and "EndDate" in reply.json()["message"]


def test_a_json_array_body_is_a_400(api):
    reply = api.client.post("/sandbox/v1/Messages", '["From"]', content_type="application/json", **api.headers)
    assert reply.status_code == 400
