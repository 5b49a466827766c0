"""The inbound traffic sandbox: a message or call reaches a number, its add-ons run, and the
customer's webhook gets Twilio's usual parameters plus `AddOns`, signed with their token.

Delivered inline, within WEBHOOK_TIMEOUT_S for the whole exchange; an account has at most
WEBHOOK_MAX_IN_FLIGHT sandbox requests in flight across every web process, past which the
sandbox answers 429 (20429) before running anything: its own slow webhook cannot take more
than that many of the web tier's threads.
"""

import json
import math

from django.conf import settings

from addons import selectors
from addons.services import notifications
from invocation import engine, outcomes, webhooks
from marketplace import inflight
from marketplace.errors import TooManyInFlight
from marketplace.sids import new_sid

KINDS = {
    # kind: (integration point, SID prefix, number's URL field, method field)
    "message": ("incoming-sms", "SM", "sms_url", "sms_method"),
    "call": ("incoming-voice", "CA", "voice_url", "voice_method"),
}


def receive(*, phone_number, kind, sender, body=None):
    """Run the add-ons for one inbound message or call and deliver the webhook."""
    account = phone_number.account
    # Held until the webhook is answered or cut; the lease outlives any request's own bounds.
    lease_s = settings.WEBHOOK_TIMEOUT_S + 60
    with inflight.slot("sandbox", account.sid, limit=settings.WEBHOOK_MAX_IN_FLIGHT, lease_s=lease_s) as held:
        if not held:
            raise TooManyInFlight(
                f"This account already has {settings.WEBHOOK_MAX_IN_FLIGHT} inbound messages or calls in flight "
                "(their webhooks have not answered yet); retry after Retry-After seconds",
                retry_after=max(1, math.ceil(settings.WEBHOOK_TIMEOUT_S)),
            )
        return _receive(phone_number, kind, sender, body)


def _receive(phone_number, kind, sender, body):
    integration_point, prefix, url_field, method_field = KINDS[kind]
    account = phone_number.account
    sid = new_sid(prefix)
    planned = [
        engine.plan(installation, extension_enabled=True)
        for installation in selectors.installations_for_inbound(phone_number, integration_point)
    ]
    inputs = {"primary_address": sender, "secondary_address": phone_number.phone_number}
    if body is not None:
        inputs["body"] = body
    results = engine.invoke(
        account=account, planned=planned, integration_point=integration_point, inputs=inputs, resource_sid=sid
    )
    add_ons = engine.add_ons_object(results)
    params = _webhook_params(kind, sid, account, sender, phone_number.phone_number, body)
    webhook = deliver(
        account=account,
        url=getattr(phone_number, url_field),
        method=getattr(phone_number, method_field),
        params=params,
        add_ons=add_ons if planned else None,
        resource_sid=sid,
    )
    return {
        "sid": sid,
        "account_sid": account.sid,
        "from": sender,
        "to": phone_number.phone_number,
        **({"body": body} if body is not None else {}),
        "add_ons": add_ons,
        "webhook": webhook,
    }


def _webhook_params(kind, sid, account, sender, to, body):
    params = {"AccountSid": account.sid, "From": sender, "To": to, "ApiVersion": "2010-04-01"}
    if kind == "message":
        params.update(
            MessageSid=sid,
            SmsSid=sid,
            SmsMessageSid=sid,
            Body=body,
            NumMedia="0",
            NumSegments="1",
            SmsStatus="received",
        )
    else:
        params.update(CallSid=sid, CallStatus="ringing", Direction="inbound")
    return params


def deliver(*, account, url, method, params, add_ons, resource_sid):
    """POST (or GET) the webhook, signed with the customer's auth token as Twilio signs it."""
    if not url:
        return {"url": None, "method": method, "status_code": None, "error": "the number has no webhook URL"}
    params = dict(params)
    if add_ons is not None and method == "POST":
        params["AddOns"] = json.dumps(add_ons, separators=(",", ":"))
    elif add_ons is not None:
        notifications.notify(
            account=account,
            code=outcomes.WEBHOOK_GET.code,
            message=f"{outcomes.WEBHOOK_GET.message}: {url} is called with GET, so AddOns is left out",
            resource_sid=resource_sid,
        )
    outcome = webhooks.send_signed(account=account, url=url, method=method, params=params)
    if outcome.get("code"):  # refused or cut at the deadline: the debugger says so too
        notifications.notify(
            account=account,
            code=outcome["code"],
            message=f"The webhook {url} was not delivered: {outcome['error']}",
            resource_sid=resource_sid,
        )
    return outcome
