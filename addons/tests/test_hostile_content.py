"""Hostile content: a publisher's or a customer's data must cost its sender, never a neighbour.

- a publisher's regular expressions run on RE2 (linear time), its schemas within a work limit;
- JSON from a participant (publisher answers, recording callbacks, Configuration, request
  bodies) is parsed with depth and content limits: too deep is that add-on's failure (61029)
  or a 400 naming the parameter, never a 500;
- in a lookup with several add-ons, every call made is recorded and billed by its own verdict;
- NUL in a query parameter is a 400 naming it (PostgreSQL text cannot hold NUL);
- `{{body}}` cannot go in a header (refused at import); a message with any text or line
  breaks reaches a publisher that sends it in a param, byte for byte.
Real publishers on loopback (pytest-httpserver), the real database, the front door.
"""

import hashlib
import json
import time

import pytest
from werkzeug import Response

from addons.models import InstalledAddOn, Invocation, Listing, Notification
from billing.models import BillingEvent
from invocation import engine
from marketplace import untrusted_json
from marketplace.errors import InvalidManifest
from recordings import services as recording_services
from recordings.models import AddOnResult
from tests.fixtures.faults import FAKE, HEALTHY, NUMBER, assert_failed, assert_healthy, lookup

EVIL = "^(a+)+$"
# Python's re needs ~2^n steps for this against EVIL; RE2 needs n.
EVIL_INPUT = "a" * 5000 + "!"
# A generous bound that only proves "did not hang": Python's re would take longer than the universe.
DID_NOT_HANG_S = 10


def answering(server, path, body, *, status=200):
    """`server` answers POST `path` with `body` (bytes or str) as JSON."""
    server.expect_request(path, method="POST").respond_with_handler(
        lambda request: Response(body, status=status, content_type="application/json")
    )
    return server.url_for(path)


def assert_billed(add_ons, name=HEALTHY):
    """The bystander's call was recorded and billed by its own verdict."""
    sid = add_ons["results"][name]["request_sid"]
    assert BillingEvent.objects.filter(reference=sid, key=f"invocation:{sid}").count() == 1


# --- linear-time regular expressions -------------------------------------------------------


@pytest.mark.parametrize(
    "member,schema,path",
    [
        (
            "response_validation_schema",
            {"type": "object", "properties": {"name": {"type": "string", "pattern": "^(?=a)a+$"}}},
            "$.response_validation_schema.properties.name.pattern",
        ),
        (
            "request_validation_schema",
            {"type": "object", "properties": {"primary_address": {"pattern": "^(\\+1)\\1$"}}},
            "$.request_validation_schema.properties.primary_address.pattern",
        ),
        (
            "response_validation_schema",
            {"type": "object", "patternProperties": {"^(?!x)": {"type": "string"}}},
            "$.response_validation_schema.patternProperties",
        ),
    ],
    ids=["lookahead", "backreference", "pattern-properties"],
)
def test_a_pattern_re2_cannot_run_is_refused_at_import_with_its_path(make_listing, member, schema, path):
    with pytest.raises(InvalidManifest) as refused:
        make_listing(**{member: schema})
    details = [d for d in refused.value.details if d["path"] == path]
    assert details, refused.value.details
    assert "regex the platform can run" in details[0]["message"] and "RE2" in details[0]["message"]
    assert not Listing.objects.exists()  # nothing half-written


def test_a_configuration_pattern_re2_cannot_run_is_refused_at_import(make_listing):
    code = {"type": "string", "pattern": "(a)\\1"}
    schema = {"type": "object", "properties": {"language": {"type": "string"}, "code": code}}
    with pytest.raises(InvalidManifest) as refused:
        make_listing(configuration_schema=schema)
    assert [d["path"] for d in refused.value.details] == ["$.configuration_schema.properties.code.pattern"]
    assert not Listing.objects.exists()


def test_unevaluated_properties_with_pattern_properties_is_refused_at_import(make_listing):
    # jsonschema's unevaluatedProperties would match the patterns with Python's re.
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "patternProperties": {"^a": {"type": "string"}},
        "unevaluatedProperties": False,
    }
    with pytest.raises(InvalidManifest) as refused:
        make_listing(response_validation_schema=schema)
    assert "$.response_validation_schema.unevaluatedProperties" in [d["path"] for d in refused.value.details]


