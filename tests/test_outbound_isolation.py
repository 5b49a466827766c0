"""Issue 12, findings 2, 3, 9 and the webhook part of 11: one outbound path for every call to
a stranger's server, its address policy applied before connecting, one deadline for the whole
exchange, and a bounded share of threads and workers per account.

Hostile servers run on loopback; refusal of other addresses goes through a stubbed resolver
(socket.getaddrinfo), so no test sends a packet off this machine."""

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.request_validator import RequestValidator

from accounts.models import IncomingPhoneNumber
from addons.models import Invocation, Notification
from addons.services import import_listing
from addons.tests.factories import install as add_on
from addons.tests.factories import make_manifest
from marketplace import inflight
from marketplace.errors import InvalidManifest
from marketplace.outbound import forbidden
from recordings import services as recording_services
from recordings.models import AddOnResult
from tests.dripping import DrippingServer
from tests.fixtures.cluster import wait_for
from tests.fixtures.core import console_client
from tests.recording_helpers import recording_manifest, wav_bytes

TO = "+14155552671"
FROM = "+18005550100"
OTHER_TO = "+14155552672"


@pytest.fixture
def enforced(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False


@pytest.fixture
def dripping():
    server = DrippingServer(interval=1.0)
    yield server
    server.stop()


@pytest.fixture
def resolver(monkeypatch):
    """getaddrinfo answering from a table for the names a test makes up; real for the rest."""
    table = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in table:
            addresses = table[host]() if callable(table[host]) else table[host]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 80))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


def add_number(api, customer, phone_number=TO, **urls):
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": phone_number, **urls}
    )
    assert reply.status_code == 201, reply.json()
    return reply.json()


# --- the policy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["100.64.0.1", "100.100.100.200", "fec0::1", "2002:a00:1::1", "2002:7f00:1::1", "::ffff:10.0.0.1",
     "::a00:1", "64:ff9b::a9fe:a9fe", "2001:0:5db8:d822:0:0:f5ff:fffe", "ff02::1", "224.0.0.251", "2001:db8::1",
     "192.0.0.1", "198.18.0.1", "240.0.0.1", "fc00::1", "fe80::1%eth0", "::", "0.0.0.0"],
)  # fmt: skip  # a table of addresses, several per row
def test_only_globally_routable_unicast_is_allowed(address):
    assert forbidden(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:4700::1111", "::ffff:93.184.216.34", "2002:5db8:d822::1", "64:ff9b::5db8:d822"]
)
def test_public_addresses_and_ipv4_forms_of_them_are_allowed(address):
    assert not forbidden(address)


# --- at save time ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://100.100.100.200/hook", "http://[2002:a00:1::1]/hook", "http://[fec0::1]/hook"])
def test_the_api_refuses_the_gaps_of_finding_9(api, customer, enforced, url):
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": TO, "SmsUrl": url}
    )
    assert (
        reply.status_code == 400
        and "SmsUrl" in reply.json()["message"]
        and "private or internal" in reply.json()["message"]
    )
    assert not IncomingPhoneNumber.objects.exists()


def test_a_name_with_one_internal_address_among_public_ones_is_refused(api, customer, enforced, resolver):
    resolver["hooks.example"] = ["93.184.216.34", "10.0.0.7"]
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": TO, "VoiceUrl": "http://hooks.example/voice"},
    )
    assert reply.status_code == 400 and "VoiceUrl" in reply.json()["message"]


def test_the_console_number_form_applies_the_same_check(customer, enforced, db):
    console = console_client(customer, "numbers")
    page = console.post(
        "/console/numbers/",
        {"phone_number": TO, "friendly_name": "", "sms_url": "http://169.254.169.254/latest/", "voice_url": ""},
    )
    assert page.status_code == 200 and "private or internal" in page.content.decode()
    assert not IncomingPhoneNumber.objects.exists()
    page = console.post(
        "/console/numbers/",
        {"phone_number": TO, "friendly_name": "", "sms_url": "", "voice_url": "http://[::ffff:10.1.1.1]/"},
    )
    assert "private or internal" in page.content.decode() and not IncomingPhoneNumber.objects.exists()


