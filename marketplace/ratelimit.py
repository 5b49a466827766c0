"""Fixed-window rate limits shared by every process: the API's per-account limits and
publishers' declared limits on how often we call them.

With Redis, a window's count is an INCR in the cache. Without it, a row of RateCounter
counted by one `UPDATE ... SET count = count + 1 ... RETURNING count`: atomic in SQLite and
PostgreSQL alike, so exact across processes, and one statement where Django's database
cache would need six (a read, then a culling count and a write in a transaction). With the
store unreachable a limit fails open: a restarting Redis must not stop all work with it.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketplace import outages
from marketplace.models import RateCounter

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """ "100/s" -> (100, 1)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


@dataclass(frozen=True)
class Hit:
    allowed: bool
    retry_after: float  # seconds until the window that would allow it


def hit(key, rate):
    """Count one use of `key` against `rate` ("N/period") in the current window."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    count_in = _count_in_cache if _cache_is_shared_memory() else _count_in_database
    try:
        count = count_in(f"{key}:{window}", period)
    except outages.UNREACHABLE as error:
        outages.log(error, f"rate limit {key.split(':', 1)[0]}")
        return Hit(True, 0)
    return Hit(count <= limit, (window + 1) * period - now)


def _cache_is_shared_memory():
    return not settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")


def _count_in_cache(key, period):
    try:
        return cache.incr(key)  # the common case: the window's counter exists
    except ValueError:
        # This use opens the window, unless another process just did.
        return 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)


def _count_in_database(key, period):
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    column = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET count = count + 1 WHERE {column} = %s RETURNING count", [key])
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    # This use opens the window, unless another process just did; old windows go now.
    now = timezone.now()
    try:
        with transaction.atomic():
            RateCounter.objects.create(key=key, count=1, expires=now + timedelta(seconds=period + 1))
    except IntegrityError:
        return _count_in_database(key, period)
    RateCounter.objects.filter(expires__lt=now).delete()
    return 1
