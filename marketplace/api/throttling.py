"""Rate limits per account, counted in the shared cache (Redis or the database), so every
web process enforces one budget. Over it: 429, Twilio code 20429, and Retry-After."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class AccountRateThrottle(SimpleRateThrottle):
    scope = "account"

    def get_rate(self):
        return settings.API_RATE_LIMIT  # read per request, so a deployment (or a test) can change it

    def get_cache_key(self, request, view):
        account = getattr(request.user, "account", None)
        if account is None:
            return None  # unauthenticated requests are refused before they cost anything
        return f"throttle:account:{account.sid}"


class PublisherRateThrottle(AccountRateThrottle):
    """A separate budget for the publisher endpoints (usage reports, listings, test calls),
    on top of the account's: a publisher's batch job cannot starve its own customers' API."""

    scope = "publisher"

    def get_rate(self):
        return settings.PUBLISHER_API_RATE_LIMIT

    def get_cache_key(self, request, view):
        key = super().get_cache_key(request, view)
        return key.replace("throttle:account:", "throttle:publisher:") if key else None
