"""The every-minute sweep: fail what is overdue, send again what was lost."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from invocation import outcomes
from recordings import queue
from recordings.models import AddOnResult
from recordings.services.results import OPEN, claim_free, fail


def redeliver_stalled_results():
    """Queue again what no worker finished sending: its worker died, or the broker lost the
    task (Redis does not redeliver). The lease makes a duplicate harmless."""
    lease_expired = timezone.now() - timedelta(seconds=settings.DISPATCH_LEASE_S)
    stalled = AddOnResult.objects.filter(status=AddOnResult.Status.QUEUED).filter(
        Q(date_dispatched__lt=lease_expired) | Q(date_dispatched__isnull=True, date_created__lt=lease_expired)
    )
    sids = list(stalled.values_list("sid", flat=True)[:1000])
    for sid in sids:
        queue.enqueue("recordings.tasks.deliver_to_publisher", sid)
    return len(sids)


def fail_overdue_results():
    """Fail every open result whose publisher did not call back in time (or whose callback
    never finished); not billed."""
    now = timezone.now()
    overdue = (
        AddOnResult.objects.filter(status__in=OPEN, date_deadline__lte=now)
        .filter(claim_free(now))
        .values_list("sid", flat=True)
    )
    failed = 0
    for sid in list(overdue[:1000]):
        with transaction.atomic():
            failed += fail(sid, outcomes.TIMEOUT.code, "No callback within 10 times the audio's duration")
    return failed


def renotify_lost_notifications():
    """Queue again notifications owed and due whose task was lost (the broker restarted) or
    failed (the database did): never tried for longer than a notify task takes, or past the
    time their retry (or a dead worker's lease) was due. Within a day, then dropped."""
    now = timezone.now()
    never_tried = Q(date_notify_due__isnull=True, date_completed__lt=now - timedelta(seconds=settings.DISPATCH_LEASE_S))
    owed = AddOnResult.objects.filter(
        never_tried | Q(date_notify_due__lte=now),
        customer_notification=AddOnResult.CustomerNotification.PENDING,
        date_completed__gt=now - timedelta(days=1),
    )
    sids = list(owed.values_list("sid", flat=True)[:1000])
    for sid in sids:
        queue.enqueue("recordings.tasks.notify_customer", sid)
    return len(sids)
