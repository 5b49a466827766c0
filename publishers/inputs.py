"""Reading the parameters the platform sends into typed values.

The platform renders every parameter from a template (`"{{min_word_length}}"`), so values
usually arrive as text, and a configuration property the customer left unset arrives as an
empty string: every parser here treats blank as "use the default".
"""

import math
import re
from collections.abc import Collection
from typing import Any

E164_PATTERN = re.compile(r"\+[1-9][0-9]{1,14}")
_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_WORD_PATTERN = re.compile(r"[a-z][a-z'-]*")


class PublisherError(Exception):
    """A request the service understood but cannot serve.

    The publisher guide asks for these as 200 + a JSON error object, so the platform can tell
    them apart from outages (5xx) and misconfiguration (4xx).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_payload(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_e164(value: Any, *, name: str) -> str:
    """The E.164 text of `value`, or PublisherError("invalid_number")."""
    if not isinstance(value, str) or is_blank(value):
        raise PublisherError("invalid_number", f"{name} is required: an E.164 number such as +18778894546")
    text = value.strip()
    # An unencoded "+" in a query string or form body decodes as a space.
    if value.startswith(" ") and text[:1].isdigit():
        text = "+" + text
    if not E164_PATTERN.fullmatch(text):
        raise PublisherError("invalid_number", f"{name} must be an E.164 number such as +18778894546, got {value!r}")
    return text


def parse_bool(value: Any, *, name: str, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if is_blank(value):
        return default
    word = str(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise PublisherError("invalid_parameter", f"{name} must be true or false, got {value!r}")


def parse_int(value: Any, *, name: str, default: int, minimum: int, maximum: int) -> int:
    if is_blank(value):
        return default
    number = _parse_finite(value, name=name, kind="an integer")
    if number != int(number):
        raise PublisherError("invalid_parameter", f"{name} must be an integer, got {value!r}")
    return _in_range(int(number), name=name, minimum=minimum, maximum=maximum)


def parse_float(value: Any, *, name: str, default: float, minimum: float, maximum: float) -> float:
    if is_blank(value):
        return default
    return _in_range(_parse_finite(value, name=name, kind="a number"), name=name, minimum=minimum, maximum=maximum)


def parse_choice(value: Any, *, name: str, default: str, choices: Collection[str]) -> str:
    if is_blank(value):
        return default
    choice = str(value).strip()
    if choice not in choices:
        raise PublisherError("invalid_parameter", f"{name} must be one of {', '.join(sorted(choices))}, got {value!r}")
    return choice


def parse_word_list(value: Any, *, name: str) -> frozenset[str]:
    """A comma-separated list of words, lowercased; blank means none."""
    if is_blank(value):
        return frozenset()
    if not isinstance(value, str):
        raise PublisherError("invalid_parameter", f"{name} must be a comma-separated list of words")
    words = [word.strip().lower() for word in value.split(",")]
    words = [word for word in words if word]
    bad = [word for word in words if not _WORD_PATTERN.fullmatch(word)]
    if bad:
        raise PublisherError("invalid_parameter", f"{name} may hold only letters, got {', '.join(bad)}")
    return frozenset(words)


def _parse_finite(value: Any, *, name: str, kind: str) -> float:
    # bool is an int subclass; True is not a number a customer meant to type.
    if isinstance(value, bool):
        raise PublisherError("invalid_parameter", f"{name} must be {kind}, got {value!r}")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise PublisherError("invalid_parameter", f"{name} must be {kind}, got {value!r}") from None
    if not math.isfinite(number):
        raise PublisherError("invalid_parameter", f"{name} must be {kind}, got {value!r}")
    return number


def _in_range(number, *, name: str, minimum, maximum):
    if not minimum <= number <= maximum:
        raise PublisherError("invalid_parameter", f"{name} must be between {minimum} and {maximum}, got {number}")
    return number
