"""The OpenAPI toolkit: Twilio's component schemas, the building blocks each view's
`@extend_schema` is made of, and the AutoSchema that adds what every operation shares.

Our views are plain APIViews that read PascalCase form parameters (marketplace.api.params)
and return dicts, so there is no serializer to introspect. Each view declares its operations
beside itself with `operation(...)` (an `extend_schema`): path and query parameters, the
form-encoded body, every status it answers with and the body of each. `MarketplaceAutoSchema`
(REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) adds the 401, 403 and 429 every authenticated call may
answer and registers each component an operation refers to, once.

Resources reuse Twilio's own component schemas (reference/openapi, MIT, Twilio Inc.) so the
official SDKs' models describe our responses; since we always send every property a Twilio
resource declares, our copies mark them all required. The plain Django views (probes, the
publisher's callback, downloads) are described by the hook in marketplace/api/schema.py.
"""

import copy
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

REFERENCE = Path(settings.BASE_DIR) / "reference" / "openapi"
REFERENCE_FILES = ("twilio_marketplace_v1.json", "twilio_lookups_v1.json", "twilio_api_v2010.subset.json")
SECURITY_SCHEME = "accountSid_authToken"
ERROR = "TwilioServiceErrorResponse"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"


# --- components ----------------------------------------------------------------------------


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def refs_in(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from refs_in(value)


# Twilio's resources, as we send them: every declared property, always.
TWILIO_RESOURCES = (
    "marketplace.v1.available_add_on",
    "marketplace.v1.available_add_on.available_add_on_extension",
    "marketplace.v1.installed_add_on",
    "marketplace.v1.installed_add_on.installed_add_on_extension",
    "marketplace.v1.module_data_management",
    "marketplace.v1.referral_conversion",
    "lookups.v1.phone_number",
    "api.v2010.account.incoming_phone_number",
    "api.v2010.account.incoming_phone_number.incoming_phone_number_assigned_add_on",
    "api.v2010.account.incoming_phone_number.incoming_phone_number_assigned_add_on"
    ".incoming_phone_number_assigned_add_on_extension",
    "api.v2010.account.recording",
    "api.v2010.account.recording.recording_add_on_result",
    "api.v2010.account.recording.recording_add_on_result.recording_add_on_result_payload",
    "api.v2010.account.recording.recording_add_on_result.recording_add_on_result_payload"
    ".recording_add_on_result_payload_data",
    "api.v2010.account.usage.usage_record",
)
USAGE = "marketplace.v1.installed_add_on.installed_add_on_usage"

# What we send beyond Twilio's subset description (real Twilio sends it too).
EXTRA_PROPERTIES = {
    "api.v2010.account.incoming_phone_number": {
        "subresource_uris": {
            "type": "object",
            "format": "uri-map",
            "description": "The URIs of related resources: `assigned_add_ons`.",
        }
    },
}

# Webhook URLs a number may not have: we send "" then, as Twilio does, which `format: uri` refuses.
UNSET_URL_PROPERTIES = {
    "api.v2010.account.incoming_phone_number": (
        "sms_url",
        "sms_fallback_url",
        "voice_url",
        "voice_fallback_url",
        "status_callback",
    ),
}

V1_META = "marketplace.v1.ListMeta"
V2010_PAGE_PROPERTIES = {
    "first_page_uri": {"type": "string", "format": "uri-reference"},
    "previous_page_uri": {"type": "string", "format": "uri-reference", "nullable": True},
    "next_page_uri": {"type": "string", "format": "uri-reference", "nullable": True},
    "page": {"type": "integer", "minimum": 0},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 1000},
    "start": {"type": "integer", "minimum": 0},
    "end": {"type": "integer", "minimum": 0},
    "uri": {"type": "string", "format": "uri-reference"},
}
ADD_ONS = {
    "type": "object",
    "description": "Twilio's `add_ons` object: the overall status and each add-on's result under its unique name.",
    "required": ["status", "message", "code", "results"],
    "properties": {
        "status": {"type": "string", "enum": ["successful", "failed"]},
        "message": {"type": "string", "nullable": True},
        "code": {"type": "integer", "nullable": True},
        "results": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["request_sid", "status", "message", "code", "result"],
                "properties": {
                    "request_sid": {"type": "string", "nullable": True},
                    "status": {"type": "string"},
                    "message": {"type": "string", "nullable": True},
                    "code": {"type": "integer", "nullable": True},
                    "result": {"type": "object"},
                },
            },
        },
    },
}
WEBHOOK = {
    "type": "object",
    "description": "How the number's webhook answered (`url` null when the number has none).",
    "required": ["url", "method", "status_code", "error"],
    "properties": {
        "url": {"type": "string", "nullable": True},
        "method": {"type": "string", "nullable": True},
        "status_code": {"type": "integer", "nullable": True},
        "error": {"type": "string", "nullable": True},
        "code": {
            "type": "integer",
            "description": "Why it was not delivered: 61040 refused destination, 61041 no complete answer "
            "within WEBHOOK_TIMEOUT_S (also in the debugger).",
        },
        "response_body": {"type": "string", "description": "The start of the webhook's answer."},
    },
}