def test_updating_a_number_applies_the_check_too(api, customer, enforced):
    number = add_number(api, customer, SmsUrl="http://93.184.216.34/hook")
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers/{number['sid']}.json",
        {"SmsUrl": "http://100.64.1.1/"},
    )
    assert reply.status_code == 400 and "SmsUrl" in reply.json()["message"]
    assert IncomingPhoneNumber.objects.get().sms_url == "http://93.184.216.34/hook"


def test_production_takes_https_urls_only(api, customer, publisher, make_listing, settings):
    settings.PRODUCTION = True
    settings.OUTBOUND_ALLOW_PRIVATE = False
    reply = api.post(
        f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json",
        {"PhoneNumber": TO, "SmsUrl": "http://93.184.216.34/hook"},
    )
    assert reply.status_code == 400 and "must be an https URL" in reply.json()["message"]
    endpoint = {**make_manifest()["endpoint"], "url": "http://93.184.216.34/lookup"}
    with pytest.raises(InvalidManifest) as error:
        import_listing(manifest=make_manifest(endpoint=endpoint), publisher=publisher)
    assert error.value.details[0]["path"] == "$.endpoint.url" and "https" in error.value.details[0]["message"]
    listing = make_listing(**recording_manifest("https://93.184.216.34/analyse"))
    reply = api.post(
        "/v1/InstalledAddOns",
        {
            "AvailableAddOnSid": listing.sid,
            "AcceptTermsOfService": "true",
            "Configuration": json.dumps({"callback_url": "http://93.184.216.34/told"}),
        },
    )
    assert reply.status_code == 400 and "callback_url" in reply.json()["message"] and "https" in reply.json()["message"]
    assert add_number(api, customer, SmsUrl="https://93.184.216.34/hook")["sms_url"] == "https://93.184.216.34/hook"


# --- at connect time ------------------------------------------------------------------------


def test_open_and_closed_internal_ports_look_the_same(api, installed_at, httpserver, settings):
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: a closed port
    installed_at(httpserver.url_for("/x"), unique_name="open_port")
    installed_at(f"http://127.0.0.1:{closed.getsockname()[1]}/x", unique_name="closed_port")
    settings.OUTBOUND_ALLOW_PRIVATE = False
    results = api.get(f"/v1/PhoneNumbers/{TO}", {"AddOns": ["open_port", "closed_port"]}).json()["add_ons"]["results"]
    closed.close()
    seen = {(r["status"], r["code"], r["message"]) for r in results.values()}
    assert len(seen) == 1 and next(iter(seen))[:2] == ("failed", 61014)
    assert httpserver.log == []


def test_the_address_is_checked_before_connecting_so_rebinding_does_not_help(
    api, installed_at, httpserver, settings, resolver
):
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    answers = iter([["93.184.216.34"]])  # the check when the URL is saved sees a public address ...
    resolver["rebinding.example"] = lambda: next(answers, ["127.0.0.1"])  # ... then it points inside
    settings.OUTBOUND_ALLOW_PRIVATE = False
    installed_at(f"http://rebinding.example:{httpserver.port}/x", unique_name="rebound")
    result = api.get(f"/v1/PhoneNumbers/{TO}", {"AddOns": "rebound"}).json()["add_ons"]["results"]["rebound"]
    assert (result["status"], result["code"]) == ("failed", 61014)
    assert httpserver.log == []
    assert not Invocation.objects.get(sid=result["request_sid"]).billable


def test_the_socket_goes_to_the_checked_address_and_the_host_header_keeps_the_name(
    api, installed_at, httpserver, resolver
):
    hosts = []
    httpserver.expect_request("/x").respond_with_handler(lambda r: hosts.append(r.headers["Host"]) or _json({"ok": 1}))
    resolver["publisher.example"] = ["127.0.0.1"]
    installed_at(f"http://publisher.example:{httpserver.port}/x", unique_name="named")
    result = api.get(f"/v1/PhoneNumbers/{TO}", {"AddOns": "named"}).json()["add_ons"]["results"]["named"]
    assert result["status"] == "successful" and hosts == [f"publisher.example:{httpserver.port}"]


def _json(body):
    from werkzeug import Response

    return Response(json.dumps(body), content_type="application/json")


