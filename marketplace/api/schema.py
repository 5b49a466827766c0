"""The OpenAPI 3 description of everything the API serves, built by drf-spectacular.

Our views are plain APIViews that read PascalCase form parameters (marketplace.api.params)
and return dicts, so there is no serializer to introspect. Instead each operation is declared
here, beside the others, as the view reads and writes it: path parameters, query parameters,
the form-encoded body, every status it answers with, the body of each, and the Twilio error
body for 4xx. `MarketplaceAutoSchema` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) hands these
declarations to drf-spectacular, which still walks the URLconf, names the paths, registers
components, applies security and serves the document; the views stay untouched.

Resources reuse Twilio's own component schemas (reference/openapi, MIT, Twilio Inc.) so the
official SDKs' models describe our responses; since we always send every property a Twilio
resource declares, our copies mark them all required. The few plain Django views (the
probes, a publisher's one-time callback, signed payload downloads) are not DRF views, so the
postprocessing hook `add_plain_django_views` describes them.
"""

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

REFERENCE = Path(settings.BASE_DIR) / "reference" / "openapi"
REFERENCE_FILES = ("twilio_marketplace_v1.json", "twilio_lookups_v1.json", "twilio_api_v2010.subset.json")
SECURITY_SCHEME = "accountSid_authToken"
ERROR = "TwilioServiceErrorResponse"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"


