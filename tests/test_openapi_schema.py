"""The OpenAPI description we serve: valid OpenAPI 3, complete, and its docs page self-hosted.

`/openapi.json` is built by drf-spectacular from the `@operation` beside each view; `/docs/` is Swagger
UI from drf-spectacular-sidecar. Schemathesis holds the server to this description
(tests/test_schemathesis.py); these tests hold the description to the URLconf.
"""

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version
from rest_framework.views import APIView

# URL patterns that are not the API: Django's admin, the console, the description itself.
NOT_API = re.compile(r"^(admin/|console/|openapi\.json$|docs/|$)")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def api_url_patterns(patterns=None, prefix=""):
    """(route, callback) of every URL pattern of the project's API, walking get_resolver()."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not NOT_API.match(route) or route == "":
                yield from api_url_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and not NOT_API.match(route):
            yield route, pattern.callback


def as_openapi_path(route):
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@pytest.fixture(scope="module")
def served():
    from django.test import Client

    response = Client().get("/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_served_description_is_valid_openapi_3(served):
    assert served["openapi"].startswith("3.0")
    assert get_spec_version(served).major == "3"
    validate(served)  # raises on any violation of the OpenAPI 3.0 specification
    assert served["components"]["securitySchemes"] == {
        "accountSid_authToken": {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic with `AccountSid:AuthToken` or `ApiKeySid:Secret`.",
        }
    }


def test_drf_spectacular_builds_it_without_a_warning():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._warn_cache)


def test_every_api_url_pattern_has_its_operations(served):
    patterns = list(api_url_patterns())
    assert len(patterns) >= 35
    for route, callback in patterns:
        path = as_openapi_path(route)
        assert path in served["paths"], f"{route} ({callback.__module__}.{callback.__name__}) is not described"
        documented = {m for m in HTTP_METHODS if m in served["paths"][path]}
        view = getattr(callback, "cls", None)
        if view is not None and issubclass(view, APIView):
            served_methods = {m for m in HTTP_METHODS if hasattr(view, m)}
            assert documented == served_methods, f"{path}: documented {documented}, served {served_methods}"
        else:
            assert documented, f"{path} has no operation"
    described = {as_openapi_path(route) for route, _ in patterns}
    assert set(served["paths"]) == described, "the description has paths the URLconf does not serve"


def test_plain_views_answer_405_to_the_methods_not_described(served, client):
    plain = [
        (as_openapi_path(route), route)
        for route, callback in api_url_patterns()
        if not (getattr(callback, "cls", None) and issubclass(callback.cls, APIView))
    ]
    assert {path for path, _ in plain} >= {"/healthz", "/readyz"}
    for path, route in plain:
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "x", route)
        for method in HTTP_METHODS:
            if method not in served["paths"][path]:
                assert getattr(client, method)(url).status_code == 405, f"{method.upper()} {path}"


def test_every_operation_is_complete(served):
    ids = [op["operationId"] for _, _, op in operations(served)]
    assert len(ids) == len(set(ids)), "operationIds are not unique"
    anonymous = {"/healthz", "/readyz", "/downloads/v1/Payloads/{token}"}
    for path, method, op in operations(served):
        where = f"{method.upper()} {path}"
        assert op.get("summary") and op.get("tags"), where
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), where
        if path in anonymous:
            assert op["security"] == [], where
        else:
            assert op["security"] == [{"accountSid_authToken": []}], where
            assert {"401", "403"} <= set(op["responses"]), where
        statuses = set(op["responses"])
        assert any(s < "400" for s in statuses), f"{where} describes no success"
        for status, response in op["responses"].items():
            if "400" <= status < "500" and path != "/downloads/v1/Payloads/{token}":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/TwilioServiceErrorResponse"}, f"{where} {status}"
        if method == "post":
            body = op["requestBody"]["content"]
            assert set(body) <= {
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "application/json",
            }, where
        if method == "get" and any(p["name"] == "PageToken" for p in op.get("parameters", [])):
            assert {"PageSize", "Page"} <= {p["name"] for p in op["parameters"]}, where


def test_form_parameters_are_the_ones_the_views_read(served):
    """Spot checks against the views' params.* calls."""
    form = "application/x-www-form-urlencoded"

    def body(path, method="post"):
        return served["paths"][path][method]["requestBody"]["content"][form]["schema"]

    install = body("/v1/InstalledAddOns")
    assert set(install["properties"]) == {"AvailableAddOnSid", "AcceptTermsOfService", "Configuration", "UniqueName"}
    assert set(install["required"]) == {"AvailableAddOnSid", "AcceptTermsOfService"}
    numbers = body("/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json")
    assert set(numbers["properties"]) == {
        "PhoneNumber",
        "AreaCode",
        "FriendlyName",
        "SmsUrl",
        "SmsMethod",
        "VoiceUrl",
        "VoiceMethod",
    }
    assert set(body("/sandbox/v1/Messages")["required"]) == {"From", "To", "Body"}
    assert set(body("/sandbox/v1/Listings/{listing_sid}/TestInvocations")["properties"]) == {
        "VersionSid",
        "IntegrationPoint",
        "PrimaryAddress",
        "SecondaryAddress",
        "Body",
        "Configuration",
        "RuntimeData",
    }
    usage = served["paths"]["/v1/InstalledAddOns/{installation_sid}/Usage"]["post"]
    assert list(usage["requestBody"]["content"]) == ["application/json"]
    upload = served["paths"]["/sandbox/v1/Recordings"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["properties"]["Audio"]["format"] == "binary"
    records = served["paths"]["/2010-04-01/Accounts/{account_sid}/Usage/Records.json"]["get"]
    assert {"Category", "StartDate", "EndDate", "PageSize", "Page", "PageToken"} <= {
        p["name"] for p in records["parameters"]
    }


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_the_docs_page_loads_and_uses_only_local_assets(client):
    response = client.get("/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", page) == [], "the page names another host"
    # Its start-up script is served from our URL, not inline (the Content-Security-Policy).
    assert "<script>" not in page and '<script src="/docs/?script="></script>' in page
    script = client.get("/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert '"/openapi.json"' in script.content.decode()
    parser = _Assets()
    parser.feed(page)
    assert len(parser.urls) >= 5  # the favicon, the stylesheet, the bundle, its preset and the start-up script
    for url in parser.urls:
        if url == "/docs/?script=":
            continue
        assert url.startswith("/static/drf_spectacular_sidecar/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content) if asset.streaming else asset.content, url
