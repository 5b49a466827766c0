"""The files a development install keeps under var/ (never written by importing settings).

settings.py only reads: the SQLite file, static files and the development SECRET_KEY all live
under VAR_DIR, and MarketplaceConfig.ready() (marketplace/apps.py) creates what is missing once
Django starts, whatever starts it (manage.py, gunicorn, pytest, a script's django.setup()).
"""

import os

from django.core.management.utils import get_random_secret_key


def read_secret_key(path):
    """The development key kept in `path`, or a new one when there is none yet (kept by ready())."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return get_random_secret_key()


def keep_secret_key(path, key):
    """Store `key` in `path` unless a key is there already; the key that is kept.

    Written private (0600) to a temporary file, then linked into place, which fails if the
    name exists: a web server and a worker starting together on a fresh install agree on the
    first one stored, and neither ever reads a half-written file.
    """
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        temporary.unlink()
    return key


def prepare(settings):
    """Create var/ and what lives in it; adopt the stored development key."""
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    if settings.SECRET_KEY_FILE is not None:
        settings.SECRET_KEY = keep_secret_key(settings.SECRET_KEY_FILE, settings.SECRET_KEY)
