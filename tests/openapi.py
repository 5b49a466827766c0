"""Validate our responses against Twilio's official OpenAPI descriptions.

Stricter than the descriptions alone: Twilio always sends every property a resource declares,
and nothing else, so resource and envelope schemas are tightened to require exactly their
declared properties. Error bodies are checked against TwilioServiceErrorResponse.
"""

import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator

# A copy of ../shared/reference/openapi, so a clone tests itself (MIT, see its README).
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "openapi"
SPEC_FILES = ["twilio_marketplace_v1.json", "twilio_lookups_v1.json", "twilio_api_v2010.subset.json"]

format_checker = FormatChecker()


@format_checker.checks("date-time-rfc-2822", raises=ValueError)
def _rfc2822(value):
    if not isinstance(value, str):
        return True
    return parsedate_to_datetime(value) is not None and value.endswith("+0000")


@format_checker.checks("date-time")
def _iso8601(value):
    return not isinstance(value, str) or re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value) is not None


class Operation:
    def __init__(self, spec_name, path, method, regex, responses, components):
        self.spec_name = spec_name
        self.path = path
        self.method = method
        self.regex = regex
        self.responses = responses
        self.components = components

    @property
    def key(self):
        return f"{self.method.upper()} {self.path}"


def _resolve(node, components, seen=()):
    """Inline every $ref (the schemas here are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].split("/")[-1]
            if name in seen:
                raise ValueError(f"recursive schema {name}")
            return _resolve(components[name], components, seen + (name,))
        return {k: _resolve(v, components, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, components, seen) for v in node]
    return node


def _tighten(schema):
    """Require exactly the declared properties on every object schema that declares some."""
    if isinstance(schema, dict):
        schema = {k: _tighten(v) for k, v in schema.items()}
        props = schema.get("properties")
        if isinstance(props, dict) and props and schema.get("format") != "phone-number-capabilities":
            schema["required"] = sorted(props)
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_tighten(v) for v in schema]
    return schema


def _path_regex(template):
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


# Fields real Twilio responses carry that the subset description leaves out.
DOCUMENTED_EXTRAS = {
    "api.v2010.account.incoming_phone_number": {"subresource_uris": {"type": "object", "format": "uri-map"}},
}


def load_operations():
    operations = []
    for name in SPEC_FILES:
        spec = json.loads((REFERENCE / name).read_text())
        components = spec["components"]["schemas"]
        for component, extras in DOCUMENTED_EXTRAS.items():
            if component in components:
                components[component]["properties"].update(extras)
        for path, item in spec["paths"].items():
            for method in ("get", "post", "delete", "put"):
                if method in item:
                    operations.append(
                        Operation(name, path, method, _path_regex(path), item[method]["responses"], components)
                    )
    # Prefer the most specific template when two match (literal segments beat parameters).
    operations.sort(key=lambda op: -len(re.sub(r"\{[^}]+\}", "", op.path)))
    return operations


class Conformance:
    """Finds the operation for a request and checks the response body against it."""

    def __init__(self):
        self.operations = load_operations()
        error_schema = json.loads((REFERENCE / SPEC_FILES[0]).read_text())["components"]["schemas"][
            "marketplace.v1.TwilioServiceErrorResponse"
        ]
        # Our error bodies also carry `details` (every violation, for configuration errors).
        self.error_schema = {
            **error_schema,
            "required": ["code", "message", "more_info", "status"],
            "properties": {**error_schema["properties"], "details": {"type": "array"}},
            "additionalProperties": False,
        }
        self.seen = set()

    def operation(self, method, path):
        for op in self.operations:
            if op.method == method.lower() and op.regex.match(path):
                return op
        return None

    def check(self, method, path, status, body):
        """Raise AssertionError when the response does not conform; return the operation."""
        op = self.operation(method, path)
        if op is None:
            return None
        if status >= 400:
            _validate(self.error_schema, body, f"{op.key} -> {status}")
            assert body["status"] == status, f"{op.key}: error body status {body['status']} != HTTP {status}"
            self.seen.add((op.key, "error"))
            return op
        response = op.responses.get(str(status))
        assert response is not None, f"{op.key}: status {status} is not among {sorted(op.responses)}"
        content = response.get("content")
        if content is None:
            assert body in (None, b"", ""), f"{op.key} -> {status} must have no body"
        else:
            schema = _tighten(_resolve(content["application/json"]["schema"], op.components))
            _validate(schema, body, f"{op.key} -> {status}")
        self.seen.add((op.key, status))
        return op


def _validate(schema, body, where):
    errors = sorted(OAS30Validator(schema, format_checker=format_checker).iter_errors(body), key=str)
    if errors:
        lines = [f"{where}: response does not conform to the official OpenAPI description"]
        lines += [f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:10]]
        raise AssertionError("\n".join(lines))


CONFORMANCE = Conformance()
