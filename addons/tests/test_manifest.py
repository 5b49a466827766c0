"""Listing manifest import: structure, the rules that span members, and template fields.

Run without Django: `python -m pytest addons/tests/test_manifest.py -p no:django -q`.
"""

import copy
import hashlib
import json

import pytest
from jsonschema import Draft202012Validator

from addons.manifest import ADD_ON_TYPES, MANIFEST_SCHEMA, load_manifest, validate_manifest
from addons.template_fields import (
    PLATFORM_FIELDS,
    Field,
    TemplateSyntaxError,
    available_fields,
    fields_in,
    parse_template,
    render_template,
)
from marketplace.errors import InvalidManifest

# --- manifests ------------------------------------------------------------------------------


def phone_number_manifest():
    """Uses nearly every member: GET + query, query auth, runtime fields, per_success."""
    return {
        "unique_name": "acme_caller_name",
        "friendly_name": "Acme Caller Name",
        "description": "Caller name and line type.",
        "type": "phone_number",
        "extensions": ["lookups", "incoming-sms", "incoming-voice"],
        "pricing": {
            "model": "per_success",
            "price": "0.0025",
            "success": {"status_codes": [200], "absent": ["/error"]},
        },
        "configuration_schema": {
            "title": "Acme settings",
            "type": "object",
            "properties": {
                "api_key": {"type": "string", "name": "API key", "_help": "From your Acme dashboard", "minLength": 8},
                "language": {"type": "string", "name": "Language", "enum": ["en", "es"], "default": "en"},
                "max_age_days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "include_carrier": {"type": "boolean", "default": False},
                "prefix": {"type": "string", "pattern": "^\\+(1)+[0-9]*$"},
            },
            "required": ["api_key"],
        },
        "request_validation_schema": {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "properties": {"primary_address": {"type": "string", "pattern": "^\\+(91|1)+[0-9]*$"}},
            "required": ["primary_address"],
        },
        "response_validation_schema": {"type": "object", "required": ["caller_name"]},
        "endpoint": {
            "url": "https://api.acme.example/v2/caller-name?src=twilio",
            "method": "GET",
            "format": "query",
            "params": {
                "e164": "{{ primary_address }}",
                "to": "{{secondary_address}}",
                "hashed": "{{SHA256:primary_address}}",
                "lang": "{{language}}",
                "carrier": "{{include_carrier}}",
                "ref": "twilio-{{request_sid}}-{{unix_timestamp}}",
                "cnam_type": "{{cnam_type}}",
            },
            "auth": {"type": "query", "name": "key", "value": "{{api_key}}"},
            "headers": {"X-Acme-Client": "twilio-marketplace"},
            "timeout_ms": 1500,
            "retries": 1,
            "ttl_ms": 3000,
        },
        "runtime_fields": ["cnam_type"],
    }


def message_analysis_manifest():
    return {
        "unique_name": "acme-sentiment",
        "friendly_name": "Acme Sentiment",
        "type": "message_analysis",
        "extensions": ["incoming-sms"],
        "pricing": {"model": "per_use", "price": "0.001"},
        "configuration_schema": {"type": "object", "properties": {"model_name": {"type": "string"}}},
        "endpoint": {
            "url": "http://127.0.0.1:8101/sentiment",
            "format": "json",
            "params": {"text": "{{body}}", "from": "{{primary_address}}", "model": "{{model_name}}"},
            "auth": {"type": "bearer", "token": "sk_{{SHA256:request_sid}}"},
        },
    }


def recording_analysis_manifest():
    return {
        "unique_name": "acme_transcribe",
        "friendly_name": "Acme Transcription",
        "type": "recording_analysis",
        "extensions": ["recordings"],
        "pricing": {"model": "per_minute", "price": "0.02"},
        "endpoint": {
            "url": "https://transcribe.acme.example/jobs",
            "method": "POST",
            "format": "multipart",
            "audio_field": "audio",
            "params": {
                "audio": "{{audio_data}}",
                "callback": "{{callback_url}}",
                "mime": "{{format}}",
                "ms": "{{duration}}",
                "media": "{{media_sid}}",
                "bytes": "{{size}}",
                "channels": "{{channels}}",
            },
            "auth": {"type": "body", "name": "api_key", "value": "secret"},
            "timeout_ms": 30000,
        },
    }


