"""Fixed-window rate limits counted in the shared cache (Redis or the database), so every
process enforces one budget: the API's per-account limits and publishers' declared limits
on how often we call them.

Counted with the cache's add and incr: atomic on Redis (INCR), so exact there; Django's
database cache increments by read-then-write, so within a process the threads take turns
and across processes it stays approximate (run at scale with Redis). With the cache
unreachable a limit fails open: a restarting cache must not stop all work with it.
"""

import threading
import time
from dataclasses import dataclass

from django.core.cache import cache

from marketplace import outages

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_counting = threading.Lock()


def parse_rate(rate):
    """"100/s" -> (100, 1)."""
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
    try:
        count = _count(f"{key}:{window}", period)
    except outages.UNREACHABLE as error:
        outages.log(error, f"rate limit {key.split(':', 1)[0]}")
        return Hit(True, 0)
    return Hit(count <= limit, (window + 1) * period - now)


def _count(key, period):
    with _counting:
        cache.add(key, 0, timeout=period + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: this use starts a window
            cache.add(key, 1, timeout=period + 1)
            return 1
