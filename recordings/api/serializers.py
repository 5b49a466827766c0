"""Recordings, add-on results and payloads as the 2010 API shows them."""

import math

from django.urls import reverse

from marketplace.api.formats import absolute_url, rfc2822


def recording_kwargs(recording):
    return {"account_sid": recording.account.sid, "reference_sid": recording.sid}


def result_kwargs(result):
    return {**recording_kwargs(result.recording), "result_sid": result.sid}


def recording(item):
    detail = {"account_sid": item.account.sid, "sid": item.sid}
    return {
        "account_sid": item.account.sid,
        "api_version": "2010-04-01",
        "call_sid": None,
        "conference_sid": None,
        "date_created": rfc2822(item.date_created),
        "date_updated": rfc2822(item.date_updated),
        "start_time": rfc2822(item.date_created),
        "duration": str(math.ceil(item.duration_ms / 1000)),  # started seconds
        "sid": item.sid,
        "price": None,
        "price_unit": "USD",
        "status": "completed",
        "channels": item.channels,
        # Uploaded recordings stand in for what a <Record> verb would have made.
        "source": "RecordVerb",
        "error_code": None,
        "uri": reverse("recording_detail", kwargs=detail),
        "encryption_details": None,
        "subresource_uris": {"add_on_results": reverse("add_on_result_list", kwargs=recording_kwargs(item))},
        "media_url": absolute_url(reverse("recording_media", kwargs=detail)),
    }


def add_on_result(item):
    return {
        "sid": item.sid,
        "account_sid": item.account.sid,
        "status": item.status,
        "add_on_sid": item.listing.sid,
        "add_on_configuration_sid": item.installation_sid,
        "date_created": rfc2822(item.date_created),
        "date_updated": rfc2822(item.date_updated),
        "date_completed": rfc2822(item.date_completed),
        "reference_sid": item.recording.sid,
        "subresource_uris": {"payloads": reverse("payload_list", kwargs=result_kwargs(item))},
    }


def payload(item):
    result = item.add_on_result
    return {
        "sid": item.sid,
        "add_on_result_sid": result.sid,
        "account_sid": result.account.sid,
        "label": item.label,
        "add_on_sid": result.listing.sid,
        "add_on_configuration_sid": result.installation_sid,
        "content_type": item.content_type,
        "date_created": rfc2822(item.date_created),
        "date_updated": rfc2822(item.date_updated),
        "reference_sid": result.recording.sid,
        "subresource_uris": {"data": reverse("payload_data", kwargs={**result_kwargs(result), "sid": item.sid})},
    }
