"""Publishers' declared rate limits (a version's `endpoint.rate_limit`): how often we call a
listing's service, across all customers and processes, counted in the shared cache."""

from marketplace import ratelimit

UNLIMITED = ratelimit.Hit(True, 0)


def admit(target):
    """Count one call of this listing; whether it fits the publisher's rate, and if not, when."""
    rate = target.endpoint.get("rate_limit")
    return ratelimit.hit(f"publisher-rate:{target.listing_sid}", rate) if rate else UNLIMITED
