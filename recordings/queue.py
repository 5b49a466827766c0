"""Putting work on django-q2: the ORM broker by default, Redis with REDIS_URL."""

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

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
