"""Wire formats shared by the v1 and 2010 APIs: dates and absolute URLs."""

from datetime import UTC
from email.utils import format_datetime

from django.conf import settings


def iso8601(value):
    """v1 dates: `2016-04-07T23:52:28Z`."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc2822(value):
    """2010 dates: `Thu, 07 Apr 2016 23:52:28 +0000`."""
    if value is None:
        return None
    return format_datetime(value.astimezone(UTC))


def absolute_url(path):
    return settings.MARKETPLACE_BASE_URL + path