OWN_COMPONENTS = {
    ERROR: {
        "type": "object",
        "description": "Every error of the API: Twilio's error body. `status` repeats the HTTP status.",
        "required": ["code", "message", "more_info", "status"],
        "properties": {
            "code": {"type": "integer", "format": "int32", "description": "Twilio error code, e.g. 20404."},
            "message": {"type": "string"},
            "more_info": {"type": "string", "format": "uri", "description": "Link to the error code's page."},
            "status": {"type": "integer", "format": "int32", "description": "The HTTP status code."},
            "details": {
                "type": "array",
                "items": {"type": "object"},
                "description": "Every violation, when there are several (configuration, manifests).",
            },
        },
    },
    V1_META: {
        "type": "object",
        "required": ["page", "page_size", "first_page_url", "previous_page_url", "url", "next_page_url", "key"],
        "properties": {
            "page": {"type": "integer", "minimum": 0},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 1000},
            "first_page_url": {"type": "string", "format": "uri"},
            "previous_page_url": {"type": "string", "format": "uri", "nullable": True},
            "url": {"type": "string", "format": "uri"},
            "next_page_url": {"type": "string", "format": "uri", "nullable": True},
            "key": {"type": "string"},
        },
    },
    "monitor.v1.alert": {
        "type": "object",
        "description": "A debugger alert: a failed or refused invocation (Twilio's Monitor Alert, list shape).",
        "required": [
            "account_sid",
            "alert_text",
            "api_version",
            "date_created",
            "date_generated",
            "date_updated",
            "error_code",
            "log_level",
            "more_info",
            "request_method",
            "request_url",
            "resource_sid",
            "sid",
            "url",
        ],
        "properties": {
            "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$"},
            "alert_text": {"type": "string"},
            "api_version": {"type": "string"},
            "date_created": {"type": "string", "format": "date-time"},
            "date_generated": {"type": "string", "format": "date-time"},
            "date_updated": {"type": "string", "format": "date-time"},
            "error_code": {"type": "string"},
            "log_level": {"type": "string", "enum": ["warning", "error"]},
            "more_info": {"type": "string", "format": "uri"},
            "request_method": {"type": "string", "nullable": True},
            "request_url": {"type": "string", "nullable": True},
            "resource_sid": {"type": "string", "nullable": True},
            "sid": {"type": "string", "pattern": "^NO[0-9a-fA-F]{32}$"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "sandbox.v1.inbound": {
        "type": "object",
        "description": "An inbound message or call that ran through the number's add-ons and webhook.",
        "required": ["sid", "account_sid", "from", "to", "add_ons", "webhook"],
        "properties": {
            "sid": {"type": "string", "pattern": "^(SM|CA)[0-9a-fA-F]{32}$"},
            "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$"},
            "from": {"type": "string", "format": "phone-number"},
            "to": {"type": "string", "format": "phone-number"},
            "body": {"type": "string", "description": "Messages only."},
            "add_ons": ADD_ONS,
            "webhook": WEBHOOK,
        },
    },
    "sandbox.v1.test_invocation": {
        "type": "object",
        "description": "A publisher's test call of one listing version: the request sent, the answer, the verdict.",
        "required": [
            "request_sid",
            "listing_sid",
            "version_sid",
            "integration_point",
            "request",
            "request_validation",
            "response",
            "response_validation",
            "status",
            "outcome",
            "code",
            "message",
            "result",
            "limits",
        ],
        "properties": {
            "request_sid": {"type": "string"},
            "listing_sid": {"type": "string", "pattern": "^XB[0-9a-fA-F]{32}$"},
            "version_sid": {"type": "string", "pattern": "^XC[0-9a-fA-F]{32}$"},
            "integration_point": {"type": "string"},
            "request": {
                "type": "object",
                "required": ["method", "url", "headers", "body", "signature_base"],
                "properties": {
                    "method": {"type": "string"},
                    "url": {"type": "string"},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {"type": "string", "nullable": True},
                    "signature_base": {"nullable": True},
                },
            },
            "request_validation": {
                "type": "object",
                "required": ["valid", "errors"],
                "properties": {"valid": {"type": "boolean"}, "errors": {"type": "array", "items": {}}},
            },
            "response": {
                "type": "object",
                "nullable": True,
                "description": "Null when the request was not sent.",
                "properties": {
                    "status_code": {"type": "integer", "nullable": True},
                    "headers": {"type": "object"},
                    "body": {"type": "string"},
                    "bytes": {"type": "integer"},
                    "attempts": {"type": "integer"},
                    "latency_ms": {"type": "number", "nullable": True},
                },
            },
            "response_validation": {
                "type": "object",
                "nullable": True,
                "properties": {"valid": {"type": "boolean"}, "errors": {"type": "array", "items": {}}},
            },
            "status": {"type": "string", "enum": ["successful", "failed"]},
            "outcome": {"type": "string"},
            "code": {"type": "integer", "nullable": True},
            "message": {"type": "string", "nullable": True},
            "result": {"nullable": True},
            "limits": {"type": "object"},
        },
    },
    "health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    },
    "readiness": {
        "type": "object",
        "required": ["status", "database", "broker", "cache"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "database": {"type": "string", "description": "`ok`, or `unreachable: <error class>`."},
            "broker": {"type": "string", "description": "`ok`, or `unreachable[: <error class>]`."},
            "cache": {
                "type": "string",
                "description": "The shared cache holding circuit breaker state: `ok`, or `unreachable: <error class>`.",
            },
        },
    },
    "callbacks.v1.add_on_result": {
        "type": "object",
        "required": ["sid", "status"],
        "properties": {
            "sid": {"type": "string", "pattern": "^XR[0-9a-fA-F]{32}$"},
            "status": ref("recording_add_on_result_enum_status"),
        },
    },
}


