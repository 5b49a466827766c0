"""Applying a publisher's JSON Schema (configuration, request or response validation) safely.

A publisher's schema is hostile input that runs on our CPU, so:
- every regular expression it carries (`pattern`, `patternProperties`, and the
  `additionalProperties` that depend on them) runs on RE2, which is linear in the input:
  Python's backtracking `re` never sees a publisher's pattern. A pattern RE2 cannot compile
  (lookarounds, backreferences) is refused at import, by the `regex` format of the meta-schema;
- `uniqueItems` is checked in O(n log n), not jsonschema's O(n²) fallback for objects;
- one validation may take at most MAX_STEPS keyword evaluations and MAX_SECONDS, and collects
  at most MAX_ERRORS errors: past that it raises WorkLimitExceeded, which the callers turn into
  their own refusal. (Nested oneOf/$ref can otherwise make the work exponential in the depth.)
No Django here: the manifest import, the configuration check and the verdict all use it.
"""

import itertools
import json
import threading
import time
from functools import cache, lru_cache

import re2
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError

MAX_STEPS = 200_000
MAX_SECONDS = 0.5
MAX_ERRORS = 20
# RE2 compiles within this much memory or refuses the pattern (its default is 8 MB).
RE2_MAX_MEM = 1 << 20


class WorkLimitExceeded(Exception):
    """The schema took more than the platform's work limit to apply to this instance."""

    def __str__(self):
        return f"the schema could not be applied within the platform's limit ({MAX_STEPS} steps, {MAX_SECONDS} s)"


def _options():
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the publisher, not to stderr
    options.max_mem = RE2_MAX_MEM
    return options


@lru_cache(maxsize=512)
def compiled(pattern):
    """The RE2 program for `pattern`, or re2.error. RE2's `$` is the end of the text, as in
    ECMA 262 (Python's `$` also matches before a final newline)."""
    return re2.compile(pattern, options=_options())


def compile_error(pattern):
    """Why RE2 cannot run `pattern`, or None."""
    try:
        compiled(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return None


def _search(pattern, text):
    try:
        program = compiled(pattern)
    except re2.error:
        # Only a schema stored before patterns were checked at import can get here.
        raise SchemaError(f"{pattern!r} is not a regular expression the platform can run: {compile_error(pattern)}")
    try:
        return program.search(text) is not None
    except UnicodeEncodeError:
        return False  # an unpaired surrogate: no pattern can match it as UTF-8


# --- the work limit -----------------------------------------------------------------------

_budget = threading.local()


class _Budget:
    def __init__(self):
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS


def _spend():
    budget = getattr(_budget, "current", None)
    if budget is None:
        return
    budget.steps += 1
    if budget.steps > MAX_STEPS or (budget.steps % 64 == 0 and time.monotonic() > budget.deadline):
        raise WorkLimitExceeded()


def _metered(keyword):
    def metered(validator, value, instance, schema):
        _spend()
        return keyword(validator, value, instance, schema)

    return metered


# --- keywords on RE2 ----------------------------------------------------------------------


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{_shown(instance)} does not match {pattern!r}")


def _shown(text, limit=80):
    # A publisher's 50 KB string need not be repeated in every alert.
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text)} characters)"


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional(instance, schema):
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return {
        name for name in instance if name not in properties and not any(_search(pattern, name) for pattern in patterns)
    }


def _additional_properties(validator, additional, instance, schema):
    # jsonschema's own, but matching patternProperties with RE2.
    if not validator.is_type(instance, "object"):
        return
    extras = _additional(instance, schema)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(_shown(each) for each in sorted(extras))
        if "patternProperties" in schema:
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{listed} do not match any of the regexes: {patterns}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


def _unique_items(validator, unique, instance, schema):
    if not (unique and validator.is_type(instance, "array")):
        return
    seen = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"the array of {len(instance)} items has non-unique elements")
            return
        seen.add(key)


def _canonical(value):
    # JSON equality as jsonschema defines it: 1 == 1.0, but true != 1 and keys are unordered.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((name, _canonical(item)) for name, item in value.items())))
    return ("other", json.dumps(value, sort_keys=True, default=str))


def _no_unevaluated_with_patterns(original):
    # jsonschema's unevaluatedProperties matches patternProperties with Python's `re`: a schema
    # using both is refused at import (see unsupported_keywords); a stored one fails here.
    def unevaluated_properties(validator, value, instance, schema):
        if _uses_pattern_properties(validator.schema):
            raise SchemaError("unevaluatedProperties together with patternProperties is not supported")
        return original(validator, value, instance, schema)

    return unevaluated_properties


def _uses_pattern_properties(schema):
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "patternProperties" in node:
                return True
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


_OVERRIDES = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "uniqueItems": _unique_items,
}


@cache
def _safe(base):
    keywords = {}
    for name, keyword in base.VALIDATORS.items():
        keyword = _OVERRIDES.get(name, keyword)
        if name == "unevaluatedProperties":
            keyword = _no_unevaluated_with_patterns(keyword)
        keywords[name] = _metered(keyword)
    return validators.extend(base, keywords)


def validator_class(schema, *, default=Draft7Validator):
    """The RE2, work-limited validator class for a publisher's schema: the dialect its
    `$schema` names, else `default`; None for an unknown `$schema`."""
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    if not isinstance(declared, str):
        return _safe(default)  # a non-string $schema is reported by the meta-schema check
    base = validators.validator_for(schema, default=None)
    return None if base is None else _safe(base)


def errors(schema, instance, *, dialect=None):
    """The first MAX_ERRORS ways `instance` breaks `schema`, sorted by path; raises
    WorkLimitExceeded past the work limit and SchemaError for a schema that cannot run.
    `dialect` (a jsonschema validator class) overrides the schema's `$schema`."""
    cls = _safe(dialect) if dialect is not None else validator_class(schema)
    if cls is None:
        raise SchemaError("the schema's $schema is not supported")
    _budget.current = _Budget()
    try:
        found = list(itertools.islice(cls(schema).iter_errors(instance), MAX_ERRORS))
    except RecursionError:
        raise WorkLimitExceeded() from None
    finally:
        _budget.current = None
    return sorted(found, key=lambda e: [str(p) for p in e.absolute_path])


# --- at import ----------------------------------------------------------------------------


def meta_format_checker(cls):
    """The dialect's format checker, with `regex` meaning "RE2 can compile it"."""
    checker = FormatChecker()
    checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
    checker.checks("regex", raises=re2.error)(lambda pattern: not isinstance(pattern, str) or bool(compiled(pattern)))
    return checker


def unsupported_keywords(schema):
    """(path, message) for what a publisher schema may not use although its dialect has it."""
    if _uses_pattern_properties(schema):
        for path, _ in _members_named(schema, "unevaluatedProperties"):
            yield path, ("unevaluatedProperties cannot be combined with patternProperties: use additionalProperties")


def _members_named(schema, name, path=()):
    pending = [(path, schema)]
    while pending:
        where, node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == name:
                    yield where + (key,), value
                pending.append((where + (key,), value))
        elif isinstance(node, list):
            pending.extend((where + (index,), value) for index, value in enumerate(node))


def regex_message(error):
    """A meta-schema `regex` format error, worded for a publisher."""
    return (
        f"{error.instance!r} is not a regex the platform can run (RE2 syntax: no lookarounds "
        f"or backreferences): {compile_error(error.instance) or 'invalid'}"
    )
