"""Caps on work in flight per account at servers we do not run (customers' webhooks and
result callbacks), across every web process and worker: no account can hold more than its
share of threads with its own slow servers.

A cap of N is N slots, each a lease that runs out by itself (a process that dies holding one
frees it after `lease_s`). The store is the rate limits' (marketplace/ratelimit.py): with
Redis a slot is an `add` (SET NX with expiry) in the cache; without it a RateCounter row,
taken by one conditional UPDATE or INSERT, so exact across processes on SQLite and
PostgreSQL alike. With the store unreachable the cap fails open, as rate limits do.
"""

import secrets
from contextlib import contextmanager
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from marketplace import outages
from marketplace.models import RateCounter
from marketplace.ratelimit import _cache_is_shared_memory


@contextmanager
def slot(scope, subject, *, limit, lease_s):
    """Yields True with one of `subject`'s `limit` slots held (released on exit), or False
    when all are taken."""
    held = _take(f"inflight-{scope}:{subject}", limit, lease_s)
    try:
        yield held is not False
    finally:
        if held:
            _give_back(*held)


def _take(base, limit, lease_s):
    """(key, token) of the slot taken, None when the store is unreachable, False when full."""
    keys = [f"{base}:{i}" for i in range(limit)]
    in_cache = _cache_is_shared_memory()
    take = _take_in_cache if in_cache else _take_in_database
    try:
        if not in_cache:
            # One read first: a full account (the case under attack) costs no write at all,
            # so a flood of refused requests does not queue on the database's write lock.
            held = set(
                RateCounter.objects.filter(key__in=keys, expires__gt=timezone.now()).values_list("key", flat=True)
            )
            keys = [key for key in keys if key not in held]
        for key in keys:
            token = take(key, lease_s)
            if token is not None:
                return key, token
    except outages.UNREACHABLE as error:
        outages.log(error, f"in-flight cap {base.split(':', 1)[0]}")
        return None
    return False


def _take_in_cache(key, lease_s):
    token = secrets.token_hex(8)
    return token if cache.add(key, token, timeout=lease_s) else None


def _take_in_database(key, lease_s):
    now = timezone.now()
    expires = now + timedelta(seconds=lease_s)
    # A slot whose lease ran out is free: retaken by one conditional UPDATE.
    if RateCounter.objects.filter(key=key, expires__lt=now).update(count=F("count") + 1, expires=expires):
        return expires
    try:
        with transaction.atomic():
            RateCounter.objects.create(key=key, count=1, expires=expires)
    except IntegrityError:
        return None  # held by someone else
    return expires


def _give_back(key, token):
    try:
        if _cache_is_shared_memory():
            if cache.get(key) == token:  # not if the lease ran out and another took it
                cache.delete(key)
        else:
            RateCounter.objects.filter(key=key, expires=token).delete()
    except outages.UNREACHABLE as error:
        outages.log(error, "in-flight cap release")  # the lease frees it
