"""Fault injection: real publishers on loopback misbehave, Lookups must keep its promises.

Every case goes through the front door (GET /v1/PhoneNumbers/{number}?AddOns=...) with a
faulty publisher and a healthy one side by side, and checks what the customer sees, what
was recorded (Invocation) and who was told (Notification). Well-behaved HTTP faults use
pytest-httpserver; publishers that break HTTP itself are raw sockets (RawServer). Every
server here stops by itself: bounded loops, socket timeouts, an event set at teardown.
"""

import gzip
import json
import socket
import threading
import time

import pytest
from twilio.request_validator import RequestValidator
from werkzeug import Response

from addons.models import Extension, InstalledAddOn, Invocation, Listing, Notification
from tests.fixtures.faults import FAKE, HEALTHY, NUMBER, assert_failed, assert_healthy, lookup
from tests.private_services import free_port

LIMIT = 50 * 1024  # settings.ADDON_RESPONSE_LIMITS["phone_number"]
SLEEP_S = 1.5
TWILIO_HEADERS = (
    "X-Twilio-VendorAccountSid",
    "X-Twilio-Signature",
    "X-Twilio-RequestSid",
    "X-Twilio-AddOnSid",
    "X-Twilio-AddOnVersionSid",
    "X-Twilio-AddOnInstallSid",
    "X-Twilio-AddOnConfigurationSid",
)


# --- servers ----------------------------------------------------------------------------


class RawServer:
    """A TCP server whose every connection runs `behaviour(server, conn)` on its own thread.

    For publishers that break HTTP. It accepts for at most `lifetime` seconds, every socket
    has a timeout, and `close()` (at teardown) stops the lot.
    """

    def __init__(self, behaviour, lifetime=8.0):
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.closed_by_client = threading.Event()
        self.connections = 0
        self.notes = {}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.deadline = time.monotonic() + lifetime
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self):
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            conn.settimeout(2.0)
            try:
                self.behaviour(self, conn)
            except OSError:  # the client went away: that is what some tests wait for
                self.notes["closed_at"] = time.monotonic()
                self.closed_by_client.set()

    def running(self):
        return not self.stopping.is_set() and time.monotonic() < self.deadline

    def close(self):
        self.stopping.set()
        self.listener.close()
        self.thread.join(timeout=2)


