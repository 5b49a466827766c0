"""Publisher pages: versions from an uploaded manifest (errors by JSON path) and the SLA page."""

import json
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from addons.models import Invocation
from addons.tests.factories import make_manifest
from tests.fixtures.core import console_client


def test_upload_a_manifest_for_a_new_version(publisher, listing):
    console = console_client(publisher, "pub")
    manifest = make_manifest(friendly_name="Caller Insight 2")
    reply = console.post(
        f"/console/publisher/listings/{listing.sid}/",
        {"manifest_file": SimpleUploadedFile("m.json", json.dumps(manifest).encode())},
    )
    assert reply.status_code == 302
    page = console.get(reply["Location"]).content.decode()
    assert "v2" in page and "current" in page and "Released version 2" in page


def test_manifest_errors_are_shown_by_json_path_and_the_text_is_kept(publisher, listing):
    console = console_client(publisher, "pub")
    manifest = make_manifest(configuration_schema={"type": "object", "properties": {"tags": {"type": "array"}}})
    text = json.dumps(manifest)
    page = console.post(f"/console/publisher/listings/{listing.sid}/", {"manifest_text": text}).content.decode()
    assert "$.configuration_schema.properties.tags" in page and "was not imported" in page
    assert "&quot;tags&quot;" in page  # what was pasted is still there
    assert listing.versions.count() == 1


def test_invalid_json_is_reported_with_its_position(publisher, listing):
    page = (
        console_client(publisher, "pub")
        .post(f"/console/publisher/listings/{listing.sid}/", {"manifest_text": '{"unique_name": \n oops'})
        .content.decode()
    )
    assert "line 2" in page


def record(listing, latency, outcome="success", days_ago=0, **extra):
    fields = {"attempts": 1, **extra}
    row = Invocation.objects.create(
        account=listing.publisher,
        listing=listing,
        version=listing.latest_version,
        integration_point="lookups",
        status="successful" if outcome == "success" else "failed",
        outcome=outcome,
        latency_ms=latency,
        sla_breach=outcome != "success",
        **fields,
    )
    Invocation.objects.filter(pk=row.pk).update(date_created=timezone.now() - timedelta(days=days_ago))


def test_the_sla_page_computes_the_figures(publisher, listing):
    for latency in range(1, 100):  # 99 successes of 1..99 ms
        record(listing, latency)
    record(listing, 2100, outcome="timeout")
    record(listing, 30, outcome="http_4xx", days_ago=1)
    record(listing, 40, outcome="http_5xx", days_ago=1)
    record(listing, 5, outcome="success", is_test=True)  # test calls do not count
    record(listing, 0, outcome="requirements_not_met", attempts=0)  # never reached the publisher
    page = console_client(publisher, "pub").get(f"/console/publisher/listings/{listing.sid}/sla/").content.decode()
    # 102 calls: 99 successes -> 97.06 %; p99 is the 101st of 102 sorted latencies (99 ms).
    assert ">102<" in page and "97.06 %" in page
    assert "1 · 1 · 1" in page  # timeouts, 4xx, 5xx
    assert '<div class="muted">p99 latency</div><div class="value">99 ms</div>' in page
    assert "<svg" in page and "<path" in page and "1500 ms" in page


def test_sla_pages_are_the_publishers_own(customer, listing):
    assert console_client(customer, "cust").get(f"/console/publisher/listings/{listing.sid}/sla/").status_code == 404


def test_the_manifest_form_starts_from_the_current_manifest(publisher, listing):
    page = console_client(publisher, "pub").get(f"/console/publisher/listings/{listing.sid}/").content.decode()
    assert "&quot;unique_name&quot;: &quot;caller_insight&quot;" in page
