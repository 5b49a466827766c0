"""Signed, expiring download URLs for stored payloads (the Data resource's redirect_to).

A payload is whatever a publisher posted: it is served as data, never as a page of our
origin (an attachment, nosniff, a content type from SAFE_CONTENT_TYPES), and from
PAYLOAD_DOWNLOAD_ORIGIN when one is set.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "marketplace.payload-download"
# The content types a payload keeps (docs/manifest.md); any other is stored as OCTET_STREAM.
SAFE_CONTENT_TYPES = frozenset({"application/json"})
OCTET_STREAM = "application/octet-stream"


def safe_content_type(content_type):
    """The type a payload is stored and served as: the publisher's, if allowed, else bytes."""
    media_type = (content_type or "application/json").split(";")[0].strip().lower()
    return media_type if media_type in SAFE_CONTENT_TYPES else OCTET_STREAM


def payload_download_url(payload):
    token = signing.dumps(payload.sid, salt=_SALT)
    origin = settings.PAYLOAD_DOWNLOAD_ORIGIN or settings.MARKETPLACE_BASE_URL
    return origin + reverse("payload_download", kwargs={"token": token})


def payload_sid_from(token):
    """The payload SID the token was made for, or None when forged or expired."""
    try:
        return signing.loads(token, salt=_SALT, max_age=settings.PAYLOAD_URL_TTL_S)
    except signing.BadSignature:  # SignatureExpired is one
        return None
