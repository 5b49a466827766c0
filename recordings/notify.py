"""Telling the customer a result is ready (or failed), retried with backoff."""

import json
import logging
import time

from django.conf import settings

from addons import webhooks
from marketplace.api.formats import absolute_url

logger = logging.getLogger(__name__)


def result_links(result):
    base = f"/2010-04-01/Accounts/{result.account.sid}/Recordings/{result.recording.sid}/AddOnResults/{result.sid}"
    return {"add_on_result": absolute_url(f"{base}.json"), "payloads": absolute_url(f"{base}/Payloads.json")}


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


def deliver(result, url, method):
    """True once the customer's URL answers 2xx; tries len(backoff) + 1 times."""
    params = describe(result)
    for attempt, pause in enumerate([*settings.NOTIFY_BACKOFF_S, None], start=1):
        outcome = webhooks.send_signed(account=result.account, url=url, method=method, params=params)
        if outcome["status_code"] is not None and 200 <= outcome["status_code"] < 300:
            return True
        logger.warning("result %s: callback attempt %d to %s failed: %s", result.sid, attempt, url, outcome["error"])
        if pause is None or (outcome["status_code"] is not None and 400 <= outcome["status_code"] < 500 and outcome["status_code"] != 429):
            return False
        time.sleep(pause)
    return False
