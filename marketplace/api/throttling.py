"""Rate limits per account, counted in the shared cache (Redis or the database), so every
web process enforces one budget. Over it: 429, Twilio code 20429, and Retry-After.

Fixed windows counted with the cache's add and incr: atomic on Redis (INCR), so exact
there; Django's database cache increments by read-then-write, so under concurrency it
lets a few more through. An empty rate turns the limit off. With Redis unreachable the
limit fails open: a restarting cache must not take the API down with it.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from marketplace import outages

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_counting = threading.Lock()


def parse_rate(rate):
    """"100/s" -> (100, 1)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


class AccountRateThrottle(BaseThrottle):
    scope = "account"

    def rate(self):
        return settings.API_RATE_LIMIT  # read per request: a deployment (or a test) can change it

    def allow_request(self, request, view):
        account = getattr(request.user, "account", None)
        if account is None or not self.rate():
            return True  # unauthenticated requests are refused before they cost anything
        limit, period = parse_rate(self.rate())
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{account.sid}:{window}"
        # Redis's INCR is atomic across processes; the database cache's incr is a read then a
        # write, so within a process the threads take turns (across processes it stays
        # approximate: run at scale with Redis).
        try:
            count = self._count(key, period)
        except outages.UNREACHABLE as error:
            outages.log(error, f"rate limit {self.scope}")
            return True
        self.retry_after = (window + 1) * period - now
        return count <= limit

    @staticmethod
    def _count(key, period):
        with _counting:
            cache.add(key, 0, timeout=period + 1)
            try:
                return cache.incr(key)
            except ValueError:  # expired between add and incr: this request starts a window
                cache.add(key, 1, timeout=period + 1)
                return 1

    def wait(self):
        return max(self.retry_after, 1)


class PublisherRateThrottle(AccountRateThrottle):
    """A separate budget for the publisher endpoints (usage reports, listings, test calls),
    on top of the account's: a publisher's batch job cannot starve its own customers' API."""

    scope = "publisher"

    def rate(self):
        return settings.PUBLISHER_API_RATE_LIMIT