def raw_recording_manifest():
    manifest = recording_analysis_manifest()
    manifest["endpoint"] = {
        "url": "https://transcribe.acme.example/upload",
        "method": "PUT",
        "format": "raw",
        "params": {"file": "{{audio_data}}", "callback": "{{callback_url}}"},
        "auth": {"type": "basic", "username": "acme", "password": "{{SHA256:media_sid}}"},
    }
    return manifest


def manual_manifest():
    manifest = message_analysis_manifest()
    manifest["pricing"] = {"model": "manual"}
    manifest["billable_items"] = [{"name": "positive", "price": "0.01"}, {"name": "negative", "price": "0.02"}]
    return manifest


def details_of(data):
    with pytest.raises(InvalidManifest) as caught:
        validate_manifest(data)
    return caught.value.details


def assert_problem(data, path, *words):
    """The manifest is rejected with a problem at exactly `path` whose message has all words."""
    details = details_of(data)
    messages = [detail["message"] for detail in details if detail["path"] == path]
    assert messages, f"no problem at {path}; got {details}"
    assert any(all(word in message for word in words) for message in messages), (path, words, messages)


# --- valid manifests and defaults -----------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        phone_number_manifest,
        message_analysis_manifest,
        recording_analysis_manifest,
        raw_recording_manifest,
        manual_manifest,
    ],
)
def test_full_manifest_of_each_type_is_valid(make):
    data = make()
    manifest = validate_manifest(data)
    for name, value in data.items():
        assert manifest[name] == value or isinstance(value, dict)  # dicts may gain defaults


def test_defaults_are_filled_in():
    data = message_analysis_manifest()
    del data["configuration_schema"], data["endpoint"]["format"], data["endpoint"]["params"]
    data["endpoint"].pop("auth")
    manifest = validate_manifest(data)
    assert manifest["description"] == ""
    assert manifest["billable_items"] == []
    assert manifest["configuration_schema"] == {"type": "object", "properties": {}}
    assert manifest["request_validation_schema"] is None
    assert manifest["response_validation_schema"] is None
    assert manifest["runtime_fields"] == []
    assert manifest["endpoint"] == {
        "url": "http://127.0.0.1:8101/sentiment",
        "method": "POST",
        "format": "form",
        "params": {},
        "auth": {"type": "none"},
        "headers": {},
        "timeout_ms": 2000,
        "retries": 2,
        "ttl_ms": 5000,
    }


def test_recording_analysis_timeout_defaults_to_10_seconds():
    data = recording_analysis_manifest()
    del data["endpoint"]["timeout_ms"]
    assert validate_manifest(data)["endpoint"]["timeout_ms"] == 10000


def test_nested_defaults_are_filled_in():
    data = phone_number_manifest()
    del data["pricing"]["success"]["absent"]
    data["configuration_schema"] = {"type": "object"}
    data["endpoint"]["params"] = {"e164": "{{primary_address}}"}
    data["endpoint"]["auth"] = {"type": "none"}
    data["runtime_fields"] = []
    manifest = validate_manifest(data)
    assert manifest["pricing"]["success"] == {"status_codes": [200], "absent": []}
    assert manifest["configuration_schema"] == {"type": "object", "properties": {}}


def test_validating_a_validated_manifest_changes_nothing():
    # The import command loads (and validates) a file, then the import service validates again.
    for make in (phone_number_manifest, recording_analysis_manifest, manual_manifest):
        manifest = validate_manifest(make())
        assert validate_manifest(manifest) == manifest


def test_input_is_not_mutated_and_result_is_a_new_dict():
    data = message_analysis_manifest()
    before = copy.deepcopy(data)
    manifest = validate_manifest(data)
    assert data == before
    manifest["endpoint"]["params"]["text"] = "changed"
    assert data == before


# --- structure (jsonschema) -----------------------------------------------------------------


def test_missing_required_member():
    data = phone_number_manifest()
    del data["friendly_name"]
    assert_problem(data, "$", "'friendly_name' is a required property")


def test_not_an_object():
    assert_problem([], "$", "is not of type 'object'")