def test_a_redos_pattern_in_a_response_schema_answers_in_time_and_spares_the_bystander(
    api, customer, publisher, serve, healthy, installed_at
):
    server = serve()
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": EVIL}}}
    installed_at(
        answering(server, "/evil", json.dumps({"name": EVIL_INPUT})),
        unique_name=FAKE,
        manifest_overrides={"response_validation_schema": schema},
    )
    started = time.monotonic()
    add_ons = lookup(api, FAKE, HEALTHY)
    assert time.monotonic() - started < DID_NOT_HANG_S
    # The schema's own verdict: the name does not match.
    assert_failed(
        add_ons,
        61026,
        "schema_rejected",
        words=["does not match", "name"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_healthy(add_ons)
    assert_billed(add_ons)


def test_the_same_pattern_accepts_what_it_matches(api, serve, installed_at):
    server = serve()
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": EVIL}}}
    installed_at(
        answering(server, "/fine", json.dumps({"name": "a" * 5000})),
        unique_name=FAKE,
        manifest_overrides={"response_validation_schema": schema},
    )
    result = lookup(api, FAKE)["results"][FAKE]
    assert result["status"] == "successful"
    assert Invocation.objects.get(sid=result["request_sid"]).billable is True


def test_ecma_dollar_is_the_end_of_the_string(api, serve, installed_at):
    # Python's `$` would also match before a final newline; RE2's, like ECMA 262's, does not.
    server = serve()
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}}}
    installed_at(
        answering(server, "/nl", json.dumps({"id": "abc\n"})),
        unique_name=FAKE,
        manifest_overrides={"response_validation_schema": schema},
    )
    assert lookup(api, FAKE)["results"][FAKE]["code"] == 61026