@pytest.fixture
def raw_server():
    servers = []

    def start(behaviour, **kwargs):
        server = RawServer(behaviour, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def read_request(conn):
    """Read one HTTP request (head and Content-Length body) off the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def json_of_size(size):
    """A valid JSON object of exactly `size` bytes."""
    text = '{"p":"' + "x" * (size - 8) + '"}'
    assert len(text) == size
    return text


# --- the lookup and what it must leave behind --------------------------------------------


def assert_one_failure(add_ons, code, *, notes=2):
    assert add_ons["status"] == "failed" and add_ons["code"] == code
    assert add_ons["message"] == f"1 of 2 add-ons failed: {FAKE}"
    # The customer's and (when it was called) the publisher's, for the failure only.
    assert Notification.objects.count() == notes
    assert_healthy(add_ons)


# --- 1. timeout ---------------------------------------------------------------------------


def test_a_publisher_slower_than_its_timeout_fails_with_61020(
    api, customer, publisher, serve, release, healthy, installed_at
):
    slow = serve()

    def sleepy(request):
        release.wait(SLEEP_S)
        return Response(json.dumps({"late": True}), content_type="application/json")

    slow.expect_request("/slow").respond_with_handler(sleepy)
    installed_at(slow.url_for("/slow"), unique_name=FAKE, timeout_ms=300)

    add_ons = lookup(api, FAKE, HEALTHY)

    invocation = assert_failed(
        add_ons,
        61020,
        "timeout",
        words=["deadline"],
        http_status=None,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert 200 <= invocation.latency_ms < SLEEP_S * 1000
    assert_one_failure(add_ons, 61020)


# --- 2. connection refused ----------------------------------------------------------------


def test_a_refused_connection_is_retried_then_fails_with_61021(api, customer, publisher, healthy, installed_at):
    installed_at(f"http://127.0.0.1:{free_port()}/nobody", unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61021,
        "connection_failed",
        words=["could not be reached", "Connection refused"],
        http_status=None,
        attempts=3,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_one_failure(add_ons, 61021)


def test_a_publisher_that_hangs_up_is_retried_with_the_same_request_sid(
    api, customer, publisher, raw_server, healthy, installed_at
):
    def hang_up(server, conn):
        server.notes.setdefault("sids", []).append(_header(read_request(conn), b"x-twilio-requestsid"))

    server = raw_server(hang_up)
    installed_at(server.url("/hang-up"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    invocation = assert_failed(
        add_ons,
        61021,
        "connection_failed",
        words=["could not be reached"],
        http_status=None,
        attempts=3,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert server.notes["sids"] == [invocation.sid.encode()] * 3
    assert_one_failure(add_ons, 61021)


def _header(raw, name):
    for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


# --- 3-5. HTTP status rules ---------------------------------------------------------------


def test_a_400_fails_at_once_with_61022(api, customer, publisher, httpserver, healthy, installed_at):
    httpserver.expect_request("/bad").respond_with_json({"detail": "bad number"}, status=400)
    installed_at(httpserver.url_for("/bad"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61022,
        "http_4xx",
        words=["refused the request", "HTTP 400"],
        http_status=400,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert len(httpserver.log) == 1
    assert_one_failure(add_ons, 61022)


def test_a_500_then_success_is_retried_with_the_same_request_sid(api, httpserver, healthy, installed_at):
    httpserver.expect_oneshot_request("/flaky").respond_with_data("oops", status=500)
    httpserver.expect_request("/flaky").respond_with_json({"second": "try"})
    installed_at(httpserver.url_for("/flaky"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    result = add_ons["results"][FAKE]
    assert (result["status"], result["code"], result["result"]) == ("successful", None, {"second": "try"})
    assert add_ons["status"] == "successful" and add_ons["code"] is None
    invocation = Invocation.objects.get(sid=result["request_sid"])
    assert (invocation.outcome, invocation.http_status, invocation.attempts) == ("success", 200, 2)
    assert (invocation.sla_breach, invocation.billable) == (False, True)
    seen = [request.headers["X-Twilio-RequestSid"] for request, _ in httpserver.log]
    assert seen == [invocation.sid, invocation.sid]
    assert [response.status_code for _, response in httpserver.log] == [500, 200]
    assert_healthy(add_ons)
    assert not Notification.objects.exists()


def test_a_500_every_time_fails_with_61023_after_every_retry(
    api, customer, publisher, httpserver, healthy, installed_at
):
    httpserver.expect_request("/down").respond_with_data("down", status=500)
    installed_at(httpserver.url_for("/down"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    invocation = assert_failed(
        add_ons,
        61023,
        "http_5xx",
        words=["server error", "HTTP 500", "after 3 attempts"],
        http_status=500,
        attempts=3,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert [r.headers["X-Twilio-RequestSid"] for r, _ in httpserver.log] == [invocation.sid] * 3
    assert_one_failure(add_ons, 61023)


# --- 6. size limit ------------------------------------------------------------------------


def test_one_byte_over_the_size_limit_fails_with_61024(api, customer, publisher, httpserver, healthy, installed_at):
    httpserver.expect_request("/big").respond_with_data(json_of_size(LIMIT + 1), content_type="application/json")
    installed_at(httpserver.url_for("/big"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61024,
        "too_large",
        words=["size limit", str(LIMIT)],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_one_failure(add_ons, 61024)


def test_exactly_the_size_limit_is_a_success(api, httpserver, healthy, installed_at):
    body = json_of_size(LIMIT)
    httpserver.expect_request("/big").respond_with_data(body, content_type="application/json")
    installed_at(httpserver.url_for("/big"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    result = add_ons["results"][FAKE]
    assert result["status"] == "successful" and result["result"] == json.loads(body)
    invocation = Invocation.objects.get(sid=result["request_sid"])
    assert (invocation.outcome, invocation.response_bytes, invocation.billable) == ("success", LIMIT, True)
    assert_healthy(add_ons)
    assert not Notification.objects.exists()


def test_an_endless_body_is_cut_off_with_61024(api, customer, publisher, raw_server, healthy, installed_at):
    def endless(server, conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b'{"p":"' + b"x" * 4090
        conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        piece = b"x" * 4096
        sent = 0
        while server.running() and sent < 200 * 1024 * 1024:  # bounded: 200 MB or the lifetime
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        server.notes["gave_up"] = True

    server = raw_server(endless)
    installed_at(server.url("/endless"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61024,
        "too_large",
        words=["size limit"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert server.closed_by_client.wait(5), "the platform kept reading the endless body"
    assert "gave_up" not in server.notes
    assert_one_failure(add_ons, 61024)


# --- 7-9. what a 200 may carry ------------------------------------------------------------


@pytest.mark.parametrize(
    "body,words",
    [
        ("<html>not json</html>", ["not a JSON object", "not JSON"]),
        ('[{"ok": true}]', ["not a JSON object", "a JSON array"]),
    ],
)
def test_a_200_without_a_json_object_fails_with_61025(
    api, customer, publisher, httpserver, healthy, installed_at, body, words
):
    httpserver.expect_request("/odd").respond_with_data(body, content_type="application/json")
    installed_at(httpserver.url_for("/odd"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61025,
        "invalid_response",
        words=words,
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_one_failure(add_ons, 61025)


def test_a_response_failing_its_validation_schema_fails_with_61026(
    api, customer, publisher, httpserver, healthy, installed_at
):
    schema = {"type": "object", "properties": {"score": {"type": "number"}}, "required": ["score"]}
    httpserver.expect_request("/scored").respond_with_json({"score": "high"})
    installed_at(
        httpserver.url_for("/scored"), unique_name=FAKE, manifest_overrides={"response_validation_schema": schema}
    )

    add_ons = lookup(api, FAKE, HEALTHY)

    invocation = assert_failed(
        add_ons,
        61026,
        "schema_rejected",
        words=["response validation schema", "score"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert invocation.result == {"score": "high"}  # kept for the publisher's debugging, not shown as a result
    assert_one_failure(add_ons, 61026)


def test_a_publisher_error_object_fails_with_61008_without_an_sla_breach(
    api, customer, publisher, httpserver, healthy, installed_at
):
    httpserver.expect_request("/quota").respond_with_json({"error": {"code": "x", "message": "quota exceeded"}})
    installed_at(httpserver.url_for("/quota"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61008,
        "publisher_error",
        words=["reported an error", "quota exceeded"],
        http_status=200,
        attempts=1,
        sla_breach=False,
        customer=customer,
        publisher=publisher,
    )
    assert_one_failure(add_ons, 61008)


# --- 10. request validation schema --------------------------------------------------------

UK_ONLY = {
    "type": "object",
    "properties": {"primary_address": {"type": "string", "pattern": "^\\+44"}},
    "required": ["primary_address"],
}


def test_a_request_failing_the_validation_schema_is_61003_and_never_sent(
    api, customer, publisher, httpserver, healthy, installed_at
):
    httpserver.expect_request("/uk").respond_with_json({"ok": True})
    installed_at(httpserver.url_for("/uk"), unique_name=FAKE, manifest_overrides={"request_validation_schema": UK_ONLY})

    add_ons = lookup(api, FAKE, HEALTHY)

    invocation = assert_failed(
        add_ons,
        61003,
        "requirements_not_met",
        words=["Requirements", "primary_address", NUMBER, "does not match"],
        http_status=None,
        attempts=0,
        sla_breach=False,
        customer=customer,
        publisher=publisher,
    )
    assert invocation.latency_ms is None and invocation.request == {}
    assert httpserver.log == []
    assert_one_failure(add_ons, 61003, notes=1)


# --- 11. signatures and the X-Twilio-* headers --------------------------------------------


def _signature_check(publisher, seen):
    """A handler verifying the signature as a publisher would, with the official validator."""

    def handle(request):
        url = f"http://{request.host}{request.environ['RAW_URI']}"
        signature = request.headers.get("X-Twilio-Signature", "")
        if request.mimetype == "application/json":
            params = request.get_data(as_text=True)
        elif request.method == "POST":
            params = request.form
        else:
            params = {}
        seen.update(
            headers={name: request.headers.get(name) for name in TWILIO_HEADERS},
            valid=RequestValidator(publisher.auth_token).validate(url, params, signature),
            valid_with_wrong_token=RequestValidator(publisher.auth_token[::-1]).validate(url, params, signature),
            args=request.args.to_dict(),
            form=request.form.to_dict(),
            json=request.get_json(silent=True),
        )
        status = 200 if seen["valid"] else 403
        return Response(json.dumps({"verified": seen["valid"]}), status=status, content_type="application/json")

    return handle


@pytest.mark.parametrize(
    "endpoint",
    [
        {"method": "POST", "format": "form"},
        {"method": "POST", "format": "json"},
        {"method": "GET", "format": "query"},
    ],
    ids=["form", "json", "query"],
)
def test_publishers_can_verify_every_request_with_the_official_validator(
    api, customer, publisher, httpserver, healthy, installed_at, endpoint
):
    seen = {}
    httpserver.expect_request("/signed", method=endpoint["method"]).respond_with_handler(
        _signature_check(publisher, seen)
    )
    installed_at(httpserver.url_for("/signed"), unique_name=FAKE, **endpoint)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert add_ons["results"][FAKE]["result"] == {"verified": True}
    assert seen["valid"] is True and seen["valid_with_wrong_token"] is False
    sent = {**seen["args"], **seen["form"], **(seen["json"] or {})}
    assert sent["number"] == NUMBER and sent["lang"] == "en"
    installation = InstalledAddOn.objects.get(account=customer, unique_name=FAKE)
    listing = Listing.objects.get(unique_name=FAKE)
    headers = seen["headers"]
    assert all(headers.values()), headers
    assert headers["X-Twilio-VendorAccountSid"] == publisher.sid
    assert headers["X-Twilio-AddOnSid"] == listing.sid
    assert headers["X-Twilio-AddOnVersionSid"] == listing.latest_version.sid == installation.version.sid
    assert headers["X-Twilio-AddOnInstallSid"] == installation.install_sid and installation.install_sid.startswith("XD")
    assert headers["X-Twilio-AddOnConfigurationSid"] == installation.sid and installation.sid.startswith("XE")
    assert headers["X-Twilio-RequestSid"] == add_ons["results"][FAKE]["request_sid"]
    assert headers["X-Twilio-RequestSid"].startswith("XR")
    assert add_ons["status"] == "successful"
    assert_healthy(add_ons)


# --- 12. credentials ----------------------------------------------------------------------

SECRET = "s3cret-Zq9"


@pytest.mark.parametrize(
    "auth,where",
    [
        ({"type": "basic", "username": "acme", "password": SECRET}, "basic"),
        ({"type": "bearer", "token": SECRET}, "bearer"),
        ({"type": "query", "name": "api_key", "value": SECRET}, "query"),
        ({"type": "body", "name": "api_key", "value": SECRET}, "body"),
    ],
    ids=["basic", "bearer", "query", "body"],
)
def test_credentials_reach_the_publisher_and_are_never_stored(
    api, customer, publisher, httpserver, healthy, installed_at, auth, where
):
    seen = {}

    def handle(request):
        seen.update(
            authorization=request.headers.get("Authorization"),
            basic=request.authorization,
            args=request.args.to_dict(),
            form=request.form.to_dict(),
            signature=request.headers["X-Twilio-Signature"],
        )
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/creds").respond_with_handler(handle)
    installed_at(httpserver.url_for("/creds"), unique_name=FAKE, auth=auth)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert add_ons["results"][FAKE]["status"] == "successful"
    if where == "basic":
        assert (seen["basic"].type, seen["basic"].username, seen["basic"].password) == ("basic", "acme", SECRET)
    elif where == "bearer":
        assert seen["authorization"] == f"Bearer {SECRET}"
    elif where == "query":
        assert seen["args"]["api_key"] == SECRET and "api_key" not in seen["form"]
    else:
        assert seen["form"]["api_key"] == SECRET and "api_key" not in seen["args"]
    stored = json.dumps(Invocation.objects.get(sid=add_ons["results"][FAKE]["request_sid"]).request)
    assert SECRET not in stored
    assert seen["signature"] not in stored
    assert "[redacted]" in stored


@pytest.mark.parametrize(
    "auth",
    [{"type": "query", "name": "api_key", "value": SECRET}, {"type": "body", "name": "api_key", "value": SECRET}],
    ids=["query", "body"],
)
def test_credentials_stay_out_of_failure_records_and_notifications(
    api, customer, publisher, httpserver, healthy, installed_at, auth
):
    httpserver.expect_request("/creds").respond_with_json({"detail": "bad key"}, status=401)
    installed_at(httpserver.url_for("/creds"), unique_name=FAKE, auth=auth)

    add_ons = lookup(api, FAKE, HEALTHY)

    invocation = assert_failed(
        add_ons,
        61022,
        "http_4xx",
        words=["HTTP 401"],
        http_status=401,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    signature = httpserver.log[0][0].headers["X-Twilio-Signature"]
    stored = json.dumps(
        [invocation.request, invocation.error_message]
        + [[n.message, n.request_url] for n in Notification.objects.all()]
    )
    assert SECRET not in stored and signature not in stored
    assert_one_failure(add_ons, 61022)


# --- 13. data stays data ------------------------------------------------------------------

TRICKY = "a&b={{language}}\"' <x>"
NOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "name": "Language", "enum": ["en", "es"]},
        "note": {"type": "string", "name": "Note"},
    },
    "required": ["language"],
}


@pytest.mark.parametrize(
    "endpoint",
    [{"method": "POST", "format": "form"}, {"method": "POST", "format": "json"}, {"method": "GET", "format": "query"}],
    ids=["form", "json", "query"],
)
def test_configuration_and_runtime_values_are_sent_as_data_only(api, httpserver, healthy, installed_at, endpoint):
    seen = {}

    def handle(request):
        seen.update(args=request.args.to_dict(flat=False), form=request.form.to_dict(flat=False))
        seen["json"] = request.get_json(silent=True)
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/echo").respond_with_handler(handle)
    params = {"number": "{{primary_address}}", "lang": "{{language}}", "note": "{{note}}", "hint": "{{hint}}"}
    installed_at(
        httpserver.url_for("/echo"),
        unique_name=FAKE,
        configuration={"language": "en", "note": TRICKY},
        manifest_overrides={"configuration_schema": NOTE_SCHEMA, "runtime_fields": ["hint"]},
        params=params,
        **endpoint,
    )

    add_ons = lookup(api, FAKE, HEALTHY, **{f"AddOns.{FAKE}.hint": TRICKY + "&lang=es"})

    assert add_ons["results"][FAKE]["status"] == "successful"
    if seen["json"] is not None:
        received = {name: [value] for name, value in seen["json"].items()}
    else:
        received = {**seen["form"], **seen["args"]}
        received = {name: values for name, values in received.items() if not name.startswith(("twilio_", "bodySHA"))}
    assert received == {"number": [NUMBER], "lang": ["en"], "note": [TRICKY], "hint": [TRICKY + "&lang=es"]}
    assert_healthy(add_ons)


# --- 14. what is not called ---------------------------------------------------------------


def test_disabled_and_missing_add_ons_fail_alone(api, customer, publisher, httpserver, healthy, installed_at):
    httpserver.expect_request("/off").respond_with_json({"ok": True})
    installed_at(httpserver.url_for("/off"), unique_name=FAKE)
    installation = InstalledAddOn.objects.get(account=customer, unique_name=FAKE)
    extension = Extension.objects.get(listing=installation.listing, unique_name="lookups")
    reply = api.post(f"/v1/InstalledAddOns/{installation.sid}/Extensions/{extension.sid}", {"Enabled": "false"})
    assert reply.status_code == 200 and reply.json()["enabled"] is False

    add_ons = lookup(api, FAKE, "not_there", HEALTHY)

    assert httpserver.log == []
    assert_failed(
        add_ons,
        61011,
        "extension_disabled",
        words=["disabled"],
        http_status=None,
        attempts=0,
        sla_breach=False,
        customer=customer,
        publisher=publisher,
    )
    missing = add_ons["results"]["not_there"]
    assert (missing["status"], missing["code"], missing["request_sid"]) == ("failed", 61010, None)
    assert "not installed" in missing["message"]
    assert Notification.objects.filter(account=customer, error_code=61010, message__contains="not_there").count() == 1
    assert not Notification.objects.filter(account=publisher, error_code=61010).exists()
    assert Invocation.objects.count() == 2  # the disabled one and the healthy one
    assert add_ons["status"] == "failed" and add_ons["code"] == 61001
    assert add_ons["message"] == "2 of 3 add-ons failed: fake, not_there"
    assert_healthy(add_ons)


# --- 15. fan-out --------------------------------------------------------------------------


def test_add_ons_are_called_in_parallel(api, serve, installed_at):
    arrivals = {}
    names = ["slow_a", "slow_b", "slow_c"]
    for name in names:
        server = serve()

        def sleepy(request, name=name):
            arrivals[name] = time.monotonic()
            time.sleep(0.3)
            return Response(json.dumps({"name": name}), content_type="application/json")

        server.expect_request("/slow").respond_with_handler(sleepy)
        installed_at(server.url_for("/slow"), unique_name=name)

    add_ons = lookup(api, *names)

    assert add_ons["status"] == "successful"
    assert [add_ons["results"][name]["result"] for name in names] == [{"name": name} for name in names]
    sids = [result["request_sid"] for result in add_ons["results"].values()]
    latencies = list(Invocation.objects.filter(sid__in=sids).values_list("latency_ms", flat=True))
    assert len(latencies) == 3 and all(i >= 300 for i in latencies)
    assert max(latencies) < 600 and sum(latencies) >= 900
    assert max(arrivals.values()) - min(arrivals.values()) < 0.25
    assert not Notification.objects.exists()


# --- more ways to misbehave ---------------------------------------------------------------


def test_a_redirect_is_not_followed_and_fails_with_61027(api, customer, publisher, httpserver, healthy, installed_at):
    httpserver.expect_request("/moved").respond_with_data("", status=302, headers={"Location": "/elsewhere"})
    httpserver.expect_request("/elsewhere").respond_with_json({"followed": True})
    installed_at(httpserver.url_for("/moved"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61027,
        "unexpected_status",
        words=["unexpected status", "HTTP 302"],
        http_status=302,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert [request.path for request, _ in httpserver.log] == ["/moved"]
    assert_one_failure(add_ons, 61027)


def test_a_compressed_body_is_limited_by_its_decoded_size(api, customer, publisher, httpserver, healthy, installed_at):
    bomb = gzip.compress(json_of_size(20 * LIMIT).encode())  # about 1 MB of JSON in a few KB
    assert len(bomb) < LIMIT
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    installed_at(httpserver.url_for("/bomb"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61024,
        "too_large",
        words=["size limit"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert_one_failure(add_ons, 61024)


def test_a_body_cut_short_fails_without_a_retry(api, customer, publisher, raw_server, healthy, installed_at):
    def cut_short(server, conn):
        read_request(conn)
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"p": ')

    server = raw_server(cut_short)
    installed_at(server.url("/short"), unique_name=FAKE)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert_failed(
        add_ons,
        61021,
        "connection_failed",
        words=["could not be reached"],
        http_status=200,
        attempts=1,
        sla_breach=True,
        customer=customer,
        publisher=publisher,
    )
    assert server.connections == 1
    assert_one_failure(add_ons, 61021)


# --- found by these tests, since fixed ---------------------------------------------------


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_a_trickling_publisher_is_dropped_at_its_deadline(api, raw_server, healthy, installed_at, phase):
    def trickle(server, conn):
        read_request(conn)
        if phase == "body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")  # one header line, never finished
        server.notes["started"] = time.monotonic()
        while server.running():  # a byte every 20 ms: never idle long enough for a socket timeout
            conn.sendall(b"x")
            time.sleep(0.02)

    server = raw_server(trickle, lifetime=4.0)
    installed_at(server.url("/trickle"), unique_name=FAKE, timeout_ms=300)

    add_ons = lookup(api, FAKE, HEALTHY)

    assert add_ons["results"][FAKE]["code"] == 61020
    assert_healthy(add_ons)
    # The platform's deadline is 300 ms: it should hang up well within 1.5 s (the publisher's clock).
    assert server.closed_by_client.wait(1.5), "the platform was still reading 1.5 s after the lookup"
    assert server.notes["closed_at"] - server.notes["started"] < 1.5


@pytest.mark.parametrize("hint", ["a\r\nX-Evil: 1", "Zo\u00eb \u2713"], ids=["crlf", "non-latin-1"])
def test_a_runtime_value_unfit_for_a_header_fails_only_its_add_on(api, httpserver, healthy, installed_at, hint):
    httpserver.expect_request("/hdr").respond_with_json({"ok": True})
    installed_at(
        httpserver.url_for("/hdr"),
        unique_name=FAKE,
        manifest_overrides={"runtime_fields": ["hint"]},
        headers={"X-Hint": "{{hint}}"},
    )

    reply = api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": [FAKE, HEALTHY], f"AddOns.{FAKE}.hint": hint})

    assert all("X-Evil" not in request.headers for request, _ in httpserver.log)
    assert reply.status_code == 200, reply
    add_ons = reply.json()["add_ons"]
    assert (add_ons["results"][FAKE]["status"], add_ons["results"][FAKE]["code"]) == ("failed", 61028)
    assert hint not in json.dumps(add_ons) and hint not in json.dumps(list(Invocation.objects.values("error_message")))
    assert_healthy(add_ons)
