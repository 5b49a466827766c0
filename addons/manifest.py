"""Listing manifests: the JSON a publisher imports to describe an add-on listing version.

validate_manifest() checks the structure against manifest.schema.json, then the rules that
span members (what each add-on type may use, pricing, template fields), and reports every
problem at once with its JSON path, so a publisher can fix a manifest in one round.
No Django here: the CLI, the upload form and the tests all call it as is.
"""

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft7Validator, Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import SchemaError

from addons import credentials, schemas
from addons.contract import SYNC_DEADLINE_MS, PricingModel
from addons.template_fields import (
    AUDIO_DATA,
    CALLBACK_URL,
    PLATFORM_FIELDS,
    Field,
    TemplateSyntaxError,
    available_fields,
    parse_template,
)
from marketplace import untrusted_json
from marketplace.errors import InvalidManifest

MANIFEST_SCHEMA = json.loads(Path(__file__).with_name("manifest.schema.json").read_text(encoding="utf-8"))

RUNTIME_FIELDS_EXTENSION = "lookups"
MESSAGE_BODY = "body"
# A manifest nests its schemas a few levels down; deeper is refused before anything walks it.
MANIFEST_MAX_DEPTH = 64
AUDIO_FORMATS = ("raw", "multipart")


@dataclass(frozen=True)
class AddOnTypeRules:
    extensions: frozenset
    pricing_models: frozenset
    formats: frozenset
    max_timeout_ms: int
    default_timeout_ms: int


_SYNC_FORMATS = frozenset({"query", "json", "form"})
_SYNC_PRICING = frozenset({PricingModel.PER_USE, PricingModel.PER_SUCCESS, PricingModel.MANUAL})

# What each add-on type may use (publisher guide): the one table the import rules read.
# Synchronous types answer within the SLA's deadline; only recordings carry audio or bill by minute.
ADD_ON_TYPES = {
    "phone_number": AddOnTypeRules(
        extensions=frozenset({"lookups", "incoming-sms", "incoming-voice"}),
        pricing_models=_SYNC_PRICING,
        formats=_SYNC_FORMATS,
        max_timeout_ms=SYNC_DEADLINE_MS,
        default_timeout_ms=SYNC_DEADLINE_MS,
    ),
    "message_analysis": AddOnTypeRules(
        extensions=frozenset({"incoming-sms"}),
        pricing_models=_SYNC_PRICING,
        formats=_SYNC_FORMATS,
        max_timeout_ms=SYNC_DEADLINE_MS,
        default_timeout_ms=SYNC_DEADLINE_MS,
    ),
    "recording_analysis": AddOnTypeRules(
        extensions=frozenset({"recordings"}),
        pricing_models=_SYNC_PRICING | {PricingModel.PER_MINUTE},
        formats=_SYNC_FORMATS | set(AUDIO_FORMATS),
        max_timeout_ms=30000,
        default_timeout_ms=10000,
    ),
}


def load_manifest(text):
    """Parse a manifest's JSON text and validate it (see validate_manifest)."""
    try:
        data = untrusted_json.loads(text, max_depth=MANIFEST_MAX_DEPTH)
    except untrusted_json.UntrustedJSON as exc:
        cause = exc.__cause__
        if isinstance(cause, json.JSONDecodeError):
            message = f"not valid JSON: {cause.msg} at line {cause.lineno}, column {cause.colno}"
        else:
            message = f"not acceptable JSON: {exc}"
        raise InvalidManifest("Listing manifest is invalid", details=[{"path": "$", "message": message}]) from exc
    return validate_manifest(data)