def test_a_redos_pattern_in_patternproperties_and_additional_properties_runs_on_re2(
    api, customer, publisher, serve, healthy, installed_at
):
    server = serve()
    schema = {"type": "object", "patternProperties": {EVIL: {"type": "string"}}, "additionalProperties": False}
    installed_at(
        answering(server, "/keys", json.dumps({EVIL_INPUT: "x"})),
        unique_name=FAKE,
        manifest_overrides={"response_validation_schema": schema},
    )
    started = time.monotonic()
    add_ons = lookup(api, FAKE, HEALTHY)
    assert time.monotonic() - started < DID_NOT_HANG_S
    assert_failed(
        add_ons,
        61026,
        "schema_rejected",
        words=["do not match any of the regexes"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_healthy(add_ons)


def test_a_redos_pattern_in_a_request_schema_is_judged_in_time(api, customer, serve, healthy, installed_at):
    server = serve()
    schema = {"type": "object", "properties": {"primary_address": {"type": "string", "pattern": "^(\\+?1*4*)+$"}}}
    installed_at(
        answering(server, "/unused", "{}"),
        unique_name=FAKE,
        manifest_overrides={"request_validation_schema": schema},
    )
    started = time.monotonic()
    add_ons = lookup(api, FAKE, HEALTHY)
    assert time.monotonic() - started < DID_NOT_HANG_S
    assert add_ons["results"][FAKE]["code"] == 61003  # the number does not match: not called
    assert not server.log
    assert_healthy(add_ons)


def test_a_redos_pattern_in_a_configuration_schema_answers_400_in_time(api, make_listing):
    code = {"type": "string", "pattern": EVIL}
    schema = {"type": "object", "properties": {"language": {"type": "string"}, "code": code}}
    listing = make_listing(configuration_schema=schema)
    started = time.monotonic()
    reply = api.post(
        "/v1/InstalledAddOns",
        {
            "AvailableAddOnSid": listing.sid,
            "AcceptTermsOfService": "true",
            "Configuration": json.dumps({"code": EVIL_INPUT}),
        },
    )
    assert time.monotonic() - started < DID_NOT_HANG_S
    assert reply.status_code == 400
    assert "Configuration" in reply.json()["message"] and "must match the pattern" in reply.json()["message"]
    assert not InstalledAddOn.objects.exists()


def test_exponential_schema_work_is_cut_off_and_spares_the_bystander(
    api, customer, publisher, serve, healthy, installed_at
):
    # oneOf evaluates every branch: two references to the root per level is 2^depth work.
    schema = {"type": ["object", "array"], "items": {"oneOf": [{"$ref": "#"}, {"$ref": "#"}]}}
    nested = {"n": None}
    for _ in range(30):
        nested = [nested]
    server = serve()
    installed_at(
        answering(server, "/costly", json.dumps({"data": nested})),
        unique_name=FAKE,
        manifest_overrides={"response_validation_schema": {**schema, "properties": {"data": schema}}},
    )
    started = time.monotonic()
    add_ons = lookup(api, FAKE, HEALTHY)
    assert time.monotonic() - started < DID_NOT_HANG_S
    assert_failed(
        add_ons,
        61026,
        "schema_rejected",
        words=["platform's limit"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_healthy(add_ons)
    assert_billed(add_ons)


def test_unique_items_over_many_objects_is_not_quadratic(api, serve, installed_at):
    server = serve()
    schema = {"type": "object", "properties": {"items": {"type": "array", "uniqueItems": True}}}
    items = [{"k": i} for i in range(3000)]  # ~30 KB: under the 50 KB response limit
    installed_at(
        answering(server, "/unique", json.dumps({"items": items})),
        unique_name=FAKE,
        manifest_overrides={"response_validation_schema": schema},
    )
    started = time.monotonic()
    assert lookup(api, FAKE)["results"][FAKE]["status"] == "successful"
    assert time.monotonic() - started < DID_NOT_HANG_S
    server.clear()
    installed_at(
        answering(server, "/dup", json.dumps({"items": [{"k": 1}, {"k": 1.0}]})),
        unique_name="dup",
        manifest_overrides={"response_validation_schema": schema},
    )
    assert lookup(api, "dup")["results"]["dup"]["code"] == 61026  # 1 and 1.0 are the same JSON number


def test_python_re_never_runs_a_publisher_pattern(monkeypatch):
    """jsonschema's own keywords call re.search: with `re` gone from its modules, every
    keyword that takes a pattern still works, so none of them runs on Python's re."""
    import jsonschema._keywords
    import jsonschema._legacy_keywords
    import jsonschema._utils

    from invocation.verdict import schema_problems

    class NoPythonRe:
        def __getattr__(self, name):
            raise AssertionError(f"Python's re.{name} ran a publisher's pattern")

    for module in (jsonschema._keywords, jsonschema._utils, jsonschema._legacy_keywords):
        monkeypatch.setattr(module, "re", NoPythonRe())
    schema = {
        "type": "object",
        "properties": {"a": {"pattern": "^x+$"}},
        "patternProperties": {"^p_": {"type": "integer"}},
        "additionalProperties": False,
    }
    assert schema_problems(schema, {"a": "xx", "p_1": 1}) == []
    problems = schema_problems(schema, {"a": "y", "p_1": "s", "other": 1})
    assert len(problems) == 3
    for dialect in ("http://json-schema.org/draft-04/schema#", "https://json-schema.org/draft/2020-12/schema"):
        assert schema_problems({**schema, "$schema": dialect}, {"a": "y"}) != []


# --- untrusted JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,words",
    [
        ("[" * 45000, ["nested deeper than"]),
        ('{"a": ' + "[" * 100 + "]" * 100 + "}", ["nested deeper than"]),
        ('{"a": "x\\u0000y"}', ["NUL"]),
        ('{"a": "\\ud800"}', ["surrogate"]),
        ('{"a": NaN}', ["NaN"]),
        ('{"a": 1e999}', ["out of range"]),
    ],
    ids=["45000-brackets", "depth-100", "nul", "lone-surrogate", "nan", "infinity"],
)
def test_json_a_publisher_cannot_store_fails_its_add_on_only(
    api, customer, publisher, serve, healthy, installed_at, body, words
):
    server = serve()
    installed_at(answering(server, "/deep", body), unique_name=FAKE)
    add_ons = lookup(api, FAKE, HEALTHY)
    assert add_ons["code"] == 61029
    assert_failed(
        add_ons,
        61029,
        "unsafe_json",
        words=["beyond the platform's limits", *words],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_healthy(add_ons)
    assert_billed(add_ons)


def test_an_unexpected_failure_judging_one_answer_spares_the_others(
    api, customer, publisher, serve, healthy, installed_at, monkeypatch
):
    """Fault injection for a bug we do not know of yet: judging the fake's answer raises.
    The fake is recorded (61030, not billed), the healthy add-on recorded and billed."""
    server = serve()
    fake_url = answering(server, "/bug", '{"ok": true}')
    installed_at(fake_url, unique_name=FAKE)
    real_judge = engine.judge

    def judge(exchange, target):
        if target.unique_name == FAKE:
            raise RuntimeError("a bug")
        return real_judge(exchange, target)

    monkeypatch.setattr(engine, "judge", judge)
    add_ons = lookup(api, FAKE, HEALTHY)
    invocation = assert_failed(
        add_ons,
        61030,
        "platform_error",
        words=["not billed"],
        http_status=200,
        attempts=1,
        sla_breach=False,
        customer=customer,
        publisher=publisher,
    )
    assert not BillingEvent.objects.filter(reference=invocation.sid).exists()
    assert_healthy(add_ons)
    assert_billed(add_ons)


@pytest.mark.parametrize(
    "configuration,words",
    [
        ("[" * 45000, ["nested deeper than"]),
        ('{"language": "en\\u0000"}', ["NUL"]),
        ('{"language": NaN}', ["NaN"]),
    ],
    ids=["deep", "nul", "nan"],
)
def test_configuration_json_beyond_the_limits_is_a_400_naming_it(api, listing, configuration, words):
    reply = api.post(
        "/v1/InstalledAddOns",
        {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": configuration},
    )
    assert reply.status_code == 400, reply
    body = reply.json()
    assert body["code"] == 20001 and "Configuration" in body["message"]
    assert all(word in body["message"] for word in words)
    assert not InstalledAddOn.objects.exists()


def test_a_deep_usage_body_is_a_400(api_for, publisher):
    client = api_for(publisher)
    path = "/v1/InstalledAddOns/XE" + "0" * 32 + "/Usage"
    reply = client._done(
        "POST", path, client.client.post(path, "[" * 45000, content_type="application/json", **client.headers)
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == 20001 and "nested deeper than" in reply.json()["message"]
    assert not BillingEvent.objects.exists()


def test_a_deep_recording_callback_fails_that_result_with_61029(
    publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    reply = post_callback(recording_services.callback_url(result.sid), publisher, b"[" * 45000)
    assert reply.status_code == 200
    result.refresh_from_db()
    assert (result.status, result.error_code, result.billable_minutes) == ("failed", 61029, 0)


def test_the_parser_refuses_what_it_promises():
    assert untrusted_json.loads('{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}
    assert untrusted_json.loads("[" * 32 + "]" * 32) is not None
    for text, kind in [
        ("[" * 33 + "]" * 33, "too_deep"),
        ('{"a":' * 45000, "too_deep"),
        ('{"\\u0000": 1}', "unstorable"),
        ("-Infinity", "unstorable"),
        ("{", "not_json"),
        (b"\xff", "not_json"),
    ]:
        with pytest.raises(untrusted_json.UntrustedJSON) as refused:
            untrusted_json.loads(text)
        assert refused.value.kind == kind, text[:40]
    with pytest.raises(untrusted_json.UntrustedJSON) as refused:
        untrusted_json.loads("[1]", max_bytes=2)
    assert refused.value.kind == "too_large"


# --- NUL in query parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path,param",
    [
        ("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json?FriendlyName=a%00b", "FriendlyName"),
        ("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json?PhoneNumber=%2B1%00", "PhoneNumber"),
        ("/v1/Alerts?LogLevel=error%00", "LogLevel"),
        ("/2010-04-01/Accounts/{account}/Usage/Records.json?Category=%00", "Category"),
        ("/v1/PhoneNumbers/+14155552671?AddOns=x%00", "AddOns"),
        ("/v1/InstalledAddOns?PageToken=%00", "PageToken"),
        ("/v1/AvailableAddOns?Evil%00=1", "Evil%00"),
    ],
)
def test_nul_in_a_query_parameter_is_a_400_naming_it(api, customer, path, param):
    reply = api.get(path.format(account=customer.sid))
    assert reply.status_code == 400, reply
    body = reply.json()
    assert body["code"] == 20001
    assert f"'{param}'" in body["message"] and "NUL" in body["message"]


def test_nul_in_a_form_field_is_a_400_naming_it(api, customer):
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": "+14155552671", "FriendlyName": "a\x00b"},
    )
    assert reply.status_code == 400
    assert "'FriendlyName'" in reply.json()["message"]


# --- message bodies and headers ------------------------------------------------------------


def message_manifest(url, **endpoint):
    return {
        "unique_name": "tone",
        "type": "message_analysis",
        "extensions": ["incoming-sms"],
        "configuration_schema": {"type": "object", "properties": {}},
        "endpoint": {
            "url": url,
            "method": "POST",
            "format": "form",
            "params": {"text": "{{body}}"},
            "auth": {"type": "none"},
            "headers": {},
            "timeout_ms": 2000,
            "retries": 0,
            "ttl_ms": 5000,
            **endpoint,
        },
    }


@pytest.mark.parametrize(
    "endpoint,path",
    [
        ({"headers": {"X-Text": "said: {{body}}"}}, "$.endpoint.headers['X-Text']"),
        ({"auth": {"type": "bearer", "token": "{{body}}"}}, "$.endpoint.auth.token"),
    ],
    ids=["header", "bearer-token"],
)
def test_body_in_a_header_is_refused_at_import(make_listing, endpoint, path):
    with pytest.raises(InvalidManifest) as refused:
        make_listing(**message_manifest("http://127.0.0.1:9/x", **endpoint))
    details = [d for d in refused.value.details if d["path"] == path]
    assert details and "{{body}} cannot go in a header" in details[0]["message"], refused.value.details
    assert not Listing.objects.exists()


@pytest.mark.parametrize(
    "text",
    ["Grüße aus Köln — 東京 ✓ 🎉", "first line\r\nX-Injected: yes\r\n\r\nlast"],
    ids=["non-latin-1", "cr-lf"],
)
def test_any_message_text_reaches_the_publisher_in_a_param(api, customer, make_listing, httpserver, text):
    """The text goes as a param; a header may carry its SHA-256 (hex, always header-safe)."""
    seen = []

    def handler(request):
        seen.append(request)
        return Response(json.dumps({"tone": "ok"}), content_type="application/json")

    httpserver.expect_request("/tone", method="POST").respond_with_handler(handler)
    manifest = message_manifest(httpserver.url_for("/tone"), headers={"X-Text-SHA256": "{{SHA256:body}}"})
    listing = make_listing(**manifest)
    reply = api.post(
        "/v1/InstalledAddOns",
        {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": "{}", "UniqueName": "tone"},
    )
    assert reply.status_code == 201, reply
    hook = httpserver.url_for("/hook")
    httpserver.expect_request("/hook").respond_with_data("<Response/>", content_type="text/xml")
    number = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": NUMBER, "SmsUrl": hook}
    )
    assert number.status_code == 201

    reply = api.post("/sandbox/v1/Messages", {"From": "+18005550100", "To": NUMBER, "Body": text})

    assert reply.status_code in (200, 201), reply
    invocation = Invocation.objects.get()
    assert (invocation.status, invocation.billable) == ("successful", True)
    (request,) = seen
    assert request.form["text"] == text
    assert request.headers["X-Text-SHA256"] == hashlib.sha256(text.encode()).hexdigest()
    assert "X-Injected" not in request.headers
    assert not Notification.objects.filter(error_code=61028).exists()


# --- the console ---------------------------------------------------------------------------


@pytest.mark.parametrize("configuration", ["[" * 45000, '{"language": "en\\u0000"}'], ids=["deep", "nul"])
def test_the_console_refuses_configuration_json_beyond_the_limits(customer, listing, configuration):
    from tests.fixtures.core import console_client

    console = console_client(customer, "cust")
    reply = console.post(
        f"/console/catalog/{listing.sid}/install/",
        {"unique_name": "x", "accept_terms": "on", "configuration": configuration},
    )
    assert reply.status_code == 200  # the form again, with its errors: not a 500
    assert not InstalledAddOn.objects.exists()


def test_the_test_console_refuses_deep_json(publisher, listing):
    from tests.fixtures.core import console_client

    console = console_client(publisher, "pub")
    reply = console.post(
        f"/console/publisher/listings/{listing.sid}/test/",
        {"version": listing.latest_version.sid, "integration_point": "lookups", "configuration": "[" * 45000},
    )
    assert reply.status_code == 200
    assert "Not valid JSON" in reply.content.decode() and "nested deeper than" in reply.content.decode()
    assert not Invocation.objects.exists()