@lru_cache(maxsize=1)
def twilio_components():
    """Twilio's component schemas from the reference descriptions, adjusted to what we send."""
    components = {}
    for name in REFERENCE_FILES:
        components.update(json.loads((REFERENCE / name).read_text())["components"]["schemas"])
    for name in TWILIO_RESOURCES:
        schema = components[name] = copy.deepcopy(components[name])
        schema["properties"].update(EXTRA_PROPERTIES.get(name, {}))
        for prop in UNSET_URL_PROPERTIES.get(name, ()):
            declared = schema["properties"][prop]
            schema["properties"][prop] = {
                "description": f"{declared.get('description', '')} Empty when not set.".strip(),
                "oneOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}],
            }
        schema["required"] = list(schema["properties"])
    return components


def component_schema(name):
    if name in OWN_COMPONENTS:
        return OWN_COMPONENTS[name]
    return twilio_components()[name]


def register_components(registry, names):
    """Register the named components, and every component they refer to, once."""
    pending = list(names)
    while pending:
        name = pending.pop()
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name)
        if component in registry:
            continue
        component.schema = component_schema(name)
        registry.register(component)
        pending.extend(refs_in(component.schema))


# --- building blocks -----------------------------------------------------------------------


def sid_schema(prefix):
    return {"type": "string", "minLength": 34, "maxLength": 34, "pattern": f"^{prefix}[0-9a-fA-F]{{32}}$"}


def path_sid(name, prefix, what):
    return OpenApiParameter(
        name,
        type=sid_schema(prefix),
        location=OpenApiParameter.PATH,
        description=f"The SID of the {what}. Anything else, or another account's, answers 404.",
    )


def query(name, schema, description, **kwargs):
    return OpenApiParameter(name, type=schema, location=OpenApiParameter.QUERY, description=description, **kwargs)


