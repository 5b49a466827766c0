"""Telling the customer a result is ready (or failed): one attempt per task.

An attempt is bounded by WEBHOOK_TIMEOUT_S for the whole exchange (the one outbound path);
a failed one is retried later by a scheduled task, never by sleeping in the worker, so a
customer's slow or dripping callback_url holds a worker for one short attempt at a time.
"""

import json

from django.urls import reverse

from invocation import webhooks
from marketplace.api.formats import absolute_url


def result_links(result):
    kwargs = {"account_sid": result.account.sid, "reference_sid": result.recording.sid}
    return {
        "add_on_result": absolute_url(reverse("add_on_result_detail", kwargs={**kwargs, "sid": result.sid})),
        "payloads": absolute_url(reverse("payload_list", kwargs={**kwargs, "result_sid": result.sid})),
    }


def describe(result):
    """What the customer's callback carries (form parameters, Twilio-style names)."""
    return {
        "AccountSid": result.account.sid,
        "AddOnResultSid": result.sid,
        "RecordingSid": result.recording.sid,
        "AddOnSid": result.listing.sid,
        "AddOnConfigurationSid": result.installation_sid,
        "Status": result.status,
        "ErrorCode": str(result.error_code or ""),
        "Links": json.dumps(result_links(result), separators=(",", ":")),
    }


def attempt(result, url, method):
    """One delivery: the webhook outcome (a dict, see invocation.webhooks.send_signed)."""
    return webhooks.send_signed(account=result.account, url=url, method=method, params=describe(result))


def delivered(outcome):
    return outcome["status_code"] is not None and 200 <= outcome["status_code"] < 300


def worth_retrying(outcome):
    """A 4xx other than 429 is the customer's answer, not a passing failure."""
    status = outcome["status_code"]
    return status is None or status == 429 or not 400 <= status < 500
