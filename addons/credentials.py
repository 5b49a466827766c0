"""Publishers' credentials at rest: sealed with Fernet (AES, authenticated) under a key
from the environment, opened only when a request to the publisher is built.

CREDENTIALS_KEY is one Fernet key (`python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`), or several, comma-separated, newest first: values
are sealed with the first and opened with any (MultiFernet), so a key rotates by putting
the new one in front, running `manage.py reseal_credentials`, then dropping the old one.
Without it, one is derived from SECRET_KEY; that derived key still opens values once
CREDENTIALS_KEY is set, so moving to an explicit key is the same rotation.

Only values this module sealed are ever opened: a manifest may not carry a value that looks
sealed (addons/manifest.py refuses it), or anyone holding another publisher's ciphertext
could have its plaintext sent to their own endpoint.
"""

import base64
import copy
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "sealed:v1:"
# The auth members that carry a secret, by auth type (docs/manifest.md).
SECRET_MEMBERS = {"basic": ("password",), "bearer": ("token",), "query": ("value",), "body": ("value",)}


def keys():
    """The configured keys, newest first; the key derived from SECRET_KEY last."""
    configured = [key.strip() for key in settings.CREDENTIALS_KEY.split(",") if key.strip()]
    derived = base64.urlsafe_b64encode(hashlib.sha256(f"credentials:{settings.SECRET_KEY}".encode()).digest()).decode()
    return configured + [derived]


def _fernet():
    return MultiFernet([Fernet(key) for key in keys()])


def is_sealed(value):
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(value):
    if not isinstance(value, str) or is_sealed(value):
        return value
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def open_value(value):
    if not is_sealed(value):
        return value
    try:
        return _fernet().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise RuntimeError("A publisher credential cannot be opened: CREDENTIALS_KEY changed?") from None


def reseal(value):
    """The value sealed again under the newest key (any configured key may open it now)."""
    if not is_sealed(value):
        return value
    try:
        return PREFIX + _fernet().rotate(value[len(PREFIX) :].encode()).decode()
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


def reseal_endpoint(endpoint):
    return _map_auth(endpoint, reseal)


def reseal_manifest(manifest):
    if not isinstance(manifest.get("endpoint"), dict):
        return manifest
    return {**manifest, "endpoint": reseal_endpoint(manifest["endpoint"])}


def sealed_looking_paths(data):
    """The paths (tuples) of every string in `data` that looks sealed, keys included."""
    stack = [((), data)]
    while stack:  # not recursive: a manifest's depth is the publisher's choice
        path, value = stack.pop()
        if is_sealed(value):
            yield path
        elif isinstance(value, dict):
            for key, member in value.items():
                if is_sealed(key):
                    yield path + (key,)
                stack.append((path + (key,), member))
        elif isinstance(value, list):
            stack.extend((path + (index,), member) for index, member in enumerate(value))


def open_manifest(manifest):
    if not isinstance(manifest.get("endpoint"), dict):
        return manifest
    return {**manifest, "endpoint": open_endpoint(manifest["endpoint"])}