@pytest.mark.parametrize("name", ["A", "x", "-acme", "acme lookup", "acme\n", "a" * 65])
def test_bad_unique_name(name):
    data = phone_number_manifest()
    data["unique_name"] = name
    assert_problem(data, "$.unique_name", "is not a valid unique_name")


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "object", "properties": {"street": {"type": "string"}}},
        {"type": "array", "items": {"type": "string"}},
    ],
)
def test_object_and_array_configuration_properties_are_rejected(prop):
    data = phone_number_manifest()
    data["configuration_schema"]["properties"]["address"] = prop
    assert_problem(
        data,
        "$.configuration_schema.properties.address.type",
        repr(prop["type"]),
        "object and array properties are not supported",
    )


def test_bad_configuration_property_name():
    data = phone_number_manifest()
    data["configuration_schema"]["properties"]["ApiKey"] = {"type": "string"}
    assert_problem(data, "$.configuration_schema.properties", "'ApiKey' is not a valid template field name")


def test_configuration_schema_must_be_an_object_schema():
    data = phone_number_manifest()
    data["configuration_schema"]["type"] = "string"
    assert_problem(data, "$.configuration_schema.type", "'object' was expected")


@pytest.mark.parametrize(
    "url", ["ftp://files.acme.example/x", "acme.example/x", "https://", "https://acme.example/{{body}}"]
)
def test_bad_endpoint_url(url):
    data = phone_number_manifest()
    data["endpoint"]["url"] = url
    assert_problem(data, "$.endpoint.url", repr(url), "is not an http:// or https:// URL")


@pytest.mark.parametrize("rate", ["0/s", "10", "10/d", "ten/s", "5/ s", "10/sec", 10, "12345678/s"])
def test_bad_rate_limit(rate):
    data = phone_number_manifest()
    data["endpoint"]["rate_limit"] = rate
    assert_problem(data, "$.endpoint.rate_limit", repr(rate), "is not a rate such as '50/s', '600/m' or '10000/h'")


@pytest.mark.parametrize("rate", ["1/s", "600/m", "10000/h"])
def test_a_rate_limit_is_kept(rate):
    data = phone_number_manifest()
    data["endpoint"]["rate_limit"] = rate
    assert validate_manifest(data)["endpoint"]["rate_limit"] == rate


@pytest.mark.parametrize("price", [0.001, "0.0000001", "-1", "1e-3", "$1", "1.\n"])
def test_bad_price(price):
    data = message_analysis_manifest()
    data["pricing"]["price"] = price
    assert_problem(data, "$.pricing.price", "is not a USD price")


def test_bad_billable_item_price():
    data = manual_manifest()
    data["billable_items"][1]["price"] = "free"
    assert_problem(data, "$.billable_items[1].price", "'free' is not a USD price")


@pytest.mark.parametrize(
    "path, container",
    [
        ("$", lambda m: m),
        ("$.pricing", lambda m: m["pricing"]),
        ("$.pricing.success", lambda m: m["pricing"]["success"]),
        ("$.endpoint", lambda m: m["endpoint"]),
        ("$.endpoint.auth", lambda m: m["endpoint"]["auth"]),
        ("$.configuration_schema", lambda m: m["configuration_schema"]),
        ("$.configuration_schema.properties.api_key", lambda m: m["configuration_schema"]["properties"]["api_key"]),
    ],
)
def test_unknown_members_are_rejected_at_every_level(path, container):
    data = phone_number_manifest()
    container(data)["surprise"] = 1
    assert_problem(data, path, "'surprise' was unexpected")


def test_auth_members_depend_on_its_type():
    data = raw_recording_manifest()
    data["endpoint"]["auth"] = {"type": "basic", "username": "acme", "token": "x"}
    details = details_of(data)
    assert {"path": "$.endpoint.auth", "message": "'password' is a required property"} in details
    unexpected = "Additional properties are not allowed ('token' was unexpected)"
    assert {"path": "$.endpoint.auth", "message": unexpected} in details


def test_unknown_extension():
    data = phone_number_manifest()
    data["extensions"][0] = "outgoing-sms"
    assert_problem(data, "$.extensions[0]", "'outgoing-sms' is not one of")


def test_timeout_over_the_absolute_maximum():
    data = recording_analysis_manifest()
    data["endpoint"]["timeout_ms"] = 30001
    assert_problem(data, "$.endpoint.timeout_ms", "30001 is greater than the maximum of 30000")