PAGING = (
    query("PageSize", {"type": "integer", "minimum": 1, "maximum": 1000}, "Resources per page: 50 unless given."),
    query(
        "Page",
        {"type": "integer", "minimum": 0},
        "The page index: client state with PageToken; without it, page N starts after N × PageSize rows.",
    ),
    query("PageToken", {"type": "string"}, "The opaque token from `next_page_url` / `previous_page_url`."),
)
ACCOUNT_SID = path_sid("account_sid", "AC", "account: your own (the one that authenticates)")
_CREATED = {"type": "string", "format": "date-time"}
RECORDING_FILTERS = (
    query("DateCreated", _CREATED, "Created on this UTC day (`YYYY-MM-DD`, or the day of a date-time)."),
    query("DateCreated<", _CREATED, "Created on or before this day (`YYYY-MM-DD`) or date-time."),
    query("DateCreated>", _CREATED, "Created on or after this day (`YYYY-MM-DD`) or date-time."),
    query(
        "CallSid",
        {"type": "string", "pattern": "^CA[0-9a-fA-F]{32}$"},
        "Recordings of this call: none here, uploads are of no call.",
    ),
    query(
        "ConferenceSid",
        {"type": "string", "pattern": "^CF[0-9a-fA-F]{32}$"},
        "Recordings of this conference: none here.",
    ),
)


def v1_page(key, item):
    return {
        "type": "object",
        "required": [key, "meta"],
        "properties": {key: {"type": "array", "items": ref(item)}, "meta": ref(V1_META)},
    }


def v2010_page(key, item):
    return {
        "type": "object",
        "required": [key, *V2010_PAGE_PROPERTIES],
        "properties": {key: {"type": "array", "items": item}, **V2010_PAGE_PROPERTIES},
    }


def form(properties, required=()):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return {FORM: schema}


def string(description, **extra):
    return {"type": "string", "description": description, **extra}


def json_object_param(description):
    return string(f"{description} A JSON object, form-encoded as a string.", example="{}")


E164 = {"type": "string", "format": "phone-number", "example": "+14155552671"}
ERROR_DESCRIPTIONS = {
    400: "A parameter is missing or malformed (20001; 21421 for a number that is not E.164): the message names it.",
    401: "Credentials are missing or wrong (20003).",
    403: "Refused (20005: the account is not active; 20403: not allowed).",
    404: "Not found (20404): unknown, malformed or another account's SID.",
    409: "Conflict (20409).",
    410: "Gone: the one-time URL has expired.",
    413: "The request body is larger than this endpoint accepts.",
    415: "The body's media type is not one this endpoint reads.",
    429: "Too many requests for this account (20429); retry after `Retry-After` seconds.",
}
RESPONSE_HEADERS = (
    OpenApiParameter(
        "WWW-Authenticate", type=str, location=OpenApiParameter.HEADER, response=[401], description="`Basic`."
    ),
    OpenApiParameter(
        "Retry-After", type=int, location=OpenApiParameter.HEADER, response=[429], description="Seconds to wait."
    ),
    OpenApiParameter(
        "Location", type=str, location=OpenApiParameter.HEADER, response=[307], description="Same as `redirect_to`."
    ),
)


def resource(description, name):
    return (description, ref(name))


# Resource component names, shortened.
AVAILABLE = "marketplace.v1.available_add_on"
AVAILABLE_EXT = "marketplace.v1.available_add_on.available_add_on_extension"
INSTALLED = "marketplace.v1.installed_add_on"
INSTALLED_EXT = "marketplace.v1.installed_add_on.installed_add_on_extension"
MODULE = "marketplace.v1.module_data_management"
REFERRAL = "marketplace.v1.referral_conversion"
LOOKUP = "lookups.v1.phone_number"
NUMBER = "api.v2010.account.incoming_phone_number"
ASSIGNED = f"{NUMBER}.incoming_phone_number_assigned_add_on"
ASSIGNED_EXT = f"{ASSIGNED}.incoming_phone_number_assigned_add_on_extension"
RECORDING = "api.v2010.account.recording"
RESULT = f"{RECORDING}.recording_add_on_result"
PAYLOAD = f"{RESULT}.recording_add_on_result_payload"
PAYLOAD_DATA = f"{PAYLOAD}.recording_add_on_result_payload_data"
USAGE_RECORD = "api.v2010.account.usage.usage_record"

