"""Calling the customer's own URLs (webhooks, result callbacks), signed as Twilio signs them:
HMAC-SHA1 with the customer's auth token, so the SDK's RequestValidator checks them."""

import requests
from django.conf import settings
from twilio.request_validator import RequestValidator

# The publishers' sessions: keep-alive, no cookies or proxies, and the outbound address check.
from addons.invocation.transport import session_for

RESPONSE_PREVIEW = 2000


def send_signed(*, account, url, method, params):
    """POST the params as a form, or GET them in the query; the outcome as a dict."""
    validator = RequestValidator(account.auth_token)
    options = {"timeout": settings.WEBHOOK_TIMEOUT_S, "allow_redirects": False, "stream": True}
    try:
        if method == "POST":
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
            response = session_for(url).post(url, data=params, headers=headers, **options)
        else:
            prepared = requests.Request("GET", url, params=params).prepare()
            headers = {"X-Twilio-Signature": validator.compute_signature(prepared.url, {})}
            response = session_for(url).get(prepared.url, headers=headers, **options)
    except requests.RequestException as error:
        return {"url": url, "method": method, "status_code": None, "error": error.__class__.__name__}
    with response:
        preview = response.raw.read(RESPONSE_PREVIEW, decode_content=True).decode("utf-8", errors="replace")
    return {
        "url": url,
        "method": method,
        "status_code": response.status_code,
        "error": None if response.status_code < 400 else f"HTTP {response.status_code}",
        "response_body": preview,
    }