def test_bad_json_pointer_in_success_conditions():
    data = phone_number_manifest()
    data["pricing"]["success"]["absent"] = ["/error", "error"]
    assert_problem(data, "$.pricing.success.absent[1]", "'error' is not a JSON pointer")


def test_bad_status_code():
    data = phone_number_manifest()
    data["pricing"]["success"]["status_codes"] = [200, 600]
    assert_problem(data, "$.pricing.success.status_codes[1]", "600 is greater than the maximum of 599")


def test_bad_header_name():
    data = phone_number_manifest()
    data["endpoint"]["headers"]["X Acme"] = "1"
    assert_problem(data, "$.endpoint.headers", "'X Acme' is not a valid HTTP header name")


def test_schema_errors_are_all_reported_sorted_by_path_and_rules_wait_for_them():
    data = phone_number_manifest()
    data["unique_name"] = "A"
    data["endpoint"]["retries"] = 9
    data["extensions"] = []
    data["pricing"]["model"] = "per_minute"  # a rule problem: not reported while the structure is broken
    paths = [detail["path"] for detail in details_of(data)]
    assert paths == ["$.endpoint.retries", "$.extensions", "$.unique_name"]


# --- rules that span members ----------------------------------------------------------------


def test_extension_not_allowed_for_type():
    data = message_analysis_manifest()
    data["extensions"] = ["incoming-sms", "lookups"]
    assert_problem(data, "$.extensions[1]", "extension 'lookups' is not allowed for message_analysis add-ons")


def test_per_minute_only_for_recording_analysis():
    data = phone_number_manifest()
    data["pricing"] = {"model": "per_minute", "price": "0.01"}
    assert_problem(data, "$.pricing.model", "'per_minute' is not allowed for phone_number add-ons")


def test_price_is_required_except_for_manual():
    data = message_analysis_manifest()
    del data["pricing"]["price"]
    assert_problem(data, "$.pricing.price", "price is required with per_use pricing")


def test_manual_pricing_takes_no_price():
    data = manual_manifest()
    data["pricing"]["price"] = "0.01"
    assert_problem(data, "$.pricing.price", "manual pricing takes no price")


def test_manual_pricing_needs_billable_items():
    data = manual_manifest()
    data["billable_items"] = []
    assert_problem(data, "$.billable_items", "manual pricing needs at least one billable item")


def test_billable_items_only_with_manual_pricing():
    data = message_analysis_manifest()
    data["billable_items"] = [{"name": "x", "price": "1"}]
    assert_problem(data, "$.billable_items", "only used with manual pricing")


def test_billable_item_names_are_unique():
    data = manual_manifest()
    data["billable_items"].append({"name": "positive", "price": "0.05"})
    assert_problem(data, "$.billable_items[2].name", "'positive' is used more than once")


def test_per_success_needs_success_conditions():
    data = phone_number_manifest()
    del data["pricing"]["success"]
    assert_problem(data, "$.pricing.success", "per_success pricing needs success conditions")


def test_success_conditions_only_with_per_success():
    data = message_analysis_manifest()
    data["pricing"]["success"] = {"status_codes": [200]}
    assert_problem(data, "$.pricing.success", "only used with per_success pricing")


def test_get_only_with_query_format():
    data = phone_number_manifest()
    data["endpoint"]["format"] = "form"
    data["endpoint"]["auth"] = {"type": "none"}
    assert_problem(data, "$.endpoint.format", "GET", "format must be 'query', not 'form'")


def test_get_with_the_default_format_is_rejected():
    data = phone_number_manifest()
    del data["endpoint"]["format"]
    assert_problem(data, "$.endpoint.format", "GET", "not 'form'")


@pytest.mark.parametrize("format_", ["raw", "multipart"])
def test_audio_formats_only_for_recording_analysis(format_):
    data = message_analysis_manifest()
    data["endpoint"]["format"] = format_
    assert_problem(data, "$.endpoint.format", f"format '{format_}' is not allowed for message_analysis add-ons")