NUMBER_FIELDS = {
    "FriendlyName": string("A name for the number, up to 64 characters.", maxLength=64),
    "SmsUrl": string("Where inbound messages are delivered (http or https).", format="uri"),
    "SmsMethod": {"type": "string", "enum": ["GET", "POST"], "description": "How SmsUrl is called."},
    "VoiceUrl": string("Where inbound calls are delivered (http or https).", format="uri"),
    "VoiceMethod": {"type": "string", "enum": ["GET", "POST"], "description": "How VoiceUrl is called."},
}
LISTING_SECTIONS = ("ModuleInfo", "Description", "Documentation", "Policies", "Support", "Configuration", "Pricing")
DELETED = {204: ("Deleted.", None)}
NUMBER_PATH = (ACCOUNT_SID, path_sid("resource_sid", "PN", "IncomingPhoneNumber"))
RECORDING_PATH = (ACCOUNT_SID, path_sid("reference_sid", "RE", "Recording"))
RESULT_PATH = (*RECORDING_PATH, path_sid("result_sid", "XR", "AddOnResult"))

V1 = "Marketplace v1"
PUBLISHERS = "Marketplace v1 (publishers)"
API_2010 = "Api 2010-04-01"
SANDBOX = "Sandbox"

# --- one operation, beside its view ------------------------------------------------------------


def operation(
    operation_id, summary, tag, responses, *, parameters=(), body=None, body_required=False, errors=(), description=""
):
    """`extend_schema` for one of our operations, as its view reads the request and writes the response.

    `responses` maps a status (or (status, media type)) to (description, schema or None); `errors`
    are the 4xx beyond the 401, 403 and 429 every authenticated call may answer (those come from
    MarketplaceAutoSchema)."""
    if body is not None and body_required:
        body = {media_type: RequiredBody(schema) for media_type, schema in body.items()}
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=[tag],
        parameters=list(parameters),
        request=body,
        responses=_responses({**responses, **_errors(errors)}),
    )


class RequiredBody(dict):
    """A request body schema the operation cannot do without."""


def _errors(codes):
    return {code: (ERROR_DESCRIPTIONS[code], ref(ERROR)) for code in sorted(codes)}


def _responses(declared):
    responses = {}
    for status, (description, schema) in declared.items():
        key = status if isinstance(status, tuple) else (status, JSON) if schema is not None else status
        responses[key] = OpenApiResponse(response=schema, description=description)
    return responses


def path_item(operations):
    """For a plain Django view, which drf-spectacular does not see: its OpenAPI path item
    (method -> operation object), put into the document by marketplace.api.schema's hook."""

    def describe(view):
        view.openapi_path_item = operations
        return view

    return describe


def error_response_objects(codes, media_type=JSON):
    return {
        str(code): {"description": ERROR_DESCRIPTIONS[code], "content": {media_type: {"schema": ref(ERROR)}}}
        for code in codes
    }


def json_response(description, schema):
    return {"description": description, "content": {JSON: {"schema": schema}}}


# --- drf-spectacular ------------------------------------------------------------------------


class TwilioBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.auth.TwilioBasicAuthentication"
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic with `AccountSid:AuthToken` or `ApiKeySid:Secret`.",
        }


SHARED_ERRORS = (401, 403, 429)  # what every authenticated call may answer


class MarketplaceAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus what every operation of ours shares: the 401, 403 and
    429 answers of an authenticated call (with their WWW-Authenticate and Retry-After headers),
    required request bodies, and the components its schemas refer to."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        result = super().get_operation(path, path_regex, path_prefix, method, registry)
        if result is not None:
            register_components(registry, [ERROR, *refs_in(result)])
        return result

    def get_description(self):
        return ""  # docstrings speak to developers; an operation's description is declared with it

    def get_override_parameters(self):
        return [*super().get_override_parameters(), *RESPONSE_HEADERS]

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, RequiredBody):
            return dict(schema), True
        return schema, required

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.get_auth():
            for status in SHARED_ERRORS:
                error = OpenApiResponse(response=ref(ERROR), description=ERROR_DESCRIPTIONS[status])
                responses.setdefault(str(status), self._get_response_for_code(error, str(status), [JSON], direction))
        # Its own answers first, as declared, then the errors by status.
        return dict(sorted(responses.items(), key=lambda item: int(item[0]) if int(item[0]) >= 400 else 0))
