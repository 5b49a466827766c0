"""Recordings, add-on results and payloads as the 2010 API shows them."""

import math

from marketplace.api.formats import absolute_url, rfc2822


def recording_path(recording):
    return f"/2010-04-01/Accounts/{recording.account.sid}/Recordings/{recording.sid}"


def result_path(result):
    return f"{recording_path(result.recording)}/AddOnResults/{result.sid}"


def payload_path(payload):
    return f"{result_path(payload.add_on_result)}/Payloads/{payload.sid}"


def recording(item):
    path = recording_path(item)
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
        "uri": f"{path}.json",
        "encryption_details": None,
        "subresource_uris": {"add_on_results": f"{path}/AddOnResults.json"},
        "media_url": absolute_url(f"{path}.wav"),
    }


def add_on_result(item):
    path = result_path(item)
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
        "subresource_uris": {"payloads": f"{path}/Payloads.json"},
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
        "subresource_uris": {"data": f"{payload_path(item)}/Data.json"},
    }