# --- components ----------------------------------------------------------------------------


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _refs_in(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs_in(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _refs_in(value)


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
        "sms_url", "sms_fallback_url", "voice_url", "voice_fallback_url", "status_callback",
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
            "account_sid", "alert_text", "api_version", "date_created", "date_generated", "date_updated",
            "error_code", "log_level", "more_info", "request_method", "request_url", "resource_sid", "sid", "url",
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
            "request_sid", "listing_sid", "version_sid", "integration_point", "request", "request_validation",
            "response", "response_validation", "status", "outcome", "code", "message", "result", "limits",
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
            "status": _ref("recording_add_on_result_enum_status"),
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
        pending.extend(_refs_in(component.schema))


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
    query("Page", {"type": "integer", "minimum": 0}, "The page index: client state with PageToken; without it, page N starts after N × PageSize rows."),
    query("PageToken", {"type": "string"}, "The opaque token from `next_page_url` / `previous_page_url`."),
)
ACCOUNT_SID = path_sid("account_sid", "AC", "account: your own (the one that authenticates)")
_CREATED = {"type": "string", "format": "date-time"}
RECORDING_FILTERS = (
    query("DateCreated", _CREATED, "Created on this UTC day (`YYYY-MM-DD`, or the day of a date-time)."),
    query("DateCreated<", _CREATED, "Created on or before this day (`YYYY-MM-DD`) or date-time."),
    query("DateCreated>", _CREATED, "Created on or after this day (`YYYY-MM-DD`) or date-time."),
    query("CallSid", {"type": "string", "pattern": "^CA[0-9a-fA-F]{32}$"}, "Recordings of this call: none "
          "here, uploads are of no call."),
    query("ConferenceSid", {"type": "string", "pattern": "^CF[0-9a-fA-F]{32}$"}, "Recordings of this "
          "conference: none here."),
)


def v1_page(key, item):
    return {
        "type": "object",
        "required": [key, "meta"],
        "properties": {key: {"type": "array", "items": _ref(item)}, "meta": _ref(V1_META)},
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


@dataclass
class Operation:
    """One operation, as its view reads the request and writes the response."""

    operation_id: str
    summary: str
    tag: str
    responses: dict  # status (or (status, media type)) -> (description, schema or None)
    parameters: tuple = ()
    body: dict | None = None  # media type -> schema
    body_required: bool = False
    errors: tuple = ()  # 4xx beyond the 401, 403 and 429 every authenticated call may answer
    description: str = ""
    security: bool = True


def resource(description, name):
    return (description, _ref(name))


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

OPERATIONS = {
    # Marketplace v1: the catalog.
    ("addons.api.views.AvailableAddOnList", "GET"): Operation(
        "ListAvailableAddOn", "The add-ons this account may install.", V1,
        {200: ("A page of available add-ons.", v1_page("available_add_ons", AVAILABLE))},
        parameters=PAGING, errors=(400,),
    ),
    ("addons.api.views.AvailableAddOnDetail", "GET"): Operation(
        "FetchAvailableAddOn", "One available add-on.", V1, {200: resource("The add-on.", AVAILABLE)},
        parameters=(path_sid("sid", "XB", "AvailableAddOn"),), errors=(404,),
    ),
    ("addons.api.views.AvailableAddOnExtensionList", "GET"): Operation(
        "ListAvailableAddOnExtension", "The extensions (integration points) of an available add-on.", V1,
        {200: ("A page of extensions.", v1_page("extensions", AVAILABLE_EXT))},
        parameters=(path_sid("listing_sid", "XB", "AvailableAddOn"), *PAGING), errors=(400, 404),
    ),
    ("addons.api.views.AvailableAddOnExtensionDetail", "GET"): Operation(
        "FetchAvailableAddOnExtension", "One extension of an available add-on.", V1,
        {200: resource("The extension.", AVAILABLE_EXT)},
        parameters=(path_sid("listing_sid", "XB", "AvailableAddOn"), path_sid("sid", "XF", "Extension")),
        errors=(404,),
    ),
    # Marketplace v1: installations.
    ("addons.api.views.InstalledAddOnList", "GET"): Operation(
        "ListInstalledAddOn", "The add-ons installed on this account.", V1,
        {200: ("A page of installed add-ons.", v1_page("installed_add_ons", INSTALLED))},
        parameters=PAGING, errors=(400,),
    ),
    ("addons.api.views.InstalledAddOnList", "POST"): Operation(
        "CreateInstalledAddOn", "Install an add-on.", V1, {201: resource("Installed.", INSTALLED)},
        body=form(
            {
                "AvailableAddOnSid": {**sid_schema("XB"), "description": "The add-on to install."},
                "AcceptTermsOfService": {"type": "boolean", "description": "Must be true."},
                "Configuration": json_object_param("The configuration, valid against its configuration_schema."),
                "UniqueName": string("A name unique within the account; the add-on's by default."),
            },
            required=("AvailableAddOnSid", "AcceptTermsOfService"),
        ),
        body_required=True, errors=(400, 404, 409, 415),
    ),
    ("addons.api.views.InstalledAddOnDetail", "GET"): Operation(
        "FetchInstalledAddOn", "One installed add-on.", V1, {200: resource("The installation.", INSTALLED)},
        parameters=(path_sid("sid", "XE", "InstalledAddOn"),), errors=(404,),
    ),
    ("addons.api.views.InstalledAddOnDetail", "POST"): Operation(
        "UpdateInstalledAddOn", "Change an installation's configuration or unique name.", V1,
        {200: resource("Updated.", INSTALLED)},
        parameters=(path_sid("sid", "XE", "InstalledAddOn"),),
        body=form(
            {
                "Configuration": json_object_param("The new configuration, valid against its configuration_schema."),
                "UniqueName": string("A new name, unique within the account."),
            }
        ),
        errors=(400, 404, 409, 415),
    ),
    ("addons.api.views.InstalledAddOnDetail", "DELETE"): Operation(
        "DeleteInstalledAddOn", "Uninstall an add-on.", V1, DELETED,
        parameters=(path_sid("sid", "XE", "InstalledAddOn"),), errors=(404,),
    ),
    ("addons.api.views.InstalledAddOnExtensionList", "GET"): Operation(
        "ListInstalledAddOnExtension", "The extensions of an installation, each on or off.", V1,
        {200: ("A page of extensions.", v1_page("extensions", INSTALLED_EXT))},
        parameters=(path_sid("installation_sid", "XE", "InstalledAddOn"), *PAGING), errors=(400, 404),
    ),
    ("addons.api.views.InstalledAddOnExtensionDetail", "GET"): Operation(
        "FetchInstalledAddOnExtension", "One extension of an installation.", V1,
        {200: resource("The extension.", INSTALLED_EXT)},
        parameters=(path_sid("installation_sid", "XE", "InstalledAddOn"), path_sid("sid", "XF", "Extension")),
        errors=(404,),
    ),
    ("addons.api.views.InstalledAddOnExtensionDetail", "POST"): Operation(
        "UpdateInstalledAddOnExtension", "Turn an extension of an installation on or off.", V1,
        {200: resource("Updated.", INSTALLED_EXT)},
        parameters=(path_sid("installation_sid", "XE", "InstalledAddOn"), path_sid("sid", "XF", "Extension")),
        body=form(
            {"Enabled": {"type": "boolean", "description": "Whether the extension runs."}}, required=("Enabled",)
        ),
        body_required=True, errors=(400, 404, 415),
    ),
    # Marketplace v1: publishers.
    ("billing.api.views.InstalledAddOnUsage", "POST"): Operation(
        "CreateBillingUsage", "Report manual usage of a customer's installation of your add-on.", PUBLISHERS,
        {202: resource("Accepted: each item says whether it was billed.", USAGE)},
        parameters=(
            path_sid("installation_sid", "XE", "customer's installation of your add-on"),
            OpenApiParameter(
                "I-Twilio-Idempotency-Token", type={"type": "string", "maxLength": 100},
                location=OpenApiParameter.HEADER,
                description="Identifies the report: sending it again bills each item once.",
            ),
        ),
        body={JSON: _ref(USAGE)}, body_required=True, errors=(400, 404, 415),
        description="JSON, not form-encoded. 403 when the caller is not the add-on's publisher, the add-on "
        "is not priced `manual`, or not in a reportable state.",
    ),
    ("accounts.api.referrals.ReferralConversion", "POST"): Operation(
        "CreateReferralConversion", "Report that an account you referred converted.", PUBLISHERS,
        {200: resource("Recorded (or already recorded for you): the converted account.", REFERRAL)},
        body={
            JSON: {
                "type": "object",
                "required": ["referral_account_sid"],
                "properties": {"referral_account_sid": {**sid_schema("AC"), "description": "The account you referred."}},
            }
        },
        body_required=True, errors=(400, 404, 409, 415),
        description="JSON, as the official SDKs send it. 403 (20403) when the caller is not a publisher; 404 for an "
        "unknown account; 409 when the account already converted for another referrer; 400 for your own account or "
        "one that is not active.",
    ),
    ("addons.api.listings.ListingList", "GET"): Operation(
        "ListModuleData", "Your own listings' catalog content.", PUBLISHERS,
        {
            200: (
                "Every listing of the calling publisher.",
                {
                    "type": "object",
                    "required": ["listings"],
                    "properties": {"listings": {"type": "array", "items": _ref(MODULE)}},
                },
            )
        },
    ),
    ("addons.api.listings.ListingList", "POST"): Operation(
        "CreateModuleData", "Create a listing shell from its catalog content.", PUBLISHERS,
        {200: resource("The new listing.", MODULE)},
        body=form(
            {
                "ModuleInfo": json_object_param("The listing's essentials: name (required), description, ..."),
                "Configuration": json_object_param("Listing-specific configuration."),
            },
            required=("ModuleInfo",),
        ),
        body_required=True, errors=(400, 409, 415),
        description="403 (20403) when the calling account is not a publisher.",
    ),
    ("addons.api.listings.ListingDetail", "GET"): Operation(
        "FetchModuleDataManagement", "One of your listings' catalog content.", PUBLISHERS,
        {200: resource("The listing's sections; a section never set is null.", MODULE)},
        parameters=(path_sid("sid", "XB", "listing (yours)"),), errors=(404,),
    ),
    ("addons.api.listings.ListingDetail", "POST"): Operation(
        "UpdateModuleDataManagement", "Replace catalog sections of one of your listings.", PUBLISHERS,
        {
            200: resource("Updated.", MODULE),
            304: ("Not modified: every given section equals what is stored (or none was given).", None),
        },
        parameters=(path_sid("sid", "XB", "listing (yours)"),),
        body=form({name: json_object_param(f"The {name} section.") for name in LISTING_SECTIONS}),
        errors=(400, 404, 413, 415),
        description="Form-encoded bodies up to 16 MB; Policies at most 5 MB of JSON.",
    ),
    ("invocation.api.trial.TestInvocation", "POST"): Operation(
        "CreateTestInvocation", "Call your own listing version with sample input, as a customer's call would.",
        SANDBOX, {200: resource("What was sent, what came back, and the verdict.", "sandbox.v1.test_invocation")},
        parameters=(path_sid("listing_sid", "XB", "listing (yours)"),),
        body=form(
            {
                "VersionSid": {**sid_schema("XC"), "description": "The version to call; the latest by default."},
                "IntegrationPoint": string("An extension of the version; its first by default."),
                "PrimaryAddress": {**E164, "description": "The number looked up (a sample by default)."},
                "SecondaryAddress": {**E164, "description": "The other party's number."},
                "Body": string("A message body, up to 1600 characters.", maxLength=1600),
                "Configuration": json_object_param("The configuration to test with."),
                "RuntimeData": json_object_param("Runtime fields to send."),
            }
        ),
        errors=(400, 404, 415),
    ),
    # Lookups and the debugger.
    ("invocation.api.lookups.PhoneNumberLookup", "GET"): Operation(
        "FetchPhoneNumber", "Look a number up, running the named add-ons on it.", "Lookups v1",
        {200: resource("The number, with `add_ons` when AddOns was given.", LOOKUP)},
        parameters=(
            OpenApiParameter(
                "phone_number", type=str, location=OpenApiParameter.PATH,
                description="E.164, or national with CountryCode; a number that is not valid answers 404.",
            ),
            query(
                "CountryCode", {"type": "string", "minLength": 2, "maxLength": 2}, "ISO 3166-1 alpha-2; US by default."
            ),
            query(
                "Type", {"type": "array", "items": {"type": "string", "enum": ["carrier", "caller-name"]}},
                "`carrier`: the operator the number's range was allocated to and its line type (mobile, landline, "
                "voip), from the phonenumbers library's data; `caller-name` is accepted and stays null (no owner data).",
                style="form", explode=True,
            ),
            query(
                "AddOns", {"type": "array", "items": {"type": "string"}},
                "Unique names of installed add-ons to run; repeat the parameter for several.",
                style="form", explode=True,
            ),
            query(
                "AddOnsData", {"type": "object", "additionalProperties": {"type": "string"}},
                "Runtime data for the add-ons, sent as `AddOns.<unique name>.<field>=value` (the SDK's "
                "add_ons_data); the add-on must be listed in AddOns.",
                style="form", explode=True,
            ),
        ),
        errors=(400, 404),
    ),
    ("addons.api.alerts.AlertList", "GET"): Operation(
        "ListAlert", "The debugger: failed or refused invocations, newest last.", "Monitor v1",
        {200: ("A page of alerts.", v1_page("alerts", "monitor.v1.alert"))},
        parameters=(query("LogLevel", {"type": "string", "enum": ["warning", "error"]}, "Only this level."), *PAGING),
        errors=(400,),
    ),
    ("addons.api.alerts.AlertDetail", "GET"): Operation(
        "FetchAlert", "One debugger alert.", "Monitor v1", {200: resource("The alert.", "monitor.v1.alert")},
        parameters=(path_sid("sid", "NO", "Alert"),), errors=(404,),
    ),
    # The sandbox: inbound traffic and recordings.
    ("invocation.api.sandbox.InboundMessage", "POST"): Operation(
        "CreateInboundMessage", "A message arriving at one of your numbers: runs its add-ons, then its webhook.",
        SANDBOX, {201: resource("What the add-ons and the webhook made of it.", "sandbox.v1.inbound")},
        body=form(
            {
                "From": {**E164, "description": "The sender."},
                "To": {**E164, "description": "One of your IncomingPhoneNumbers."},
                "Body": string("The text, up to 1600 characters.", maxLength=1600),
            },
            required=("From", "To", "Body"),
        ),
        body_required=True, errors=(400, 404, 415),
    ),
    ("invocation.api.sandbox.InboundCall", "POST"): Operation(
        "CreateInboundCall", "A call arriving at one of your numbers: runs its add-ons, then its webhook.",
        SANDBOX, {201: resource("What the add-ons and the webhook made of it.", "sandbox.v1.inbound")},
        body=form(
            {"From": {**E164, "description": "The caller."}, "To": {**E164, "description": "One of your numbers."}},
            required=("From", "To"),
        ),
        body_required=True, errors=(400, 404, 415),
    ),
    ("recordings.api.views.RecordingUpload", "POST"): Operation(
        "CreateRecording", "Upload a WAV as a recording; each add-on with `recordings` on gets a result.",
        SANDBOX, {201: resource("The recording.", RECORDING)},
        body={
            MULTIPART: {
                "type": "object",
                "required": ["Audio"],
                "properties": {"Audio": {"type": "string", "format": "binary", "description": "A WAV file."}},
            }
        },
        body_required=True, errors=(400, 413, 415),
    ),
    # 2010-04-01: numbers and their assigned add-ons.
    ("accounts.api.views.IncomingPhoneNumberList", "GET"): Operation(
        "ListIncomingPhoneNumber", "Your numbers.", API_2010,
        {200: ("A page of numbers.", v2010_page("incoming_phone_numbers", _ref(NUMBER)))},
        parameters=(
            ACCOUNT_SID,
            query("PhoneNumber", {"type": "string", "maxLength": 40}, "Numbers containing this fragment: digits, "
                  "`*` for any one digit, a leading `+` anchors it at the start."),
            query("FriendlyName", {"type": "string"}, "Only numbers with this friendly name (exact)."),
            query("Origin", {"type": "string", "enum": ["twilio", "hosted"]}, "Every number here is `hosted` "
                  "(registered by you); `twilio` lists none."),
            query("Beta", {"type": "boolean"}, "Accepted; no number here is new to the platform, so both list all."),
            *PAGING,
        ),
        errors=(400, 404),
    ),
    ("accounts.api.views.IncomingPhoneNumberList", "POST"): Operation(
        "CreateIncomingPhoneNumber", "Register a number you own, so its traffic can run add-ons.", API_2010,
        {201: resource("Registered.", NUMBER)},
        parameters=(ACCOUNT_SID,),
        body=form(
            {
                "PhoneNumber": {**E164, "description": "The number, E.164."},
                "AreaCode": string("Not offered: buying numbers is refused with 400."),
                **NUMBER_FIELDS,
            },
            required=("PhoneNumber",),
        ),
        body_required=True, errors=(400, 404, 409, 415),
    ),
    ("accounts.api.views.IncomingPhoneNumberDetail", "GET"): Operation(
        "FetchIncomingPhoneNumber", "One of your numbers.", API_2010, {200: resource("The number.", NUMBER)},
        parameters=(ACCOUNT_SID, path_sid("sid", "PN", "IncomingPhoneNumber")), errors=(404,),
    ),
    ("accounts.api.views.IncomingPhoneNumberDetail", "POST"): Operation(
        "UpdateIncomingPhoneNumber", "Change a number's name and webhooks.", API_2010,
        {200: resource("Updated.", NUMBER)},
        parameters=(ACCOUNT_SID, path_sid("sid", "PN", "IncomingPhoneNumber")),
        body=form(NUMBER_FIELDS), errors=(400, 404, 415),
    ),
    ("accounts.api.views.IncomingPhoneNumberDetail", "DELETE"): Operation(
        "DeleteIncomingPhoneNumber", "Remove a number.", API_2010, DELETED,
        parameters=(ACCOUNT_SID, path_sid("sid", "PN", "IncomingPhoneNumber")), errors=(404,),
    ),
    ("addons.api.views_2010.AssignedAddOnList", "GET"): Operation(
        "ListIncomingPhoneNumberAssignedAddOn", "The add-ons assigned to a number.", API_2010,
        {200: ("A page of assigned add-ons.", v2010_page("assigned_add_ons", _ref(ASSIGNED)))},
        parameters=(*NUMBER_PATH, *PAGING), errors=(400, 404),
    ),
    ("addons.api.views_2010.AssignedAddOnList", "POST"): Operation(
        "CreateIncomingPhoneNumberAssignedAddOn", "Assign an installed add-on to a number.", API_2010,
        {201: resource("Assigned.", ASSIGNED)},
        parameters=NUMBER_PATH,
        body=form(
            {"InstalledAddOnSid": {**sid_schema("XE"), "description": "The installation to assign."}},
            required=("InstalledAddOnSid",),
        ),
        body_required=True, errors=(400, 404, 409, 415),
    ),
    ("addons.api.views_2010.AssignedAddOnDetail", "GET"): Operation(
        "FetchIncomingPhoneNumberAssignedAddOn", "One add-on assigned to a number.", API_2010,
        {200: resource("The assignment.", ASSIGNED)},
        parameters=(*NUMBER_PATH, path_sid("sid", "XE", "assigned InstalledAddOn")), errors=(404,),
    ),
    ("addons.api.views_2010.AssignedAddOnDetail", "DELETE"): Operation(
        "DeleteIncomingPhoneNumberAssignedAddOn", "Unassign an add-on from a number.", API_2010, DELETED,
        parameters=(*NUMBER_PATH, path_sid("sid", "XE", "assigned InstalledAddOn")), errors=(404,),
    ),
    ("addons.api.views_2010.AssignedAddOnExtensionList", "GET"): Operation(
        "ListIncomingPhoneNumberAssignedAddOnExtension", "The extensions of an assigned add-on.", API_2010,
        {200: ("A page of extensions.", v2010_page("extensions", _ref(ASSIGNED_EXT)))},
        parameters=(*NUMBER_PATH, path_sid("assigned_sid", "XE", "assigned InstalledAddOn"), *PAGING),
        errors=(400, 404),
    ),
    ("addons.api.views_2010.AssignedAddOnExtensionDetail", "GET"): Operation(
        "FetchIncomingPhoneNumberAssignedAddOnExtension", "One extension of an assigned add-on.", API_2010,
        {200: resource("The extension.", ASSIGNED_EXT)},
        parameters=(
            *NUMBER_PATH,
            path_sid("assigned_sid", "XE", "assigned InstalledAddOn"),
            path_sid("sid", "XF", "Extension"),
        ),
        errors=(404,),
    ),
    # 2010-04-01: usage.
    ("billing.api.views.UsageRecordList", "GET"): Operation(
        "ListUsageRecord", "Marketplace usage: one record in all, one per add-on.", API_2010,
        {200: ("A page of usage records.", v2010_page("usage_records", _ref(USAGE_RECORD)))},
        parameters=(
            ACCOUNT_SID,
            query(
                "Category", {"type": "string"},
                "`marketplace` (all add-ons) or `marketplace-<unique name>` (one add-on).",
            ),
            query(
                "StartDate", {"type": "string", "format": "date"}, "First day (UTC); the account's creation by default."
            ),
            query("EndDate", {"type": "string", "format": "date"}, "Last day (UTC); today by default."),
            *PAGING,
        ),
        errors=(400, 404),
    ),
    # 2010-04-01: recordings, their add-on results and payloads.
    ("recordings.api.views.RecordingList", "GET"): Operation(
        "ListRecording", "Your recordings.", API_2010,
        {200: ("A page of recordings.", v2010_page("recordings", _ref(RECORDING)))},
        parameters=(ACCOUNT_SID, *RECORDING_FILTERS, *PAGING), errors=(400, 404),
    ),
    ("recordings.api.views.RecordingDetail", "GET"): Operation(
        "FetchRecording", "One recording.", API_2010, {200: resource("The recording.", RECORDING)},
        parameters=(ACCOUNT_SID, path_sid("sid", "RE", "Recording")), errors=(404,),
    ),
    ("recordings.api.views.RecordingDetail", "DELETE"): Operation(
        "DeleteRecording", "Delete a recording, its results and payloads.", API_2010, DELETED,
        parameters=(ACCOUNT_SID, path_sid("sid", "RE", "Recording")), errors=(404,),
    ),
    ("recordings.api.views.RecordingMedia", "GET"): Operation(
        "FetchRecordingMedia", "A recording's audio.", API_2010,
        {(200, "audio/x-wav"): ("The WAV, as uploaded.", {"type": "string", "format": "binary"})},
        parameters=(ACCOUNT_SID, path_sid("sid", "RE", "Recording")), errors=(404,),
    ),
    ("recordings.api.views.AddOnResultList", "GET"): Operation(
        "ListRecordingAddOnResult", "The add-on results of a recording.", API_2010,
        {200: ("A page of results.", v2010_page("add_on_results", _ref(RESULT)))},
        parameters=(*RECORDING_PATH, *PAGING), errors=(400, 404),
    ),
    ("recordings.api.views.AddOnResultDetail", "GET"): Operation(
        "FetchRecordingAddOnResult", "One add-on result.", API_2010, {200: resource("The result.", RESULT)},
        parameters=(*RECORDING_PATH, path_sid("sid", "XR", "AddOnResult")), errors=(404,),
    ),
    ("recordings.api.views.AddOnResultDetail", "DELETE"): Operation(
        "DeleteRecordingAddOnResult", "Delete an add-on result and its payloads.", API_2010, DELETED,
        parameters=(*RECORDING_PATH, path_sid("sid", "XR", "AddOnResult")), errors=(404,),
    ),
    ("recordings.api.views.PayloadList", "GET"): Operation(
        "ListRecordingAddOnResultPayload", "The payloads of an add-on result.", API_2010,
        {200: ("A page of payloads.", v2010_page("payloads", _ref(PAYLOAD)))},
        parameters=(*RESULT_PATH, *PAGING), errors=(400, 404),
    ),
    ("recordings.api.views.PayloadDetail", "GET"): Operation(
        "FetchRecordingAddOnResultPayload", "One payload.", API_2010, {200: resource("The payload.", PAYLOAD)},
        parameters=(*RESULT_PATH, path_sid("sid", "XH", "Payload")), errors=(404,),
    ),
    ("recordings.api.views.PayloadDetail", "DELETE"): Operation(
        "DeleteRecordingAddOnResultPayload", "Delete a payload.", API_2010, DELETED,
        parameters=(*RESULT_PATH, path_sid("sid", "XH", "Payload")), errors=(404,),
    ),
    ("recordings.api.views.PayloadData", "GET"): Operation(
        "FetchRecordingAddOnResultPayloadData", "Where to download a payload's data.", API_2010,
        {307: resource("Redirect to a signed URL that expires.", PAYLOAD_DATA)},
        parameters=(*RESULT_PATH, path_sid("sid", "XH", "Payload")), errors=(404,),
    ),
}


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


def _error_responses(codes):
    return {code: (ERROR_DESCRIPTIONS[code], _ref(ERROR)) for code in codes}


def declared_responses(operation):
    """Every status the operation answers with: its own, its 4xx, and 401, 403, 429."""
    responses = dict(operation.responses)
    errors = set(operation.errors)
    if operation.security:
        errors |= {401, 403, 429}
    responses.update(_error_responses(sorted(errors)))
    return responses


class MarketplaceAutoSchema(AutoSchema):
    """Reads each operation from OPERATIONS instead of from serializers the views do not have."""

    def declared(self):
        view = type(self.view)
        return OPERATIONS.get((f"{view.__module__}.{view.__qualname__}", self.method))

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        self.method = method.upper()
        operation = self.declared()
        if operation is None:
            if self.is_excluded():  # drf-spectacular's own views
                return None
            view = type(self.view)
            warn(f"{method} {path} ({view.__module__}.{view.__qualname__}) is not declared in marketplace.api.schema")
            return super().get_operation(path, path_regex, path_prefix, method, registry)
        register_components(registry, [ERROR, *_refs_in(declared_responses(operation)), *_refs_in(operation.body)])
        result = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation.body_required and "requestBody" in result:
            result["requestBody"]["required"] = True
        if not operation.security:
            result["security"] = []
        return result

    def get_operation_id(self):
        operation = self.declared()
        return operation.operation_id if operation else super().get_operation_id()

    def get_summary(self):
        operation = self.declared()
        return operation.summary if operation else super().get_summary()

    def get_description(self):
        operation = self.declared()
        return operation.description if operation else super().get_description()

    def get_tags(self):
        operation = self.declared()
        return [operation.tag] if operation else super().get_tags()

    def get_override_parameters(self):
        operation = self.declared()
        if operation is None:
            return super().get_override_parameters()
        return [*operation.parameters, *RESPONSE_HEADERS]

    def get_request_serializer(self):
        operation = self.declared()
        if operation is None:
            return super().get_request_serializer()
        return operation.body

    def get_response_serializers(self):
        operation = self.declared()
        if operation is None:
            return super().get_response_serializers()
        serializers = {}
        for status, (description, schema) in declared_responses(operation).items():
            key = status if isinstance(status, tuple) else (status, JSON) if schema is not None else status
            serializers[key] = OpenApiResponse(response=schema, description=description)
        return serializers


# --- the plain Django views -----------------------------------------------------------------


def _error_response_objects(codes, media_type=JSON):
    return {
        str(code): {"description": ERROR_DESCRIPTIONS[code], "content": {media_type: {"schema": _ref(ERROR)}}}
        for code in codes
    }


def _json_response(description, schema):
    return {"description": description, "content": {JSON: {"schema": schema}}}


PLAIN_VIEWS = {
    "marketplace.health.healthz": {
        "get": {
            "operationId": "FetchHealth",
            "summary": "Liveness: the process is up and answering.",
            "tags": ["Operations"],
            "security": [],
            "responses": {"200": _json_response("Up.", _ref("health"))},
        }
    },
    "marketplace.health.readyz": {
        "get": {
            "operationId": "FetchReadiness",
            "summary": "Readiness: the database, the task broker and the shared cache are reachable.",
            "tags": ["Operations"],
            "security": [],
            "responses": {
                "200": _json_response("Ready.", _ref("readiness")),
                "503": _json_response("Not ready: the failing check says why.", _ref("readiness")),
            },
        }
    },
    "recordings.views.add_on_result_callback": {
        "post": {
            "operationId": "CreateAddOnResultCallback",
            "summary": "A publisher delivers a recording add-on's result, once, to its `{{callback_url}}`.",
            "description": "HTTP Basic as the add-on's publisher account. The body (JSON, up to 100 MB) is "
            "streamed to storage, checked by the listing's response rules and kept as the result's Payload.",
            "tags": ["Callbacks"],
            "parameters": [
                {
                    "name": "result_sid",
                    "in": "path",
                    "required": True,
                    "schema": sid_schema("XR"),
                    "description": "The AddOnResult the callback URL was made for.",
                },
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The one-time token of the callback URL; anything else answers 404.",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"description": "The add-on's result, as the publisher makes it."}}},
            },
            "security": [{SECURITY_SCHEME: []}],
            "responses": {
                "200": _json_response("Taken: the result's new status.", _ref("callbacks.v1.add_on_result")),
                **_error_response_objects((401, 403, 404, 409, 410, 413)),
            },
        }
    },
    "recordings.views.payload_download": {
        "get": {
            "operationId": "FetchPayloadDownload",
            "summary": "A payload's stored data, at the signed URL a Payload's Data gives (`redirect_to`).",
            "tags": ["Callbacks"],
            "security": [],
            "parameters": [
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The signed, expiring token of the download URL.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The payload as the publisher sent it, as an attachment (`nosniff`): "
                    "`application/json` when it was posted as JSON, else `application/octet-stream`.",
                    "content": {
                        "application/json": {"schema": {"description": "The stored bytes, unchanged."}},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "404": {
                    "description": "The link is invalid or has expired (an HTML page, like any non-API URL).",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
            },
        }
    },
}


def openapi_path(route):
    """A Django route as an OpenAPI path: `<str:sid>` becomes `{sid}`."""
    return "/" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route)


def url_patterns(patterns=None, prefix=""):
    """(route, callback) of every URL pattern of the project, included ones too."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def add_plain_django_views(result, generator, request, public):
    """Postprocessing hook: the Django views outside DRF (probes, callback, downloads)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for route, callback in url_patterns():
        name = f"{callback.__module__}.{callback.__name__}"
        if name not in PLAIN_VIEWS:
            continue
        item = copy.deepcopy(PLAIN_VIEWS[name])
        result["paths"][openapi_path(route)] = item
        pending = list(_refs_in(item))
        while pending:
            component = pending.pop()
            if component not in schemas:
                schemas[component] = component_schema(component)
                pending.extend(_refs_in(schemas[component]))
    result["paths"] = dict(sorted(result["paths"].items()))
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
