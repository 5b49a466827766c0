"""Telling the customer: one attempt at a time to the installation's callback_url, retried
with backoff, within the account's share of the workers."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.selectors import may_act
from addons.services import notifications
from invocation import outcomes
from marketplace import codes, inflight
from recordings import notify, queue
from recordings.models import AddOnResult

logger = logging.getLogger(__name__)

NOTIFY_DEFER_S = 5  # a notification waiting for its account's in-flight share tries again after this


def notify_customer(*, result_sid):
    """One attempt to send the result's status and links to the installation's callback_url.

    True when delivered, False when it will not be (every attempt failed, or the URL answered
    4xx), None when there was nothing to do now: no callback_url, told already, the attempt not
    due yet or taken by another worker, the account's NOTIFY_MAX_IN_FLIGHT reached (tried again
    shortly), or a failed attempt whose retry is scheduled after NOTIFY_BACKOFF_S."""
    owed = AddOnResult.CustomerNotification
    result = (
        AddOnResult.objects.select_related("account", "installation", "recording", "listing")
        .filter(sid=result_sid, customer_notification=owed.PENDING)
        .first()
    )
    if result is None:
        return None  # deleted, or told already: a redelivered task
    url = result.installation.configuration.get("callback_url") if result.installation else None
    if not url:
        AddOnResult.objects.filter(sid=result_sid).update(customer_notification=owed.NOT_REQUESTED)
        return None
    if not may_act(result.account):  # no outbound call on behalf of a suspended or closed account
        notifications.notify(
            account=result.account,
            code=outcomes.ACCOUNT_INACTIVE.code,
            message=f"The account is {result.account.status}: the result {result.sid} was not sent to {url}",
            resource_sid=result.sid,
        )
        AddOnResult.objects.filter(sid=result_sid).update(customer_notification=owed.UNDELIVERABLE)
        return False
    lease_s = settings.WEBHOOK_TIMEOUT_S + 30
    if not _take_notification(result_sid, lease_s):
        return None
    with inflight.slot("notify", result.account.sid, limit=settings.NOTIFY_MAX_IN_FLIGHT, lease_s=lease_s) as held:
        if not held:
            # The account's own callbacks already hold its share of the workers: later, not
            # counted as an attempt, and this worker goes on to someone else's work.
            _notify_again(result_sid, after_s=NOTIFY_DEFER_S, attempts=result.notify_attempts)
            return None
        outcome = notify.attempt(result, url, result.installation.configuration.get("callback_method", "POST"))
    attempts = result.notify_attempts + 1
    if notify.delivered(outcome):
        AddOnResult.objects.filter(sid=result_sid).update(
            customer_notification=owed.DELIVERED, notify_attempts=attempts, date_notify_due=None
        )
        return True
    logger.warning(
        "result %s: callback attempt %d to %s failed: %s",
        result.sid,
        attempts,
        url,
        outcome["error"],
        extra={"request_sid": result.sid},
    )
    pauses = settings.NOTIFY_BACKOFF_S
    if notify.worth_retrying(outcome) and attempts <= len(pauses):
        _notify_again(result_sid, after_s=pauses[attempts - 1], attempts=attempts)
        return None
    notifications.notify(
        account=result.account,
        code=codes.NOTIFICATION_UNDELIVERABLE,
        message=f"The result {result.sid} could not be delivered to {url}: {outcome['error']}",
        resource_sid=result.sid,
    )
    AddOnResult.objects.filter(sid=result_sid).update(
        customer_notification=owed.UNDELIVERABLE, notify_attempts=attempts, date_notify_due=None
    )
    return False


def _take_notification(result_sid, lease_s):
    """One attempt at a time, and not before it is due: a conditional UPDATE, so a redelivered
    task or the sweep never sends it twice at once. The lease runs out if the worker dies."""
    now = timezone.now()
    return bool(
        AddOnResult.objects.filter(sid=result_sid, customer_notification=AddOnResult.CustomerNotification.PENDING)
        .filter(Q(date_notify_due__isnull=True) | Q(date_notify_due__lte=now))
        .update(date_notify_due=now + timedelta(seconds=lease_s))
    )


def _notify_again(result_sid, *, after_s, attempts):
    """Due again in `after_s`: a task is scheduled for then (and the sweep finds it if lost)."""
    AddOnResult.objects.filter(sid=result_sid).update(
        notify_attempts=attempts, date_notify_due=timezone.now() + timedelta(seconds=after_s)
    )
    queue.enqueue_later("recordings.tasks.notify_customer", result_sid, after_s=after_s)
