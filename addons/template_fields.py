"""Template fields: the `{{field}}` placeholders in a listing's endpoint params, headers and auth.

Pure functions shared by the manifest import (which template fields a template names) and the
request builder (rendering a template with one invocation's values). No Django here.
"""

import hashlib
import re
from functools import lru_cache
from typing import NamedTuple

AUDIO_DATA = "audio_data"
CALLBACK_URL = "callback_url"
SHA256_PREFIX = "SHA256:"

COMMON_FIELDS = frozenset({"request_sid", "unix_timestamp"})

# The platform's template fields by add-on type (publisher guide). Configuration properties
# and, for Lookups, runtime fields come on top of these (see available_fields).
PLATFORM_FIELDS = {
    "phone_number": COMMON_FIELDS | {"primary_address", "secondary_address"},
    "message_analysis": COMMON_FIELDS | {"primary_address", "secondary_address", "body"},
    "recording_analysis": COMMON_FIELDS
    | {AUDIO_DATA, CALLBACK_URL, "channels", "duration", "format", "media_sid", "size"},
}

# Lazy, so `{{a}}{{b}}` is two placeholders; DOTALL, so a newline cannot hide an unclosed `{{`.
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Deliberately loose (no whitespace or braces): a misspelt name should read as an unknown
# template field at import, not as a syntax error.
_FIELD_NAME = re.compile(r"[^\s{}]+")


class Field(NamedTuple):
    """A placeholder: `{{name}}`, or `{{SHA256:name}}` when sha256 is true."""

    name: str
    sha256: bool = False


class TemplateSyntaxError(ValueError):
    """The template's braces do not form placeholders."""


def available_fields(add_on_type, configuration_properties=(), runtime_fields=()):
    """Every template field name an add-on of this type may use."""
    return PLATFORM_FIELDS[add_on_type] | frozenset(configuration_properties) | frozenset(runtime_fields)


def parse_template(template):
    """Split a template into literal strings and Fields, in order; raise TemplateSyntaxError."""
    return list(_parse(template))


def fields_in(template):
    """The template field names a template needs values for (`SHA256:x` needs x)."""
    return {part.name for part in _parse(template) if isinstance(part, Field)}


def render_template(template, values):
    """Substitute each placeholder with its value from `values` (field name -> str).

    The result is built in one pass over the parsed template, so a value that itself contains
    `{{...}}` is inserted as is and never expanded: customer data cannot reach other fields.
    Every field the template names must be in `values` (KeyError otherwise); pass "" for an
    optional configuration property the customer left empty.
    """
    rendered = []
    for part in _parse(template):
        if isinstance(part, str):
            rendered.append(part)
        else:
            rendered.append(_render_field(part, values[part.name]))
    return "".join(rendered)


def _render_field(field, value):
    text = _as_text(value)
    if field.sha256:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text


def _as_text(value):
    # Configuration values come from JSON: write booleans the JSON way, not Python's "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


@lru_cache(maxsize=1024)
def _parse(template):
    # Cached: the request builder renders the same few templates on every invocation.
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.extend(_literal(template[position : match.start()]))
        parts.append(_field(match.group(1)))
        position = match.end()
    parts.extend(_literal(template[position:]))
    return tuple(parts)


def _literal(text):
    if "{{" in text:
        raise TemplateSyntaxError(f"unbalanced braces: '{{{{' without a closing '}}}}' in {text!r}")
    if "}}" in text:
        raise TemplateSyntaxError(f"unbalanced braces: '}}}}' without an opening '{{{{' in {text!r}")
    return [text] if text else []


def _field(inside):
    text = inside.strip()
    sha256 = text.startswith(SHA256_PREFIX)
    name = text[len(SHA256_PREFIX) :].strip() if sha256 else text
    if not _FIELD_NAME.fullmatch(name):
        if "{" in inside or "}" in inside:
            raise TemplateSyntaxError(f"unbalanced braces in {{{{{inside}}}}}")
        raise TemplateSyntaxError(f"{{{{{inside}}}}} does not name a template field")
    return Field(name, sha256)