@pytest.mark.parametrize("method, format_", [("GET", "query"), ("POST", "query")])
def test_body_auth_needs_a_body(method, format_):
    data = phone_number_manifest()
    data["endpoint"].update(method=method, format=format_)
    data["endpoint"]["auth"] = {"type": "body", "name": "key", "value": "{{api_key}}"}
    assert_problem(data, "$.endpoint.auth.type", "body auth needs a request body", f"format '{format_}'")


def test_body_auth_with_raw_audio_body():
    data = raw_recording_manifest()
    data["endpoint"]["auth"] = {"type": "body", "name": "key", "value": "secret"}
    assert_problem(data, "$.endpoint.auth.type", "body auth needs a request body")


def test_multipart_needs_audio_field():
    data = recording_analysis_manifest()
    del data["endpoint"]["audio_field"]
    del data["endpoint"]["params"]["audio"]
    assert_problem(data, "$.endpoint.audio_field", "format 'multipart' needs audio_field")


def test_audio_field_only_with_multipart():
    data = raw_recording_manifest()
    data["endpoint"]["audio_field"] = "file"
    assert_problem(data, "$.endpoint.audio_field", "only used with format 'multipart', not 'raw'")


def test_audio_field_on_another_type():
    data = message_analysis_manifest()
    data["endpoint"]["audio_field"] = "audio"
    assert_problem(data, "$.endpoint.audio_field", "only used with format 'multipart'")


@pytest.mark.parametrize("make", [phone_number_manifest, message_analysis_manifest])
def test_timeout_over_the_synchronous_maximum(make):
    data = make()
    data["endpoint"]["timeout_ms"] = 2001
    assert_problem(data, "$.endpoint.timeout_ms", "timeout_ms 2001 is over the 2000 ms maximum", data["type"])


def test_platform_headers_are_reserved():
    data = phone_number_manifest()
    data["endpoint"]["headers"]["x-twilio-signature"] = "forged"
    assert_problem(data, "$.endpoint.headers['x-twilio-signature']", "reserved")


def test_runtime_fields_need_lookups():
    data = phone_number_manifest()
    data["extensions"] = ["incoming-sms"]
    assert_problem(data, "$.runtime_fields", "runtime fields are only available with the lookups extension")


def test_runtime_fields_cannot_reuse_other_names():
    data = phone_number_manifest()
    data["runtime_fields"] = ["cnam_type", "primary_address", "language"]
    details = details_of(data)
    assert details == [
        {
            "path": "$.runtime_fields[1]",
            "message": "runtime field 'primary_address' collides with the platform template field",
        },
        {"path": "$.runtime_fields[2]", "message": "runtime field 'language' collides with the configuration property"},
    ]


def test_configuration_property_cannot_reuse_a_platform_field():
    data = message_analysis_manifest()
    data["configuration_schema"]["properties"]["body"] = {"type": "string"}
    assert_problem(data, "$.configuration_schema.properties.body", "'body' collides with the platform template field")


def test_platform_fields_of_other_types_are_free_for_configuration():
    data = phone_number_manifest()
    data["configuration_schema"]["properties"]["format"] = {"type": "string", "enum": ["short", "long"]}
    validate_manifest(data)


def test_required_configuration_property_must_exist():
    data = phone_number_manifest()
    data["configuration_schema"]["required"] = ["api_key", "api_secret"]
    assert_problem(data, "$.configuration_schema.required[1]", "'api_secret' is not defined")


def test_configuration_default_and_choices_must_fit_the_property():
    data = phone_number_manifest()
    properties = data["configuration_schema"]["properties"]
    properties["max_age_days"]["default"] = 400
    properties["language"]["enum"] = ["en", 2]
    details = details_of(data)
    assert [detail["path"] for detail in details] == [
        "$.configuration_schema.properties.language.enum[1]",
        "$.configuration_schema.properties.max_age_days.default",
    ]
    assert "default 400 is not valid for 'max_age_days'" in details[1]["message"]


@pytest.mark.parametrize(
    "member, schema, path",
    [
        ("request_validation_schema", {"type": "strin"}, "$.request_validation_schema.type"),
        ("response_validation_schema", {"required": "caller_name"}, "$.response_validation_schema.required"),
        ("response_validation_schema", {"minLength": -1}, "$.response_validation_schema.minLength"),
        (
            "request_validation_schema",
            {"properties": {"x": {"pattern": "("}}},
            "$.request_validation_schema.properties.x.pattern",
        ),
    ],
)
def test_broken_validation_schema_fails_check_schema(member, schema, path):
    data = phone_number_manifest()
    data[member] = schema
    assert_problem(data, path, "not a valid JSON Schema")


