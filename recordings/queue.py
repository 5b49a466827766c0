"""Putting work on django-q2: the ORM broker by default, Redis with REDIS_URL."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

from marketplace import outages


def enqueue(func_path, *args):
    return async_task(func_path, *args, sync=settings.TASKS_SYNC)


def enqueue_on_commit(func_path, *args):
    """Enqueue once the current transaction commits, so the worker sees what it refers to.

    What was committed stands if the broker is unreachable then: the request still succeeds,
    and the sweep finds the result that is still queued, or the notification still owed."""

    def enqueue_or_leave_to_the_sweep():
        try:
            enqueue(func_path, *args)
        except outages.UNREACHABLE as error:
            outages.log(error, f"enqueue {func_path} {' '.join(map(str, args))}")

    transaction.on_commit(enqueue_or_leave_to_the_sweep)


def enqueue_later(func_path, *args, after_s):
    """Run the task in `after_s` seconds (django-q2's scheduler, which looks every 30 s or so):
    a retry waits in the database, not in a sleeping worker. With tasks run inline (tests)
    nothing is scheduled; the sweep, which sends what is due, stands in."""
    if settings.TASKS_SYNC:
        return
    try:
        schedule(
            func_path,
            *args,
            schedule_type=Schedule.ONCE,
            repeats=-1,
            next_run=timezone.now() + timedelta(seconds=after_s),
        )
    except outages.UNREACHABLE as error:
        outages.log(error, f"schedule {func_path} {' '.join(map(str, args))}")  # the sweep finds it due