def test_a_webhook_to_an_internal_address_has_a_clear_outcome(api, customer, httpserver, settings):
    httpserver.expect_request("/hook").respond_with_data("<Response/>")
    add_number(api, customer, SmsUrl=httpserver.url_for("/hook"))
    settings.OUTBOUND_ALLOW_PRIVATE = False
    body = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "x"}).json()
    assert body["webhook"]["code"] == 61040 and "private or internal" in body["webhook"]["error"]
    assert httpserver.log == []
    assert Notification.objects.get(account=customer).error_code == 61040


# --- finding 2: a dripping webhook ------------------------------------------------------------


def test_a_dripping_webhook_is_cut_at_the_deadline(api, customer, dripping, settings):
    settings.WEBHOOK_TIMEOUT_S = 1
    add_number(api, customer, SmsUrl=dripping.url())
    started = time.monotonic()
    reply = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "hello"})
    assert time.monotonic() - started < 10  # generous: it did not hang for the drip's 10,000 s
    webhook = reply.json()["webhook"]
    assert reply.status_code == 201 and webhook["code"] == 61041 and "cut off" in webhook["error"]
    assert len(dripping.requests) == 1
    assert Notification.objects.get(account=customer).error_code == 61041


def test_past_its_cap_an_account_is_answered_429_before_anything_runs(
    api, other_api, customer, other_customer, installed_at, httpserver, settings
):
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    httpserver.expect_request("/hook").respond_with_data("<Response/>")
    installed_at(httpserver.url_for("/x"), unique_name="lookup")
    add_number(api, customer, SmsUrl=httpserver.url_for("/hook"))
    add_number(other_api, other_customer, OTHER_TO, SmsUrl=httpserver.url_for("/hook"))
    settings.WEBHOOK_MAX_IN_FLIGHT = 2
    with (
        inflight.slot("sandbox", customer.sid, limit=2, lease_s=60) as one,
        inflight.slot("sandbox", customer.sid, limit=2, lease_s=60) as two,
    ):
        assert one and two  # as if two deliveries were hanging on the customer's server
        reply = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "x"})
        assert reply.status_code == 429 and reply.json()["code"] == 20429 and int(reply.headers["Retry-After"]) >= 1
        assert [r.path for r, _ in httpserver.log] == []  # nothing called, nothing half done
        # The bystander's sandbox and the customer's own lookups are not affected.
        assert other_api.post("/sandbox/v1/Messages", {"From": FROM, "To": OTHER_TO, "Body": "x"}).status_code == 201
        assert api.get(f"/v1/PhoneNumbers/{TO}", {"AddOns": "lookup"}).status_code == 200
    assert api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "x"}).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_fifty_dripping_webhooks_leave_other_accounts_served(live_server, settings, dripping, httpserver):
    from tests.fixtures.core import funded_account

    settings.WEBHOOK_TIMEOUT_S = 2
    settings.WEBHOOK_MAX_IN_FLIGHT = 3
    attacker, bystander = funded_account("Attacker"), funded_account("Bystander")
    requests.post(
        f"{live_server.url}/2010-04-01/Accounts/{attacker.sid}/IncomingPhoneNumbers.json",
        data={"PhoneNumber": TO, "SmsUrl": dripping.url()},
        auth=(attacker.sid, attacker.auth_token),
        timeout=10,
    ).raise_for_status()

    def attack(_):
        return requests.post(
            f"{live_server.url}/sandbox/v1/Messages",
            data={"From": FROM, "To": TO, "Body": "drip"},
            auth=(attacker.sid, attacker.auth_token),
            timeout=30,
        )

    with ThreadPoolExecutor(50) as pool:
        attacks = [pool.submit(attack, i) for i in range(50)]
        time.sleep(0.5)
        started = time.monotonic()
        health = requests.get(f"{live_server.url}/healthz", timeout=10)
        numbers = requests.get(
            f"{live_server.url}/2010-04-01/Accounts/{bystander.sid}/IncomingPhoneNumbers.json",
            auth=(bystander.sid, bystander.auth_token),
            timeout=10,
        )
        assert health.status_code == 200 and numbers.status_code == 200
        assert time.monotonic() - started < 5  # generous: served, not queued behind the drip
        answers = [future.result() for future in attacks]
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) == {201, 429} and statuses.count(201) >= 3
    assert all(a.json()["webhook"]["code"] == 61041 for a in answers if a.status_code == 201)
    assert all(a.json()["code"] == 20429 for a in answers if a.status_code == 429)
    assert len(dripping.requests) == statuses.count(201)
    # The server notices the hang-up at its next byte or two: every delivery was cut near 2 s.
    wait_for(lambda: len(dripping.cut) == len(dripping.requests), timeout=15)
    assert max(dripping.cut) < 10


