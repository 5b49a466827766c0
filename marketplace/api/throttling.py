"""Rate limits per account on the API (marketplace/ratelimit.py counts them in the shared
cache): over it, 429 with Twilio code 20429 and Retry-After. An empty rate turns it off."""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from marketplace import ratelimit


class AccountRateThrottle(BaseThrottle):
    scope = "account"

    def rate(self):
        return settings.API_RATE_LIMIT  # read per request: a deployment (or a test) can change it

    def allow_request(self, request, view):
        account = getattr(request.user, "account", None)
        if account is None or not self.rate():
            return True  # unauthenticated requests are refused before they cost anything
        counted = ratelimit.hit(f"throttle-{self.scope}:{account.sid}", self.rate())
        self.retry_after = counted.retry_after
        return counted.allowed

    def wait(self):
        return max(self.retry_after, 1)


class PublisherRateThrottle(AccountRateThrottle):
    """A separate budget for the publisher endpoints (usage reports, listings, test calls),
    on top of the account's: a publisher's batch job cannot starve its own customers' API."""

    scope = "publisher"

    def rate(self):
        return settings.PUBLISHER_API_RATE_LIMIT