def test_broken_configuration_schema_fails_check_schema():
    data = phone_number_manifest()
    data["configuration_schema"]["properties"]["prefix"]["pattern"] = "^+("
    assert_problem(data, "$.configuration_schema.properties.prefix.pattern", "not a valid JSON Schema", "regex")


def test_configuration_schema_is_draft_7():
    data = phone_number_manifest()
    data["configuration_schema"]["$schema"] = "http://json-schema.org/draft-04/schema#"
    assert_problem(data, "$.configuration_schema['$schema']", "is not one of")
    data["configuration_schema"]["$schema"] = "http://json-schema.org/draft-07/schema#"
    validate_manifest(data)


def test_unknown_schema_dialect():
    data = phone_number_manifest()
    data["request_validation_schema"]["$schema"] = "https://example.com/my-dialect"
    assert_problem(data, "$.request_validation_schema['$schema']", "unknown JSON Schema dialect")


# --- template fields in the manifest --------------------------------------------------------


def test_unknown_template_field_in_a_param():
    data = phone_number_manifest()
    data["endpoint"]["params"]["e164"] = "{{phone}}"
    assert_problem(data, "$.endpoint.params.e164", "unknown template field 'phone'", "primary_address")


def test_unknown_template_field_in_a_header_and_auth():
    data = message_analysis_manifest()
    data["endpoint"]["headers"] = {"X-Api-Key": "k-{{ apikey }}"}
    data["endpoint"]["auth"]["token"] = "{{token}}"
    details = details_of(data)
    assert [detail["path"] for detail in details] == ["$.endpoint.auth.token", "$.endpoint.headers['X-Api-Key']"]
    assert "unknown template field 'token'" in details[0]["message"]
    assert "unknown template field 'apikey'" in details[1]["message"]


def test_template_fields_depend_on_the_type():
    data = phone_number_manifest()
    data["endpoint"]["params"]["text"] = "{{body}}"  # body is a message_analysis field
    assert_problem(data, "$.endpoint.params.text", "unknown template field 'body'", "phone_number add-ons can use")


def test_sha256_of_unknown_field():
    data = phone_number_manifest()
    data["endpoint"]["params"]["hashed"] = "{{SHA256:email}}"
    assert_problem(data, "$.endpoint.params.hashed", "unknown template field 'email' in {{SHA256:email}}")


def test_sha256_of_audio_data():
    data = recording_analysis_manifest()
    data["endpoint"]["params"]["digest"] = "{{SHA256:audio_data}}"
    assert_problem(data, "$.endpoint.params.digest", "{{SHA256:audio_data}} is not supported")


@pytest.mark.parametrize("template", ["{{body", "body}}", "{{body}} and {{from", "{{ {{body}} }}", "{{}}"])
def test_malformed_template(template):
    data = message_analysis_manifest()
    data["endpoint"]["params"]["text"] = template
    assert_problem(data, "$.endpoint.params.text", "invalid template")


def test_audio_data_only_as_a_whole_param():
    data = recording_analysis_manifest()
    data["endpoint"]["params"]["audio"] = "data:{{audio_data}}"
    data["endpoint"]["headers"] = {"X-Audio": "{{audio_data}}"}
    details = details_of(data)
    assert [detail["path"] for detail in details] == ["$.endpoint.headers['X-Audio']", "$.endpoint.params.audio"]
    assert all("can only be a whole param value" in detail["message"] for detail in details)


def test_audio_data_needs_an_audio_format():
    data = recording_analysis_manifest()
    data["endpoint"]["format"] = "json"
    del data["endpoint"]["audio_field"]
    data["endpoint"]["auth"] = {"type": "none"}
    assert_problem(data, "$.endpoint.params.audio", "needs format 'raw' or 'multipart', not 'json'")


def test_raw_format_needs_the_audio_param():
    data = raw_recording_manifest()
    del data["endpoint"]["params"]["file"]
    assert_problem(data, "$.endpoint.params", "format 'raw' sends {{audio_data}} as the body")


