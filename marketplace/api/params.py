"""Reading Twilio-style PascalCase parameters, with errors that name the parameter."""

import datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from marketplace import untrusted_json
from marketplace.errors import InvalidParameter, InvalidPhoneNumber
from marketplace.sids import normalize_sid

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_url_validator = URLValidator(schemes=["http", "https"])


def _value(data, name):
    if not hasattr(data, "getlist") and not isinstance(data, dict):
        raise InvalidParameter("The request body must be form-encoded parameters", param=name)
    values = data.getlist(name) if hasattr(data, "getlist") else [data[name]] if name in data else []
    if len(values) > 1:
        raise InvalidParameter(f"Parameter '{name}' was given more than once", param=name)
    return values[0] if values else None


def refuse_nul(query):
    """Every query parameter, for every endpoint at once: a NUL (%00) in a filter is a 400
    naming the parameter, never a database error (PostgreSQL text cannot hold NUL)."""
    for name, values in query.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            shown = name.replace("\x00", "%00")
            raise InvalidParameter(f"Parameter '{shown}' must not contain NUL characters (%00)", param=shown)


def present(data, name):
    return name in data


def string(data, name, *, required=False, max_length=None, allow_blank=True):
    value = _value(data, name)
    if value is None:
        if required:
            raise InvalidParameter(f"Required parameter '{name}' is missing", param=name)
        return None
    value = str(value)
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL: refused here rather than failing in the database.
        raise InvalidParameter(f"Parameter '{name}' must not contain NUL characters (%00)", param=name)
    if not allow_blank and not value.strip():
        raise InvalidParameter(f"Parameter '{name}' must not be empty", param=name)
    if max_length is not None and len(value) > max_length:
        raise InvalidParameter(f"Parameter '{name}' is longer than {max_length} characters", param=name)
    return value


def sid(data, name, prefix, *, required=False):
    value = string(data, name, required=required)
    if value is None:
        return None
    normalized = normalize_sid(value, prefix)
    if normalized is None:
        raise InvalidParameter(
            f"Parameter '{name}' is not a valid {prefix} SID: expected {prefix} followed by 32 hex digits",
            param=name,
        )
    return normalized


def boolean(data, name, *, required=False):
    value = string(data, name, required=required)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidParameter(f"Parameter '{name}' must be true or false", param=name)


def json_object(data, name, *, required=False):
    value = string(data, name, required=required)
    if value is None:
        return None
    try:
        parsed = untrusted_json.loads(value)
    except untrusted_json.UntrustedJSON as exc:
        raise InvalidParameter(f"Parameter '{name}' is not valid JSON: {exc}", param=name)
    if not isinstance(parsed, dict):
        raise InvalidParameter(f"Parameter '{name}' must be a JSON object", param=name)
    return parsed


def choice(data, name, choices, *, required=False):
    value = string(data, name, required=required)
    if value is None:
        return None
    normalized = value.upper() if all(c.isupper() for c in choices) else value
    if normalized not in choices:
        raise InvalidParameter(f"Parameter '{name}' must be one of {', '.join(choices)}", param=name)
    return normalized


def url(data, name, *, required=False):
    value = string(data, name, required=required, max_length=1000)
    if not value:
        return value
    try:
        _url_validator(value)
    except ValidationError:
        raise InvalidParameter(f"Parameter '{name}' is not a valid http(s) URL", param=name)
    return value  # where it may point is the saving service's check (marketplace.outbound)


def e164(data, name, *, required=False):
    value = string(data, name, required=required)
    if value is None:
        return None
    return e164_number(value, param=name)


def e164_number(value, *, param):
    """`value` as E.164 when it is already a valid E.164 number, else InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise InvalidPhoneNumber(
            f"Parameter '{param}' is not a valid E.164 phone number (e.g. +14155552671)", param=param
        )
    return value


def integer(data, name, *, minimum=None, maximum=None, default=None):
    value = string(data, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidParameter(f"Parameter '{name}' must be an integer", param=name)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InvalidParameter(f"Parameter '{name}' must be between {minimum} and {maximum}", param=name)
    return number


def date_or_datetime(data, name):
    """A Twilio date filter: `YYYY-MM-DD` (a whole UTC day) or an ISO 8601 date-time as the SDK
    sends it (`2026-01-02T03:04:05Z`). Returns (value, is_whole_day) or (None, False)."""
    value = string(data, name)
    if value is None:
        return None, False
    try:
        if len(value) == 10:
            return datetime.date.fromisoformat(value), True
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(
            f"Parameter '{name}' must be a date (YYYY-MM-DD) or an ISO 8601 date-time", param=name
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment, False
