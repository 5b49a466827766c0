"""Parsing JSON that a participant sent: the one parser for publisher responses, recording
callbacks, `Configuration` (API and console) and request bodies.

Python's json recurses once per nesting level and raises RecursionError (not ValueError) on
`[` × 45,000; deep-but-parseable JSON then overflows whatever walks it next (jsonschema,
the database adapter). And some valid JSON cannot be stored: PostgreSQL's jsonb refuses NUL
(\\u0000) and unpaired surrogates, and NaN/Infinity are not JSON at all. So a document is
refused, with UntrustedJSON (a ValueError) and a reason a person can act on, when it is
larger than `max_bytes`, deeper than `max_depth`, or carries any of those. No Django here.
"""

import json
from decimal import Decimal

MAX_DEPTH = 32


class UntrustedJSON(ValueError):
    def __init__(self, reason, *, kind):
        super().__init__(reason)
        self.kind = kind  # "not_json", "too_large", "too_deep" or "unstorable"


def loads(data, *, max_depth=MAX_DEPTH, max_bytes=None, decimals=False):
    """The parsed document, or UntrustedJSON saying why not.

    With `decimals`, every number (NaN and Infinity too) is a Decimal, for bodies that carry
    money or quantities: no float ever, and the caller's range check names the parameter."""
    if max_bytes is not None and len(data) > max_bytes:
        raise UntrustedJSON(f"larger than {max_bytes} bytes", kind="too_large")
    if decimals:
        numbers = {"parse_float": Decimal, "parse_int": Decimal, "parse_constant": Decimal}
    else:
        numbers = {"parse_float": _finite_float, "parse_constant": _refuse_constant}
    try:
        document = json.loads(data, **numbers)
    except RecursionError:
        raise UntrustedJSON(f"nested deeper than {max_depth} levels", kind="too_deep") from None
    except UntrustedJSON:
        raise
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, an integer too long
        raise UntrustedJSON(str(error), kind="not_json") from error
    _check(document, max_depth)
    return document


def _refuse_constant(name):
    raise UntrustedJSON(f"{name} is not a JSON number", kind="unstorable")


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise UntrustedJSON(f"the number {text[:20]} is out of range", kind="unstorable")
    return value


def _check(document, max_depth):
    """Depth and storable strings, without recursion: an explicit stack of (value, depth)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise UntrustedJSON(f"nested deeper than {max_depth} levels", kind="too_deep")
            for key, item in value.items():
                _check_text(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise UntrustedJSON(f"nested deeper than {max_depth} levels", kind="too_deep")
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text):
    if "\x00" in text:
        raise UntrustedJSON("a string contains a NUL character (\\u0000)", kind="unstorable")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UntrustedJSON("a string contains an unpaired surrogate (\\ud800-\\udfff)", kind="unstorable") from None


class Decoder(json.JSONDecoder):
    """For APIs that take a decoder class (Django's forms.JSONField): the same limits, failing
    with the JSONDecodeError those APIs expect."""

    def decode(self, s, *args, **kwargs):
        try:
            return loads(s)
        except UntrustedJSON as error:
            raise json.JSONDecodeError(str(error), s if isinstance(s, str) else "", 0) from None