def test_raw_format_takes_one_audio_param():
    data = raw_recording_manifest()
    data["endpoint"]["params"]["file2"] = "{{audio_data}}"
    assert_problem(data, "$.endpoint.params.file2", "one {{audio_data}} param")


def test_multipart_audio_goes_in_audio_field():
    data = recording_analysis_manifest()
    data["endpoint"]["params"]["file"] = data["endpoint"]["params"].pop("audio")
    assert_problem(data, "$.endpoint.params.file", "part named by audio_field ('audio')")


def test_recording_analysis_must_send_callback_url():
    data = recording_analysis_manifest()
    del data["endpoint"]["params"]["callback"]
    assert_problem(data, "$.endpoint", "must send {{callback_url}}")


def test_callback_url_may_be_sent_in_a_header():
    data = raw_recording_manifest()
    del data["endpoint"]["params"]["callback"]
    data["endpoint"]["headers"] = {"X-Callback": "{{ callback_url }}"}
    validate_manifest(data)


def test_runtime_fields_and_configuration_properties_are_template_fields():
    manifest = validate_manifest(phone_number_manifest())
    assert manifest["endpoint"]["params"]["cnam_type"] == "{{cnam_type}}"
    assert manifest["endpoint"]["auth"]["value"] == "{{api_key}}"


# --- every problem at once ------------------------------------------------------------------


def test_every_rule_problem_is_reported_sorted_by_path():
    data = phone_number_manifest()
    data["extensions"] = ["incoming-sms", "recordings"]  # recordings: not for phone_number; no lookups
    data["pricing"] = {"model": "per_minute"}  # not for phone_number, and no price
    data["endpoint"]["format"] = "json"  # with GET
    data["endpoint"]["timeout_ms"] = 2500
    data["endpoint"]["params"]["e164"] = "{{phone}}"
    details = details_of(data)
    assert [detail["path"] for detail in details] == [
        "$.endpoint.format",
        "$.endpoint.params.e164",
        "$.endpoint.timeout_ms",
        "$.extensions[1]",
        "$.pricing.model",
        "$.pricing.price",
        "$.runtime_fields",
    ]


def test_error_shape():
    data = phone_number_manifest()
    data["endpoint"]["url"] = "ftp://x"
    with pytest.raises(InvalidManifest) as caught:
        validate_manifest(data)
    body = caught.value.as_body()
    assert (body["code"], body["status"], body["message"]) == (20001, 400, "Listing manifest is invalid")
    message = "'ftp://x' is not an http:// or https:// URL (without spaces or template fields)"
    assert body["details"] == [{"path": "$.endpoint.url", "message": message}]


# --- load_manifest --------------------------------------------------------------------------


def test_load_manifest_parses_and_validates():
    text = json.dumps(message_analysis_manifest(), indent=2)
    assert load_manifest(text)["endpoint"]["method"] == "POST"


def test_load_manifest_reports_invalid_json_with_line_and_column():
    text = '{\n  "unique_name": "acme",\n  "type" "phone_number"\n}'
    with pytest.raises(InvalidManifest) as caught:
        load_manifest(text)
    [detail] = caught.value.details
    assert detail["path"] == "$"
    assert "not valid JSON" in detail["message"]
    assert "line 3, column 10" in detail["message"]


def test_load_manifest_reports_schema_errors_too():
    with pytest.raises(InvalidManifest) as caught:
        load_manifest('"just a string"')
    assert caught.value.details == [{"path": "$", "message": "'just a string' is not of type 'object'"}]


# --- the schema file ------------------------------------------------------------------------


def test_schema_file_is_a_valid_json_schema():
    Draft202012Validator.check_schema(MANIFEST_SCHEMA)


def test_schema_enums_agree_with_the_type_table():
    properties = MANIFEST_SCHEMA["properties"]
    assert set(properties["type"]["enum"]) == set(ADD_ON_TYPES) == set(PLATFORM_FIELDS)
    assert set(properties["extensions"]["items"]["enum"]) == set().union(*(r.extensions for r in ADD_ON_TYPES.values()))
    models = MANIFEST_SCHEMA["$defs"]["pricing"]["properties"]["model"]["enum"]
    assert set(models) == set().union(*(r.pricing_models for r in ADD_ON_TYPES.values()))
    formats = MANIFEST_SCHEMA["$defs"]["endpoint"]["properties"]["format"]["enum"]
    assert set(formats) == set().union(*(r.formats for r in ADD_ON_TYPES.values()))
    timeout = MANIFEST_SCHEMA["$defs"]["endpoint"]["properties"]["timeout_ms"]
    assert timeout["maximum"] == max(r.max_timeout_ms for r in ADD_ON_TYPES.values())