def validate_manifest(data):
    """Return a copy of the manifest with defaults filled in, or raise InvalidManifest.

    `details` lists every problem as {"path": "$.a.b[0]", "message": ...}: the schema errors,
    or, when the structure is valid, the rules that span members.
    """
    details = _schema_problems(data)
    if details:
        raise InvalidManifest("Listing manifest is invalid", details=details)
    manifest = _with_defaults(data)
    problems = sorted(_rule_problems(manifest), key=lambda problem: _path_key(problem[0]))
    if problems:
        details = [{"path": _json_path(path), "message": message} for path, message in problems]
        raise InvalidManifest("Listing manifest is invalid", details=details)
    return manifest


def publisher_schema_validator(schema):
    """The jsonschema validator class for a publisher's schema (configuration, request or
    response validation): the dialect its `$schema` names, else Draft 7; None for an unknown
    `$schema`. Its patterns run on RE2 and its work is limited (addons.schemas), so import
    and runtime agree and neither ever runs a publisher's pattern on Python's `re`."""
    return schemas.validator_class(schema, default=Draft7Validator)


# --- structure ------------------------------------------------------------------------------


def _anchored_pattern(validator, pattern, instance, schema):
    # The schema's patterns are ECMA 262, where `$` is the end of the string; Python's `$` also
    # matches before a final newline, which would let "name\n" through.
    regex = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    if validator.is_type(instance, "string") and not re.search(regex, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_ManifestValidator = validators.extend(Draft202012Validator, {"pattern": _anchored_pattern})
_MANIFEST_VALIDATOR = _ManifestValidator(MANIFEST_SCHEMA)


def _schema_problems(data):
    errors = sorted(_MANIFEST_VALIDATOR.iter_errors(data), key=lambda e: (_path_key(e.absolute_path), e.message))
    return [{"path": error.json_path, "message": _schema_message(error)} for error in errors]


def _schema_message(error):
    # The schema words some errors for publishers (e.g. "is not an http:// or https:// URL")
    # where jsonschema's own message would only quote a regular expression.
    wording = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    return f"{error.instance!r} {wording}" if wording else error.message


def _with_defaults(data):
    manifest = copy.deepcopy(data)
    _fill_defaults(manifest, MANIFEST_SCHEMA)
    # The one default that depends on the add-on type, so the schema cannot hold it.
    endpoint = manifest["endpoint"]
    endpoint.setdefault("timeout_ms", ADD_ON_TYPES[manifest["type"]].default_timeout_ms)
    return manifest


def _fill_defaults(instance, schema):
    """Fill absent object members from the schema's `default`s, so defaults live in one place."""
    if not isinstance(instance, dict):
        return
    for name, member_schema in _resolve(schema).get("properties", {}).items():
        member_schema = _resolve(member_schema)
        if name not in instance and "default" in member_schema:
            instance[name] = copy.deepcopy(member_schema["default"])
        if name in instance:
            _fill_defaults(instance[name], member_schema)


def _resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = MANIFEST_SCHEMA["$defs"][schema["$ref"].removeprefix("#/$defs/")]
    return schema if isinstance(schema, dict) else {}


# --- rules that span members ----------------------------------------------------------------


def _rule_problems(manifest):
    rules = ADD_ON_TYPES[manifest["type"]]
    yield from _extension_problems(manifest, rules)
    yield from _pricing_problems(manifest, rules)
    yield from _billable_item_problems(manifest)
    yield from _configuration_problems(manifest)
    for member in ("request_validation_schema", "response_validation_schema"):
        if manifest[member] is not None:
            yield from _sub_schema_problems(manifest[member], (member,))
    yield from _endpoint_problems(manifest, rules)
    yield from _runtime_field_problems(manifest)
    yield from _template_problems(manifest)
    yield from _sealed_value_problems(manifest)


def _extension_problems(manifest, rules):
    for index, extension in enumerate(manifest["extensions"]):
        if extension not in rules.extensions:
            yield (
                ("extensions", index),
                (
                    f"extension {extension!r} is not allowed for {manifest['type']} add-ons "
                    f"(allowed: {_listed(rules.extensions)})"
                ),
            )


def _pricing_problems(manifest, rules):
    pricing = manifest["pricing"]
    model = pricing["model"]
    if model not in rules.pricing_models:
        yield (
            ("pricing", "model"),
            (
                f"pricing model {model!r} is not allowed for {manifest['type']} add-ons "
                f"(allowed: {_listed(rules.pricing_models)})"
            ),
        )
    if model == PricingModel.MANUAL and "price" in pricing:
        yield ("pricing", "price"), "manual pricing takes no price: price each billable item instead"
    if model != PricingModel.MANUAL and "price" not in pricing:
        yield ("pricing", "price"), f"price is required with {model} pricing"
    if model == PricingModel.PER_SUCCESS and "success" not in pricing:
        yield ("pricing", "success"), "per_success pricing needs success conditions (status_codes, absent)"
    if model != PricingModel.PER_SUCCESS and "success" in pricing:
        yield ("pricing", "success"), f"success conditions are only used with per_success pricing, not {model}"


def _billable_item_problems(manifest):
    items = manifest["billable_items"]
    if manifest["pricing"]["model"] == PricingModel.MANUAL:
        if not items:
            yield ("billable_items",), "manual pricing needs at least one billable item to report usage against"
    elif items:
        yield ("billable_items",), "billable items are only used with manual pricing"
    seen = set()
    for index, item in enumerate(items):
        if item["name"] in seen:
            yield ("billable_items", index, "name"), f"billable item name {item['name']!r} is used more than once"
        seen.add(item["name"])


def _configuration_problems(manifest):
    schema = manifest["configuration_schema"]
    base = ("configuration_schema",)
    schema_problems = list(_sub_schema_problems(schema, base))
    yield from schema_problems
    properties = schema["properties"]
    platform_fields = PLATFORM_FIELDS[manifest["type"]]
    for name, prop in properties.items():
        if name in platform_fields:
            yield (
                base + ("properties", name),
                (f"configuration property {name!r} collides with the platform template field of that name"),
            )
        if not schema_problems:  # a broken schema (say, a bad pattern) cannot check values
            yield from _property_value_problems(schema, name, prop, base + ("properties", name))
    for index, name in enumerate(schema.get("required", [])):
        if name not in properties:
            yield base + ("required", index), f"required property {name!r} is not defined in properties"


def _property_value_problems(schema, name, prop, path):
    # A default or a dropdown choice the property itself rejects would make the form unusable.
    dialect = {"$schema": schema["$schema"]} if "$schema" in schema else {}
    checks = [(("default",), {**dialect, **prop}, prop["default"], "default")] if "default" in prop else []
    choice_schema = {**dialect, **{key: value for key, value in prop.items() if key != "enum"}}
    checks += [(("enum", i), choice_schema, choice, "enum value") for i, choice in enumerate(prop.get("enum", []))]
    for where, property_schema, value, what in checks:
        try:
            errors = schemas.errors(property_schema, value)
        except (schemas.WorkLimitExceeded, SchemaError) as error:
            yield path + where, f"{what} {value!r} could not be checked for {name!r}: {error}"
            continue
        for error in errors:
            yield path + where, f"{what} {value!r} is not valid for {name!r}: {error.message}"


def _sub_schema_problems(schema, base):
    """What jsonschema's check_schema finds, but every error rather than the first."""
    cls = publisher_schema_validator(schema)
    if cls is None:
        yield base + ("$schema",), f"unknown JSON Schema dialect {schema['$schema']!r}"
        return
    meta_validator_class = validators.validator_for(cls.META_SCHEMA, default=cls)
    # `regex` means "RE2 can compile it": a pattern the runtime could not run is refused here.
    meta_validator = meta_validator_class(cls.META_SCHEMA, format_checker=schemas.meta_format_checker(cls))
    for error in sorted(meta_validator.iter_errors(schema), key=lambda e: _path_key(e.absolute_path)):
        if error.validator == "format" and error.validator_value == "regex":
            yield base + tuple(error.absolute_path), f"not a valid JSON Schema: {schemas.regex_message(error)}"
        else:
            yield base + tuple(error.absolute_path), f"not a valid JSON Schema: {error.message}"
    for path, message in schemas.unsupported_keywords(schema):
        yield base + path, message


def _endpoint_problems(manifest, rules):
    endpoint = manifest["endpoint"]
    method, format_, auth_type = endpoint["method"], endpoint["format"], endpoint["auth"]["type"]
    path = ("endpoint",)
    if format_ not in rules.formats:
        yield (
            path + ("format",),
            (f"format {format_!r} is not allowed for {manifest['type']} add-ons (allowed: {_listed(rules.formats)})"),
        )
    if method == "GET" and format_ != "query":
        yield path + ("format",), f"GET sends params in the query string: format must be 'query', not {format_!r}"
    if auth_type == "body" and (method == "GET" or format_ in ("query", "raw")):
        yield (
            path + ("auth", "type"),
            (f"body auth needs a request body for its parameter; {method} with format {format_!r} has none"),
        )
    if format_ == "multipart" and "audio_field" not in endpoint:
        yield path + ("audio_field",), "format 'multipart' needs audio_field: the name of the part carrying the audio"
    if format_ != "multipart" and "audio_field" in endpoint:
        yield path + ("audio_field",), f"audio_field is only used with format 'multipart', not {format_!r}"
    if endpoint["timeout_ms"] > rules.max_timeout_ms:
        yield (
            path + ("timeout_ms",),
            (
                f"timeout_ms {endpoint['timeout_ms']} is over the {rules.max_timeout_ms} ms maximum "
                f"for {manifest['type']} add-ons"
            ),
        )
    for name in endpoint["headers"]:
        if name.lower().startswith("x-twilio-"):
            yield path + ("headers", name), f"header {name!r} is reserved: the platform sets X-Twilio-* headers"


def _runtime_field_problems(manifest):
    runtime_fields = manifest["runtime_fields"]
    if runtime_fields and RUNTIME_FIELDS_EXTENSION not in manifest["extensions"]:
        yield ("runtime_fields",), "runtime fields are only available with the lookups extension"
    configuration_properties = manifest["configuration_schema"]["properties"]
    for index, name in enumerate(runtime_fields):
        if name in PLATFORM_FIELDS[manifest["type"]]:
            yield ("runtime_fields", index), f"runtime field {name!r} collides with the platform template field"
        elif name in configuration_properties:
            yield ("runtime_fields", index), f"runtime field {name!r} collides with the configuration property"


def _template_problems(manifest):
    endpoint = manifest["endpoint"]
    available = available_fields(
        manifest["type"], manifest["configuration_schema"]["properties"], manifest["runtime_fields"]
    )
    audio_params, sends_callback_url = [], False
    for path, template in _templates(endpoint):
        try:
            parts = parse_template(template)
        except TemplateSyntaxError as exc:
            yield path, f"invalid template: {exc}"
            continue
        fields = [part for part in parts if isinstance(part, Field)]
        for field in fields:
            yield from _field_problems(field, path, manifest["type"], available)
        if Field(MESSAGE_BODY) in fields and _is_header(path, endpoint):
            yield (
                path,
                (
                    "{{body}} cannot go in a header: a message may hold any text and line breaks, which "
                    "a header cannot carry; send it in a param (or {{SHA256:body}} in the header)"
                ),
            )
        if AUDIO_DATA in available:  # elsewhere {{audio_data}} is already an unknown field
            if parts == [Field(AUDIO_DATA)] and path[1] == "params":
                audio_params.append(path)
            elif Field(AUDIO_DATA) in fields:
                yield path, "{{audio_data}} (the audio bytes) can only be a whole param value, not part of a template"
        sends_callback_url = sends_callback_url or Field(CALLBACK_URL) in fields
    yield from _audio_problems(endpoint, audio_params)
    if manifest["type"] == "recording_analysis" and not sends_callback_url:
        yield (
            ("endpoint",),
            (
                "recording_analysis add-ons must send {{callback_url}} (in a param or header): "
                "it is where the publisher posts the results"
            ),
        )


def _is_header(path, endpoint):
    # Header templates, and the bearer token (sent as the Authorization header as is).
    return path[1] == "headers" or (path[1:] == ("auth", "token") and endpoint["auth"]["type"] == "bearer")


def _templates(endpoint):
    """(path, template) for every template string of the endpoint."""
    for member in ("params", "headers"):
        for name, template in endpoint[member].items():
            yield ("endpoint", member, name), template
    for key in ("username", "password", "token", "value"):
        if key in endpoint["auth"]:
            yield ("endpoint", "auth", key), endpoint["auth"][key]


def _field_problems(field, path, add_on_type, available):
    placeholder = "{{" + ("SHA256:" if field.sha256 else "") + field.name + "}}"
    if field.name not in available:
        yield (
            path,
            (
                f"unknown template field {field.name!r} in {placeholder}: {add_on_type} add-ons can use "
                f"{_listed(available)}"
            ),
        )
    elif field.sha256 and field.name == AUDIO_DATA:
        yield path, "{{SHA256:audio_data}} is not supported: the audio is sent, not hashed"


def _audio_problems(endpoint, audio_params):
    format_ = endpoint["format"]
    if format_ == "raw" and not audio_params:
        yield (
            ("endpoint", "params"),
            ("format 'raw' sends {{audio_data}} as the body: add a param whose value is {{audio_data}}"),
        )
    audio_field = endpoint.get("audio_field")
    if format_ == "multipart" and audio_field in endpoint["params"]:
        path = ("endpoint", "params", audio_field)
        # A template merely containing {{audio_data}} has its own problem already.
        if path not in audio_params and AUDIO_DATA not in endpoint["params"][audio_field]:
            yield (
                path,
                (
                    f"param {audio_field!r} is the audio part (audio_field): leave it out, "
                    "or give it the value {{audio_data}}"
                ),
            )
    for index, path in enumerate(audio_params):
        if format_ not in AUDIO_FORMATS:
            yield path, f"{{{{audio_data}}}} needs format 'raw' or 'multipart', not {format_!r}"
        elif format_ == "raw" and index > 0:
            yield path, "format 'raw' sends one {{audio_data}} param as the body; remove the others"
        elif format_ == "multipart" and path[2] != endpoint.get("audio_field"):
            yield (
                path,
                (
                    f"with format 'multipart' the audio goes in the part named by audio_field "
                    f"({endpoint.get('audio_field')!r}), not {path[2]!r}"
                ),
            )


# --- paths ----------------------------------------------------------------------------------

_PLAIN_MEMBER = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")


def _sealed_value_problems(manifest):
    """Only the platform seals: a value that looks sealed would be opened when calling the
    publisher, sending someone else's plaintext (from a leaked ciphertext) to this endpoint."""
    for path in credentials.sealed_looking_paths(manifest):
        yield (
            path,
            (
                f"values starting with {credentials.PREFIX!r} are reserved for credentials the platform seals: "
                "put the credential itself here (it is sealed when stored)"
            ),
        )


def _json_path(path):
    """The same notation as jsonschema's ValidationError.json_path, so all details read alike."""
    text = "$"
    for element in path:
        if isinstance(element, int):
            text += f"[{element}]"
        elif _PLAIN_MEMBER.match(element):
            text += f".{element}"
        else:
            text += "['" + element.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return text


def _path_key(path):
    # Array indexes sort as numbers ([2] before [10]), members by name.
    return tuple((0, element, "") if isinstance(element, int) else (1, 0, element) for element in path)


def _listed(names):
    return ", ".join(sorted(names))
