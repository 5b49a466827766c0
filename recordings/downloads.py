"""Signed, expiring download URLs for stored payloads (the Data resource's redirect_to)."""

from django.conf import settings
from django.core import signing

from marketplace.api.formats import absolute_url

_SALT = "marketplace.payload-download"


def payload_download_url(payload):
    token = signing.dumps(payload.sid, salt=_SALT)
    return absolute_url(f"/downloads/v1/Payloads/{token}")


def payload_sid_from(token):
    """The payload SID the token was made for, or None when forged or expired."""
    try:
        return signing.loads(token, salt=_SALT, max_age=settings.PAYLOAD_URL_TTL_S)
    except signing.BadSignature:  # SignatureExpired is one
        return None
