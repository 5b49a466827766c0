"""What every part of a recording add-on result's life shares: when it is open, its hold,
its deadline, and the one conditional UPDATE that fails it.

Every state change is a conditional UPDATE, so a redelivered task, a second callback or the
overdue sweep can never move a result twice or out of a terminal state.
"""

from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billing import services as billing
from recordings import queue
from recordings.models import AddOnResult

INTEGRATION_POINT = "recordings"
OPEN = (AddOnResult.Status.QUEUED, AddOnResult.Status.PROCESSING)


@contextmanager
def removed_unless_committed(field_file):
    """Storage is not transactional: a file saved in a transaction that then fails (the
    database went away) is removed, so nothing is left that no row refers to."""
    try:
        yield
    except BaseException:
        if field_file.name:
            field_file.delete(save=False)
        raise


def time_allowed(recording):
    factor = settings.RESULT_DEADLINE_FACTOR * recording.duration_ms / 1000
    return timedelta(seconds=max(factor, settings.RESULT_DEADLINE_FLOOR_S))


def hold_key(result_sid):
    return f"result:{result_sid}"  # the key of the billing event that would charge it


def fail(result_sid, code, message, *, claim=None):
    """Move an open result to failed (not billed) and tell the customer; False if not open
    (or, with `claim`, if that callback's claim on it was lost)."""
    moved = still_open(result_sid, claim).update(
        status=AddOnResult.Status.FAILED,
        error_code=code,
        error_message=message,
        date_completed=timezone.now(),
        date_updated=timezone.now(),
        customer_notification=AddOnResult.CustomerNotification.PENDING,
    )
    if moved:
        billing.release_hold(key=hold_key(result_sid))
        queue.enqueue_on_commit("recordings.tasks.notify_customer", result_sid)
    return bool(moved)


def still_open(result_sid, claim):
    """The result while it is open: the conditional UPDATE that makes every move happen once."""
    results = AddOnResult.objects.filter(sid=result_sid, status__in=OPEN)
    return results if claim is None else results.filter(callback_claimed_at=claim)


def claim_free(now):
    """Never claimed, or claimed by a callback that never finished (the database restarted
    under it): the publisher's retry may take it again."""
    stale = now - timedelta(seconds=settings.CALLBACK_CLAIM_LEASE_S)
    return Q(callback_claimed_at__isnull=True) | Q(callback_claimed_at__lt=stale)
