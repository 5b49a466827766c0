"""Putting work on django-q2: the ORM broker by default, Redis with REDIS_URL."""

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task


def enqueue(func_path, *args):
    return async_task(func_path, *args, sync=settings.TASKS_SYNC)


def enqueue_on_commit(func_path, *args):
    """Enqueue once the current transaction commits, so the worker sees what it refers to."""
    transaction.on_commit(lambda: enqueue(func_path, *args))