# --- finding 3: a dripping callback_url ------------------------------------------------------


@pytest.fixture
def recording_add_on(api, make_listing):
    def install(publisher_url, configuration, client=None):
        listing = make_listing(**recording_manifest(publisher_url))
        add_on(client or api, listing, configuration=configuration)

    return install


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    def do(client):
        with django_capture_on_commit_callbacks(execute=True):
            reply = client.upload("/sandbox/v1/Recordings", {"Audio": ("call.wav", wav_bytes(1))})
        assert reply.status_code == 201, reply.json()
        return reply.json()

    return do


def test_a_dripping_callback_url_holds_a_worker_one_short_attempt(
    api, customer, recording_add_on, upload, httpserver, dripping, settings
):
    settings.WEBHOOK_TIMEOUT_S = 1
    httpserver.expect_request("/analyse").respond_with_data("", status=400)  # fails at once: notify now
    recording_add_on(httpserver.url_for("/analyse"), {"callback_url": dripping.url("/told")})
    started = time.monotonic()
    upload(api)
    assert time.monotonic() - started < 10  # one attempt, cut at 1 s; no sleeping for retries
    result = AddOnResult.objects.get()
    assert (result.customer_notification, result.notify_attempts) == ("pending", 1)
    assert result.date_notify_due is not None and len(dripping.requests) == 1


def test_past_its_cap_an_accounts_notifications_wait_and_a_bystanders_go(
    api, other_api, customer, other_customer, recording_add_on, upload, httpserver, settings
):
    told = []
    httpserver.expect_request("/analyse").respond_with_data("", status=400)
    httpserver.expect_request("/told").respond_with_handler(lambda r: told.append(r.form["AccountSid"]) or _json({}))
    settings.NOTIFY_MAX_IN_FLIGHT = 1
    recording_add_on(httpserver.url_for("/analyse"), {"callback_url": httpserver.url_for("/told")})
    recording_add_on(httpserver.url_for("/analyse"), {"callback_url": httpserver.url_for("/told")}, client=other_api)
    with inflight.slot("notify", customer.sid, limit=1, lease_s=60) as held:
        assert held  # the customer's one notification in flight, hanging on its own server
        upload(api)
        upload(other_api)
        assert told == [other_customer.sid]
        waiting = AddOnResult.objects.get(account=customer)
        assert (waiting.customer_notification, waiting.notify_attempts) == ("pending", 0)  # not an attempt
    AddOnResult.objects.filter(pk=waiting.pk).update(date_notify_due=waiting.date_notify_due.replace(year=2000))
    assert recording_services.renotify_lost_notifications() == 1
    assert told == [other_customer.sid, customer.sid]


# --- finding 11 (part): percent-encoded webhook URLs ----------------------------------------