def _object_schemas(schema, where="#"):
    if isinstance(schema, dict):
        if "properties" in schema:
            yield where, schema
        for key, value in schema.items():
            # `if` only tests; default/const/enum hold instances; members are walked below.
            if key not in ("if", "default", "const", "enum", "properties", "$defs"):
                yield from _object_schemas(value, f"{where}/{key}")
        for container in ("properties", "$defs"):
            for name, value in schema.get(container, {}).items():
                yield from _object_schemas(value, f"{where}/{container}/{name}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _object_schemas(value, f"{where}/{index}")


def test_schema_closes_every_object():
    # auth dispatches on its type to auth_* branches, each of which is closed.
    open_objects = [
        where
        for where, schema in _object_schemas(MANIFEST_SCHEMA)
        if schema.get("additionalProperties") is not False and where != "#/$defs/auth"
    ]
    assert open_objects == []


# --- template_fields ------------------------------------------------------------------------


def test_parse_literal_only():
    assert parse_template("twilio") == ["twilio"]
    assert parse_template("") == []
    assert parse_template('{"a": 1}') == ['{"a": 1}']  # single braces are literal text


def test_parse_fields_whitespace_and_sha256():
    assert parse_template("{{body}}") == [Field("body")]
    assert parse_template("{{ body }}") == [Field("body", sha256=False)]
    assert parse_template("id={{SHA256:primary_address}}&t={{ unix_timestamp }}") == [
        "id=",
        Field("primary_address", sha256=True),
        "&t=",
        Field("unix_timestamp"),
    ]
    assert parse_template("{{ SHA256: body }}") == [Field("body", sha256=True)]
    assert parse_template("{{a}}{{b}}") == [Field("a"), Field("b")]


@pytest.mark.parametrize(
    "template",
    ["{{body", "body}}", "{{a}}}}", "{{ {{body}} }}", "{{}}", "{{ }}", "{{SHA256:}}", "{{two words}}", "{{\nbody"],
)
def test_parse_rejects_malformed_templates(template):
    with pytest.raises(TemplateSyntaxError):
        parse_template(template)


def test_fields_in():
    assert fields_in("{{ a }}-{{SHA256:b}}-{{a}}") == {"a", "b"}
    assert fields_in("constant") == set()


def test_available_fields():
    assert available_fields("message_analysis", ["lang"], ["x"]) == PLATFORM_FIELDS["message_analysis"] | {"lang", "x"}
    assert "callback_url" in PLATFORM_FIELDS["recording_analysis"]
    assert "body" not in PLATFORM_FIELDS["phone_number"]


def test_render_template():
    values = {"primary_address": "+15005550006", "request_sid": "XR123"}
    assert render_template("n={{ primary_address }}&r={{request_sid}}", values) == "n=+15005550006&r=XR123"
    assert render_template("constant", {}) == "constant"


def test_render_sha256_is_hex_of_utf8():
    expected = hashlib.sha256("café +1".encode()).hexdigest()
    assert render_template("{{SHA256:body}}", {"body": "café +1"}) == expected


def test_render_json_values_as_json_text():
    assert render_template("{{on}}/{{off}}/{{n}}", {"on": True, "off": False, "n": 30}) == "true/false/30"


def test_render_never_expands_values():
    # A customer's message body must not be able to pull in the publisher's API key.
    values = {"body": "{{api_key}} {{SHA256:api_key}} {{body", "api_key": "secret"}
    assert render_template("text={{body}}", values) == "text={{api_key}} {{SHA256:api_key}} {{body"
    assert render_template("{{SHA256:body}}", values) == hashlib.sha256(values["body"].encode()).hexdigest()


def test_render_needs_every_field():
    with pytest.raises(KeyError):
        render_template("{{body}}", {})
