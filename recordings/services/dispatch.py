"""Sending a recording to its add-on's publisher: once, leased to one worker, held for first.

The call goes through the invocation engine's one call path (prepare, send, finish); what is
new here is the answer: an asynchronous add-on accepts, and posts its result later.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.selectors import may_act
from addons.contract import PricingModel
from billing import services as billing
from invocation import circuit, engine, outcomes, records
from invocation.verdict import Verdict, judge
from marketplace import outages
from recordings.models import AddOnResult
from recordings.services.callbacks import callback_url
from recordings.services.results import INTEGRATION_POINT, fail, hold_key, time_allowed

logger = logging.getLogger(__name__)

ACCEPTANCE_LIMIT = 64 * 1024  # an acceptance has no body; anything past this is not one


def deliver_to_publisher(*, result_sid):
    """Send the recording to the result's publisher; run by a django-q2 worker."""
    result = (
        AddOnResult.objects.select_related(
            "account", "recording", "installation__listing__publisher", "installation__version"
        )
        .filter(sid=result_sid)
        .first()
    )
    if result is None or not _take_for_dispatch(result.sid):
        return  # deleted, done, or another worker holds it: a redelivered or duplicate task
    installation = result.installation
    if installation is None:
        return _finish(result, Verdict(outcomes.NOT_INSTALLED, "The add-on was uninstalled before it ran"))
    if not may_act(result.account):  # suspended or closed since the upload: nothing leaves for it
        return _finish(result, Verdict(outcomes.ACCOUNT_INACTIVE, outcomes.ACCOUNT_INACTIVE.message))
    planned = engine.plan(installation, extension_enabled=True)
    if planned.refusal is not None:
        return _refuse(result, installation, planned.refusal)
    if not _hold_estimated_cost(result, installation):
        return _finish(result, Verdict(outcomes.INSUFFICIENT_BALANCE, outcomes.INSUFFICIENT_BALANCE.message))

    target = engine.target_for(installation, INTEGRATION_POINT, request_sid=result.sid)
    recording = result.recording
    with recording.audio.open("rb") as audio:
        inputs = {
            "audio_data": audio.read(),
            "callback_url": callback_url(result.sid),
            "channels": str(recording.channels),
            "duration": str(recording.duration_ms),
            "format": recording.mimetype,
            "media_sid": recording.sid,
            "size": str(recording.size),
        }
    call, exchange, verdict = engine.call_once(
        target,
        inputs,
        now=timezone.now(),
        breaker=circuit.Breaker([circuit.endpoint(target)]),
        size_limit=ACCEPTANCE_LIMIT,
        judging=judge_acceptance,
    )
    if verdict.outcome is outcomes.RATE_LIMITED:
        return _wait_for_the_publishers_next_window(result, call.retry_after)
    if call.request is None:  # its circuit is open, or its inputs do not meet the request schema
        return _finish(result, verdict)
    logger.info(
        "recording %s sent to %s: %s",
        recording.sid,
        installation.unique_name,
        verdict.outcome.name,
        extra={"request_sid": result.sid},
    )
    pending = records.Pending(
        installation, installation.listing, installation.version, target, verdict, call.request, exchange, recording.sid
    )

    @transaction.atomic
    def record():
        (invocation,) = records.record_invocations(
            account=result.account, integration_point=INTEGRATION_POINT, pending=[pending]
        )
        AddOnResult.objects.filter(sid=result.sid).update(invocation=invocation)
        if verdict.successful:
            AddOnResult.objects.filter(sid=result.sid, status=AddOnResult.Status.QUEUED).update(
                status=AddOnResult.Status.PROCESSING, date_updated=timezone.now()
            )
        else:
            fail(result.sid, verdict.outcome.code, verdict.message)

    # The publisher has the audio now: a database restarting at this moment must not make
    # the call unrecorded (and the result sent again once its lease runs out).
    outages.retry_while_database_unreachable(record, what=f"recording the call for {result.sid}")


def _refuse(result, installation, outcome):
    """Not sent: recorded as the engine records a refusal (its debugger alerts, never billed),
    and the result failed with the refusal's code."""
    target = engine.target_for(installation, INTEGRATION_POINT, request_sid=result.sid)
    verdict = Verdict(outcome, outcome.message)
    pending = records.Pending(
        installation, installation.listing, installation.version, target, verdict, None, None, result.recording.sid
    )
    with transaction.atomic():
        (invocation,) = records.record_invocations(
            account=result.account, integration_point=INTEGRATION_POINT, pending=[pending]
        )
        AddOnResult.objects.filter(sid=result.sid).update(invocation=invocation)
        fail(result.sid, outcome.code, verdict.message)


def _wait_for_the_publishers_next_window(result, wait_s):
    """A recording can wait, unlike a lookup: it stays queued, its lease set to run out when
    the publisher's next window opens (the sweep then sends it), its deadline moved as far."""
    now = timezone.now()
    AddOnResult.objects.filter(sid=result.sid, status=AddOnResult.Status.QUEUED).update(
        date_dispatched=now - timedelta(seconds=settings.DISPATCH_LEASE_S - wait_s),
        date_deadline=now + timedelta(seconds=wait_s) + time_allowed(result.recording),
    )
    logger.info(
        "result %s waits %.1f s for its publisher's rate limit", result.sid, wait_s, extra={"request_sid": result.sid}
    )


def _hold_estimated_cost(result, installation):
    """The whole recording at the pinned per-minute price is held before it is sent (one
    conditional UPDATE): charged when the result completes, released when it fails."""
    pricing = installation.version.pricing
    if pricing.get("model") != PricingModel.PER_MINUTE:
        return True
    cost = billing.money(billing.unit_price(pricing) * billing.minutes_of(result.recording.duration_ms))
    return billing.hold(account=result.account, key=hold_key(result.sid), amount=cost)


def _take_for_dispatch(result_sid):
    """Lease a queued result to this worker; False when it is not queued or leased to another."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.DISPATCH_LEASE_S)
    return bool(
        AddOnResult.objects.filter(sid=result_sid, status=AddOnResult.Status.QUEUED)
        .filter(Q(date_dispatched__isnull=True) | Q(date_dispatched__lt=lease_expired))
        .update(date_dispatched=now)
    )


def judge_acceptance(exchange, target):
    """An asynchronous add-on accepts with 202 or 204 and no body; the rest is the engine's."""
    if exchange.failure is None and exchange.status in (202, 204):
        return Verdict(outcomes.SUCCESS, "")
    if exchange.failure is None and exchange.status == 200:
        verdict = judge(exchange, target)
        if verdict.outcome is outcomes.PUBLISHER_ERROR:
            return verdict
        return Verdict(
            outcomes.UNEXPECTED_STATUS,
            f"{outcomes.UNEXPECTED_STATUS.message}: HTTP 200 with a body; an asynchronous add-on "
            "answers 202 or 204 without one and posts its result to the callback URL",
        )
    return judge(exchange, target)


def _finish(result, verdict):
    with transaction.atomic():
        fail(result.sid, verdict.outcome.code, verdict.message)
