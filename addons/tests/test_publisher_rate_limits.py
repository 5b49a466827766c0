"""A publisher's declared rate limit (`endpoint.rate_limit`): we never call its service more
often than it says, across customers; a lookup past it gets 61016 (not called, not billed),
a recording waits for the next window and is then sent."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from addons.models import Invocation
from addons.tests.factories import install
from billing.models import BillingEvent
from marketplace.models import RateCounter
from recordings import services
from recordings.models import AddOnResult
from tests.recording_helpers import recording_manifest, wav_bytes


def next_window():
    """Forget every window's count, as when the next window opens (Redis or the database)."""
    cache.clear()
    RateCounter.objects.all().delete()


@pytest.fixture(autouse=True)
def fresh_windows(db):
    next_window()
    yield
    next_window()


@pytest.fixture
def publisher_service(httpserver):
    httpserver.expect_request("/lookup").respond_with_json({"caller": "Acme"})
    return httpserver


def result_of(api, name="paced"):
    return api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": name}).json()["add_ons"]["results"][name]


def test_calls_past_the_publishers_rate_are_not_made(api, other_api, publisher_service, installed_at, make_listing):
    installed_at(publisher_service.url_for("/lookup"), unique_name="paced", rate_limit="2/h")
    assert [result_of(api)["status"] for _ in range(2)] == ["successful", "successful"]
    refused = result_of(api)
    assert (refused["status"], refused["code"]) == ("failed", 61016)
    assert "rate_limit" in refused["message"]
    assert len(publisher_service.log) == 2  # the third was never sent
    record = Invocation.objects.get(outcome="rate_limited")
    assert record.attempts == 0 and not record.billable and not record.sla_breach


def test_the_limit_is_the_listings_across_customers(
    api, other_api, customer, other_customer, publisher_service, make_listing
):
    from tests.fixtures.invoking import endpoint_manifest

    listing = make_listing(**endpoint_manifest(publisher_service.url_for("/lookup"), "paced", rate_limit="1/h"))
    for client in (api, other_api):
        reply = client.post(
            "/v1/InstalledAddOns",
            {
                "AvailableAddOnSid": listing.sid,
                "AcceptTermsOfService": "true",
                "UniqueName": "paced",
                "Configuration": '{"language": "en"}',
            },
        )
        assert reply.status_code == 201, reply
    assert result_of(api)["status"] == "successful"
    assert result_of(other_api)["code"] == 61016  # another customer, the same publisher's budget
    assert len(publisher_service.log) == 1


def test_a_listing_without_a_rate_limit_is_called_every_time(api, publisher_service, installed_at):
    installed_at(publisher_service.url_for("/lookup"), unique_name="paced")
    assert [result_of(api)["status"] for _ in range(5)] == ["successful"] * 5
    assert len(publisher_service.log) == 5


def test_a_recording_past_the_rate_waits_for_the_next_window(
    api, settings, httpserver, make_listing, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/analyse").respond_with_data("", status=202)
    listing = make_listing(**recording_manifest(httpserver.url_for("/analyse"), rate_limit="1/h"))
    install(api, listing, configuration=None)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert api.upload("/sandbox/v1/Recordings", {"Audio": ("call.wav", wav_bytes(1.0))}).status_code == 201
    sent, waiting = AddOnResult.objects.order_by("id")
    assert (sent.status, waiting.status) == ("processing", "queued")
    assert len(httpserver.log) == 1
    # It waits for the next hour: its lease runs out then, and its deadline moved with it.
    assert waiting.date_dispatched > timezone.now() - timedelta(seconds=settings.DISPATCH_LEASE_S)
    assert waiting.date_deadline > sent.date_deadline
    assert services.redeliver_stalled_results() == 0 and services.fail_overdue_results() == 0

    next_window()
    AddOnResult.objects.filter(pk=waiting.pk).update(
        date_dispatched=timezone.now() - timedelta(seconds=settings.DISPATCH_LEASE_S + 1)
    )
    assert services.redeliver_stalled_results() == 1
    waiting.refresh_from_db()
    assert waiting.status == "processing" and len(httpserver.log) == 2
    assert not BillingEvent.objects.exists()  # billed on completion only, as ever
