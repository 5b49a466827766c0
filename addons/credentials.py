"""Publishers' credentials at rest: sealed with Fernet (AES, authenticated) under a key
from the environment, opened only when a request to the publisher is built.

CREDENTIALS_KEY is a Fernet key (`python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`); without it, one is derived from SECRET_KEY.
"""

import base64
import copy
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

PREFIX = "sealed:v1:"
# The auth members that carry a secret, by auth type (docs/manifest.md).
SECRET_MEMBERS = {"basic": ("password",), "bearer": ("token",), "query": ("value",), "body": ("value",)}


def _fernet():
    key = settings.CREDENTIALS_KEY or base64.urlsafe_b64encode(
        hashlib.sha256(f"credentials:{settings.SECRET_KEY}".encode()).digest()
    )
    return Fernet(key)


def seal(value):
    if not isinstance(value, str) or value.startswith(PREFIX):
        return value
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def open_value(value):
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return value
    try:
        return _fernet().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise RuntimeError("A publisher credential cannot be opened: CREDENTIALS_KEY changed?") from None


def _map_auth(endpoint, function):
    endpoint = copy.deepcopy(endpoint)
    auth = endpoint.get("auth") or {}
    for member in SECRET_MEMBERS.get(auth.get("type"), ()):
        if member in auth:
            auth[member] = function(auth[member])
    return endpoint


def seal_endpoint(endpoint):
    return _map_auth(endpoint, seal)


def open_endpoint(endpoint):
    return _map_auth(endpoint, open_value)


def seal_manifest(manifest):
    """The manifest as stored for the publisher's reference: its credentials sealed too."""
    if not isinstance(manifest.get("endpoint"), dict):
        return manifest
    return {**manifest, "endpoint": seal_endpoint(manifest["endpoint"])}


def open_manifest(manifest):
    if not isinstance(manifest.get("endpoint"), dict):
        return manifest
    return {**manifest, "endpoint": open_endpoint(manifest["endpoint"])}
