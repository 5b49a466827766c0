"""Calling the customer's own URLs (webhooks, result callbacks), signed as Twilio signs them:
HMAC-SHA1 with the customer's auth token, so the SDK's RequestValidator checks them.

Sent through the one outbound path (invocation/transport.py): address policy before
connecting, no redirects, and WEBHOOK_TIMEOUT_S for the whole exchange, so a customer's
server dripping its answer holds our thread no longer than that.
"""

import time

import requests
from django.conf import settings
from twilio.request_validator import RequestValidator

from invocation import outcomes, transport

RESPONSE_PREVIEW = 2000


def send_signed(*, account, url, method, params):
    """POST the params as a form, or GET them in the query; the outcome as a dict."""
    outcome = {"url": url, "method": method, "status_code": None}
    try:
        # Signed over the URL exactly as it goes on the wire (percent-encoded, IDNA host):
        # that is the URL the receiver sees and hands to its RequestValidator.
        if method == "POST":
            prepared = requests.Request("POST", url, data=params).prepare()
            signature = RequestValidator(account.auth_token).compute_signature(prepared.url, params)
        else:
            prepared = requests.Request("GET", url, params=params).prepare()
            signature = RequestValidator(account.auth_token).compute_signature(prepared.url, {})
    except (requests.RequestException, ValueError) as error:
        return {**outcome, "error": f"the URL cannot be called ({error.__class__.__name__})"}
    call = transport.Call(
        method=method,
        url=prepared.url,
        headers={**prepared.headers, "X-Twilio-Signature": signature},
        body=prepared.body,
    )
    exchange = transport.send(
        call, size_limit=RESPONSE_PREVIEW, deadline=time.monotonic() + settings.WEBHOOK_TIMEOUT_S, cut_at_limit=True
    )
    if exchange.failure == "forbidden_destination":
        return {
            **outcome,
            "error": "the URL reaches a private or internal address: not called",
            "code": outcomes.WEBHOOK_REFUSED.code,
        }
    if exchange.failure == "timeout":
        # Even with its status line in: an answer that never finished is no answer.
        return {
            **outcome,
            "error": f"no complete answer within {settings.WEBHOOK_TIMEOUT_S:g} s: cut off",
            "code": outcomes.WEBHOOK_TIMEOUT.code,
        }
    if exchange.failure is not None:
        return {**outcome, "error": exchange.detail or exchange.failure}
    return {
        **outcome,
        "status_code": exchange.status,
        "error": None if exchange.status < 400 else f"HTTP {exchange.status}",
        "response_body": exchange.body.decode("utf-8", errors="replace"),
    }