class Receiver(BaseHTTPRequestHandler):
    """A customer's webhook as a plain http.server sees it: the raw request line and Host."""

    seen = []

    def _take(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        Receiver.seen.append((self.command, self.headers["Host"], self.path, body, self.headers["X-Twilio-Signature"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _take

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_url_needing_percent_encoding_is_signed_as_the_receiver_sees_it(api, customer, method):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.seen = []
    try:
        # No spaces (the URL validator refuses them at save), but what else needs encoding.
        url = f'http://127.0.0.1:{server.server_port}/hooks/ünïcode/{{x}}|y"?tag=a|b&x=é^'
        add_number(api, customer, SmsUrl=url, SmsMethod=method)
        reply = api.post("/sandbox/v1/Messages", {"From": FROM, "To": TO, "Body": "héllo wörld"})
        assert reply.json()["webhook"]["status_code"] == 200
    finally:
        server.shutdown()
        server.server_close()
    ((command, host, path, body, signature),) = Receiver.seen
    received = f"http://{host}{path}"
    params = dict(parse_qsl(body, keep_blank_values=True)) if command == "POST" else {}
    assert command == method and "%7Bx%7D" in path and "%C3%BC" in path
    assert RequestValidator(customer.auth_token).validate(received, params, signature)


class CallingBackPublisher:
    """An asynchronous add-on: accepts with 202, then posts its result to the callback URL."""

    def __init__(self, publisher):
        self.publisher = publisher

    def handle(self, request):
        url = request.form["callback_url"]
        threading.Thread(target=self.call_back, args=(url,), daemon=True).start()
        from werkzeug import Response

        return Response(status=202)

    def call_back(self, url):
        requests.post(url, json={"transcript": "x"}, auth=(self.publisher.sid, self.publisher.auth_token), timeout=10)


def test_a_dripping_callback_url_does_not_make_another_customers_recording_miss_its_deadline(
    live_server,
    qcluster,
    customer,
    other_customer,
    publisher,
    make_listing,
    httpserver,
    dripping,
    settings,
    monkeypatch,
):
    # One worker for everyone. Before the fix, each notification to the dripping URL held it
    # until the task timeout (8 s here), so five of them pushed the bystander past its deadline.
    monkeypatch.setenv("WEBHOOK_TIMEOUT_S", "1")
    monkeypatch.setenv("CIRCUIT_FAILURES", "1000000")  # both add-ons share a loopback host here
    settings.RESULT_DEADLINE_FLOOR_S = 20
    httpserver.expect_request("/fail").respond_with_data("", status=400)
    httpserver.expect_request("/analyse").respond_with_handler(CallingBackPublisher(publisher).handle)
    told = []
    httpserver.expect_request("/told").respond_with_handler(lambda r: told.append(r.form["Status"]) or _json({}))
    for account, path, callback_url in [
        (customer, "/fail", dripping.url("/told")),
        (other_customer, "/analyse", httpserver.url_for("/told")),
    ]:
        listing = make_listing(**{**recording_manifest(httpserver.url_for(path)), "unique_name": path[1:]})
        requests.post(
            f"{live_server.url}/v1/InstalledAddOns",
            data={
                "AvailableAddOnSid": listing.sid,
                "AcceptTermsOfService": "true",
                "Configuration": json.dumps({"callback_url": callback_url}),
            },
            auth=(account.sid, account.auth_token),
            timeout=10,
        ).raise_for_status()

    def upload_as(account):
        reply = requests.post(
            f"{live_server.url}/sandbox/v1/Recordings",
            files={"Audio": ("call.wav", wav_bytes(1))},
            auth=(account.sid, account.auth_token),
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        return reply.json()["sid"]

    for _ in range(5):
        upload_as(customer)
    bystander = upload_as(other_customer)
    qcluster()
    result = wait_for(
        lambda: AddOnResult.objects.filter(recording__sid=bystander, customer_notification="delivered").first(),
        timeout=40,
    )
    assert (result.status, told) == ("completed", ["completed"]), (result.error_code, result.error_message)
    attacked = AddOnResult.objects.filter(account=customer)
    assert all(r.status == "failed" and r.error_code != 61020 for r in attacked)
    assert len(dripping.requests) >= 1 and all(r.customer_notification == "pending" for r in attacked)


def _self_signed(tmp_path, name):
    """A certificate for `name` that nobody trusts: enough to see what the client asks for."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "cert.pem", tmp_path / "key.pem"


def test_tls_asks_for_the_name_and_verifies_it_though_the_socket_goes_to_the_checked_address(
    api, installed_at, resolver, tmp_path
):
    import ssl

    cert, key = _self_signed(tmp_path, "publisher.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    asked = []
    context.sni_callback = lambda sock, server_name, ctx: asked.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve_one():
        try:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass  # the client refused our certificate: the point

    server = threading.Thread(target=serve_one, daemon=True)
    server.start()
    resolver["publisher.example"] = ["127.0.0.1"]
    installed_at(f"https://publisher.example:{listener.getsockname()[1]}/x", unique_name="tls", retries=0)
    result = api.get(f"/v1/PhoneNumbers/{TO}", {"AddOns": "tls"}).json()["add_ons"]["results"]["tls"]
    server.join(timeout=10)
    listener.close()
    assert asked == ["publisher.example"]  # SNI carries the name, not the address connected to
    assert result["status"] == "failed" and result["code"] == 61021  # and an untrusted certificate is refused
