"""Typed reads of the environment, for settings.py: one line per setting.

A small helper rather than django-environ: it keeps the parsing every variable has always had
(the four words that mean "on", comma lists with blanks dropped, an empty DATABASE_URL meaning
"the default"), it never expands `$NAME` inside a value (django-environ does, which would
rewrite a SECRET_KEY that happens to start with `$`), and a wrong number names its variable.
"""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class Env:
    def __init__(self, environ=None):
        self._environ = os.environ if environ is None else environ

    def _raw(self, name):
        return self._environ.get(name)

    def str(self, name, default=""):
        """The value as it is; `default` only when the variable is unset (empty is a value)."""
        value = self._raw(name)
        return default if value is None else value

    def int(self, name, default):
        return self._number(name, default, int, "a whole number")

    def float(self, name, default):
        return self._number(name, default, float, "a number")

    def flag(self, name, default=False):
        """On for 1/true/yes/on (any case), off for anything else; `default` when unset."""
        value = self._raw(name)
        return default if value is None else value.strip().lower() in TRUE_WORDS

    def list(self, name, default=""):
        """A comma-separated list, each item stripped, empty items dropped."""
        return [item.strip() for item in self.str(name, default).split(",") if item.strip()]

    def _number(self, name, default, cast, what):
        value = self._raw(name)
        if value is None:
            return cast(default)
        try:
            return cast(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not {what}") from None
