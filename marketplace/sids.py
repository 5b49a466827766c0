"""Resource identifiers: two capital letters and 32 lowercase hex digits, as Twilio's."""

import re
import secrets

from django.db import models

PREFIXES = {
    "AC": "account",
    "SK": "API key",
    "PN": "incoming phone number",
    "XB": "listing (available add-on)",
    "XC": "listing version",
    "XF": "extension",
    "XE": "installed add-on (configuration)",
    "XD": "install",
    "XR": "add-on request / result",
    "XH": "payload",
    "RE": "recording",
    "BI": "billable item",
    "MM": "message",
    "SM": "message",
    "CA": "call",
    "NO": "debugger notification",
}

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def new_sid(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown SID prefix {prefix!r}")
    return prefix + secrets.token_hex(16)


def normalize_sid(value, prefix: str):
    """The canonical SID when `value` is a well-formed SID of this prefix, else None.

    Twilio's patterns accept hex digits in either case; we store them lowercase.
    """
    if isinstance(value, str) and len(value) == 34 and value[:2] == prefix and _HEX32.match(value[2:]):
        return prefix + value[2:].lower()
    return None


class SidField(models.CharField):
    """A unique, indexed SID column that fills itself with a new SID of its prefix."""

    def __init__(self, prefix=None, *args, **kwargs):
        self.prefix = prefix
        kwargs.setdefault("max_length", 34)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        if prefix:
            kwargs["default"] = _SidDefault(prefix)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("default", None)
        kwargs["prefix"] = self.prefix
        for key, value in (("max_length", 34), ("unique", True), ("editable", False)):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs


class _SidDefault:
    """A picklable default callable, so migrations can serialise the field."""

    def __init__(self, prefix):
        self.prefix = prefix

    def __call__(self):
        return new_sid(self.prefix)

    def deconstruct(self):
        return ("marketplace.sids._SidDefault", (self.prefix,), {})

    def __eq__(self, other):
        return isinstance(other, _SidDefault) and other.prefix == self.prefix
