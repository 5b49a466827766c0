"""A suspended or closed account reads but does not act; a suspended publisher is not called.

One rule (accounts.selectors.may_act) decides, and the API, the console, the engine, the test
console and the recording workers all ask it. The publishers here are real HTTP servers on
loopback that count what reaches them.
"""

import base64
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as account_services
from accounts.models import Account, IncomingPhoneNumber
from accounts.selectors import ensure_may_act, may_act
from addons.models import Assignment, InstalledAddOn, InstalledExtension, Invocation, ListingVersion, Notification
from addons.services import install_add_on
from addons.tests.factories import install
from billing import services as billing_services
from billing.models import BillingEvent
from invocation import trial
from marketplace.errors import AccountNotActive
from recordings import services as recording_services
from recordings import tasks
from recordings.models import AddOnResult, Recording
from tests.fixtures.core import console_client
from tests.fixtures.invoking import endpoint_manifest
from tests.recording_helpers import recording_manifest, wav_bytes

INACTIVE = [Account.Status.SUSPENDED, Account.Status.CLOSED]
NUMBER = "+18778894546"


class Loopback:
    """A publisher (or a customer's webhook) on a free loopback port: counts every request,
    answers 200 with a JSON object, or 202 with no body on paths ending in /rec."""

    def __init__(self):
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append((self.command, self.path, self.rfile.read(length)))
                if self.path.split("?")[0].endswith("/rec"):
                    self.send_response(202)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback():
    servers = []

    def make():
        servers.append(Loopback())
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def set_status(account, status):
    Account.objects.filter(pk=account.pk).update(status=status)
    account.refresh_from_db()


def installed(reply):
    """The installation an install reply describes."""
    return InstalledAddOn.objects.get(sid=reply["sid"])


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status,acts", [("active", True), ("suspended", False), ("closed", False)])
def test_only_an_active_account_may_act(customer, status, acts):
    set_status(customer, status)
    assert may_act(customer) is acts and customer.is_active is acts
    if acts:
        ensure_may_act(customer)
    else:
        with pytest.raises(AccountNotActive) as refused:
            ensure_may_act(customer, refused="it cannot install add-ons")
        assert refused.value.code == 20005 and refused.value.status == 403
        assert refused.value.message == f"Account {customer.sid} is {status}; it cannot install add-ons"


@pytest.mark.parametrize("status", INACTIVE)
def test_the_write_services_refuse_an_inactive_account_and_write_nothing(customer, listing, status):
    set_status(customer, status)
    with pytest.raises(AccountNotActive, match=status):
        install_add_on(
            account=customer,
            available_add_on_sid=listing.sid,
            accept_terms_of_service=True,
            configuration={"language": "en"},
        )
    with pytest.raises(AccountNotActive, match=status):
        account_services.create_phone_number(account=customer, phone_number="+14155550100")
    with pytest.raises(AccountNotActive, match=status):
        recording_services.create_recording(
            account=customer, audio=SimpleUploadedFile("call.wav", wav_bytes(1.0), "audio/x-wav")
        )
    assert not InstalledAddOn.objects.exists()
    assert not IncomingPhoneNumber.objects.exists()
    assert not Recording.objects.exists()


# --- the console: read, but not act -----------------------------------------------------------


@pytest.fixture
def shop(api, customer, publisher, make_listing, loopback):
    """A customer with a lookup add-on (assigned to one number), a recording add-on, a spare
    number and a listing not yet installed; the publisher's listings call one loopback server."""
    server = loopback()
    insight = installed(install(api, make_listing(**endpoint_manifest(server.url + "/lookup", "insight")), "insight"))
    recorder = installed(install(api, make_listing(**recording_manifest(server.url + "/rec", "recorder")), "recorder"))
    spare_listing = make_listing(**endpoint_manifest(server.url + "/spare", "spare_insight"))
    assigned = account_services.create_phone_number(account=customer, phone_number="+14155550101")
    spare = account_services.create_phone_number(account=customer, phone_number="+14155550102")
    Assignment.objects.create(phone_number=assigned, installation=insight)
    return {
        "server": server,
        "insight": insight,
        "recorder": recorder,
        "spare_listing": spare_listing,
        "assigned": assigned,
        "spare": spare,
    }


def _customer_writes(shop):
    insight = shop["insight"]
    extension = InstalledExtension.objects.filter(installation=insight).first().extension
    base = f"/console/installations/{insight.sid}"
    return {
        "install": (
            f"/console/catalog/{shop['spare_listing'].sid}/install/",
            lambda: {"accept_terms": "on", "unique_name": "spare", "configuration": '{"language": "en"}'},
        ),
        "configure": (base + "/", lambda: {"unique_name": "renamed", "configuration": '{"language": "es"}'}),
        "switch_extension": (f"{base}/extensions/{extension.sid}/", lambda: {"enabled": "false"}),
        "assign": (f"{base}/assign/", lambda: {"phone_number": shop["spare"].sid}),
        "unassign": (f"{base}/unassign/{shop['assigned'].sid}/", dict),
        "uninstall": (f"{base}/uninstall/", dict),
        "add_number": ("/console/numbers/", lambda: {"phone_number": "+14155550199", "sms_url": ""}),
        "delete_number": (f"/console/numbers/{shop['spare'].sid}/delete/", dict),
        "upload_recording": (
            "/console/recordings/",
            lambda: {"audio": SimpleUploadedFile("call.wav", wav_bytes(1.0), "audio/x-wav")},
        ),
    }


CUSTOMER_WRITES = [
    "install",
    "configure",
    "switch_extension",
    "assign",
    "unassign",
    "uninstall",
    "add_number",
    "delete_number",
    "upload_recording",
]


def snapshot():
    """Everything a console write could change, as plain values."""
    models = (
        InstalledAddOn,
        InstalledExtension,
        Assignment,
        IncomingPhoneNumber,
        Recording,
        AddOnResult,
        Invocation,
        ListingVersion,
        BillingEvent,
        Notification,
    )
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


@pytest.mark.parametrize("status", INACTIVE)
@pytest.mark.parametrize("write", CUSTOMER_WRITES)
def test_an_inactive_customer_cannot_write_in_the_console(
    customer, shop, status, write, django_capture_on_commit_callbacks
):
    console = console_client(customer, "cust")
    path, data = _customer_writes(shop)[write]
    before = snapshot()
    set_status(customer, status)

    with django_capture_on_commit_callbacks(execute=True):
        reply = console.post(path, data())
    assert reply.status_code == 403
    page = reply.content.decode()
    assert "Nothing was changed" in page and f"is {status}" in page and "20005" in page
    assert 'id="account-status"' in page  # the banner too
    assert snapshot() == before
    assert shop["server"].requests == []  # no audio, no call went out

    # The same request, once the account is active again, does write: the refusal was the
    # account's status and nothing else.
    set_status(customer, Account.Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        reply = console.post(path, data())
    assert reply.status_code == 302, reply.content.decode()[:2000]
    assert snapshot() != before


CUSTOMER_PAGES = [
    "/console/",
    "/console/catalog/",
    "/console/installations/",
    "/console/numbers/",
    "/console/recordings/",
    "/console/usage/",
    "/console/debugger/",
]


@pytest.mark.parametrize("status", INACTIVE)
def test_every_console_page_still_reads_and_shows_the_banner(customer, shop, status):
    console = console_client(customer, "cust")
    pages = CUSTOMER_PAGES + [f"/console/installations/{shop['insight'].sid}/"]
    for path in pages:
        assert 'id="account-status"' not in console.get(path).content.decode(), path
    set_status(customer, status)
    for path in pages:
        reply = console.get(path)
        assert reply.status_code == 200, path
        page = reply.content.decode()
        assert 'id="account-status"' in page, path
        assert f"This account (Customer One) is {status}." in page, path
        assert "You can still look at everything" in page and "Nothing can be changed" in page, path
    assert "+14155550101" in console.get("/console/numbers/").content.decode()  # its data is all there


def test_a_user_of_a_suspended_account_may_still_switch_to_another(customer, other_customer):
    console = console_client(customer, "both")
    account_services.add_member(account=other_customer, user=customer.memberships.get().user)
    set_status(customer, Account.Status.SUSPENDED)
    reply = console.post("/console/account/", {"account": other_customer.sid})
    assert reply.status_code == 302
    page = console.get("/console/").content.decode()
    assert other_customer.sid in page and 'id="account-status"' not in page


# --- the publisher's console ------------------------------------------------------------------


@pytest.mark.parametrize("status", INACTIVE)
def test_an_inactive_publisher_cannot_release_or_test_in_the_console(publisher, make_listing, loopback, status):
    server = loopback()
    listing = make_listing(**endpoint_manifest(server.url + "/lookup", "insight"))
    console = console_client(publisher, "pub")
    manifest = dict(listing.latest_version.manifest, description="A new version.")
    writes = {
        f"/console/publisher/listings/{listing.sid}/": {"manifest_text": json.dumps(manifest)},
        f"/console/publisher/listings/{listing.sid}/test/": {
            "version": listing.latest_version.sid,
            "integration_point": "lookups",
            "primary_address": NUMBER,
            "configuration": '{"language": "en"}',
        },
    }
    before = snapshot()
    set_status(publisher, status)
    for path, data in writes.items():
        reply = console.post(path, data)
        assert reply.status_code == 403 and "Nothing was changed" in reply.content.decode(), path
    assert snapshot() == before and server.requests == []
    for path in [
        "/console/publisher/listings/",
        f"/console/publisher/listings/{listing.sid}/",
        f"/console/publisher/listings/{listing.sid}/sla/",
        "/console/publisher/statements/",
    ]:
        page = console.get(path).content.decode()
        assert 'id="account-status"' in page and "not called for customers (61017)" in page, path

    set_status(publisher, Account.Status.ACTIVE)
    assert console.post(*writes.popitem()).status_code == 200 and len(server.requests) == 1  # the test call
    assert console.post(*writes.popitem()).status_code == 302  # the release


@pytest.mark.parametrize("status", INACTIVE)
def test_the_test_console_service_does_not_call_a_suspended_publisher(publisher, make_listing, loopback, status):
    server = loopback()
    listing = make_listing(**endpoint_manifest(server.url + "/lookup", "insight"))
    set_status(publisher, status)
    listing.publisher.refresh_from_db()
    report = trial.run(
        listing=listing,
        version=listing.latest_version,
        integration_point="lookups",
        inputs={"primary_address": NUMBER, "secondary_address": "", "body": ""},
        configuration={"language": "en"},
        runtime={},
    )
    assert (report["status"], report["code"], report["outcome"]) == ("failed", 61017, "publisher_inactive")
    assert report["message"] == "The add-on's publisher account is suspended or closed"
    assert report["response"] is None and server.requests == []
    assert not BillingEvent.objects.exists()


# --- a suspended publisher's listings: not called, not billed, out of the catalog ------------


@pytest.fixture
def two_publishers(api, customer, make_listing, loopback):
    """The customer has one add-on of a publisher about to be suspended, one of a bystander."""
    suspect = account_services.create_account(friendly_name="Suspect Data", is_publisher=True)
    bystander = account_services.create_account(friendly_name="Bystander Data", is_publisher=True)
    suspect_server, bystander_server = loopback(), loopback()
    install(
        api,
        make_listing(publisher_account=suspect, **endpoint_manifest(suspect_server.url + "/l", "suspect")),
        "suspect",
    )
    install(
        api,
        make_listing(publisher_account=bystander, **endpoint_manifest(bystander_server.url + "/l", "bystander")),
        "bystander",
    )
    return suspect, suspect_server, bystander, bystander_server


@pytest.mark.parametrize("status", INACTIVE)
def test_a_suspended_publisher_is_not_called_nor_billed_and_the_bystander_is(api, customer, two_publishers, status):
    suspect, suspect_server, bystander, bystander_server = two_publishers
    balance = billing_services.balance_of(customer)
    set_status(suspect, status)

    reply = api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": ["suspect", "bystander"]})
    assert reply.status_code == 200
    add_ons = reply.json()["add_ons"]
    assert (add_ons["status"], add_ons["code"]) == ("failed", 61017)
    refused, served = add_ons["results"]["suspect"], add_ons["results"]["bystander"]
    assert (refused["status"], refused["code"]) == ("failed", 61017)
    assert refused["message"] == "The add-on's publisher account is suspended or closed"
    assert (served["status"], served["result"]) == ("successful", {"ok": True})

    assert suspect_server.requests == []  # not one byte reached the suspended publisher
    assert len(bystander_server.requests) == 1
    invocation = Invocation.objects.get(sid=refused["request_sid"])
    assert (invocation.outcome, invocation.attempts, invocation.http_status) == ("publisher_inactive", 0, None)
    assert (invocation.billable, invocation.sla_breach) == (False, False)
    assert list(BillingEvent.objects.values_list("publisher", flat=True)) == [bystander.id]
    assert billing_services.balance_of(customer) == balance - Decimal("0.0020")

    # In the debugger of both sides: the customer's Alerts, the publisher's console.
    alerts = api.get("/v1/Alerts").json()["alerts"]
    assert [(a["error_code"], a["resource_sid"]) for a in alerts] == [("61017", invocation.sid)]
    assert "publisher account is suspended or closed" in alerts[0]["alert_text"]
    note = Notification.objects.get(account=suspect)
    assert (note.error_code, note.resource_sid) == (61017, invocation.sid)
    assert "Listing suspect" in note.message
    publisher_page = console_client(suspect, "suspect").get("/console/debugger/").content.decode()
    assert "61017" in publisher_page and "publisher account is suspended or closed" in publisher_page
    assert not Notification.objects.filter(account=bystander).exists()


def test_an_inbound_message_skips_the_suspended_publisher_only(api, customer, two_publishers):
    suspect, suspect_server, bystander, bystander_server = two_publishers
    numbers = f"/2010-04-01/Accounts/{customer.sid}/IncomingPhoneNumbers.json"
    assert api.post(numbers, {"PhoneNumber": "+14155552671"}).status_code == 201
    set_status(suspect, Account.Status.SUSPENDED)
    reply = api.post("/sandbox/v1/Messages", {"From": NUMBER, "To": "+14155552671", "Body": "hello"})
    assert reply.status_code == 201
    results = reply.json()["add_ons"]["results"]
    assert (results["suspect"]["code"], results["bystander"]["status"]) == (61017, "successful")
    assert suspect_server.requests == [] and len(bystander_server.requests) == 1
    assert list(BillingEvent.objects.values_list("publisher", flat=True)) == [bystander.id]


def test_a_reactivated_publisher_is_called_again(api, two_publishers):
    suspect, suspect_server, _, _ = two_publishers
    set_status(suspect, Account.Status.SUSPENDED)
    api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": "suspect"})
    set_status(suspect, Account.Status.ACTIVE)
    body = api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": "suspect"}).json()
    assert body["add_ons"]["results"]["suspect"]["status"] == "successful" and len(suspect_server.requests) == 1


@pytest.mark.parametrize("status", INACTIVE)
def test_a_suspended_publishers_listings_leave_the_catalog(api, customer, publisher, make_listing, status):
    listing = make_listing(unique_name="shelf")
    installation = installed(install(api, listing, "shelf"))
    set_status(publisher, status)
    assert api.get("/v1/AvailableAddOns").json()["available_add_ons"] == []
    assert api.get(f"/v1/AvailableAddOns/{listing.sid}").status_code == 404
    reply = api.post("/v1/InstalledAddOns", {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true"})
    assert reply.status_code == 404 and reply.json()["code"] == 20404
    console = console_client(customer, "cust")
    assert "shelf" not in console.get("/console/catalog/").content.decode().lower()
    assert console.get(f"/console/catalog/{listing.sid}/").status_code == 404
    # What is installed stays, for the customer to see and remove.
    assert api.get(f"/v1/InstalledAddOns/{installation.sid}").status_code == 200
    assert api.delete(f"/v1/InstalledAddOns/{installation.sid}").status_code == 204
    set_status(publisher, Account.Status.ACTIVE)
    assert [a["sid"] for a in api.get("/v1/AvailableAddOns").json()["available_add_ons"]] == [listing.sid]


# --- recordings -------------------------------------------------------------------------------


def upload(api, capture):
    with capture(execute=True):
        reply = api.upload("/sandbox/v1/Recordings", {"Audio": ("call.wav", wav_bytes(2.5))})
    assert reply.status_code == 201, reply
    return Recording.objects.get(sid=reply.json()["sid"])


def callback(client, capture, result, publisher):
    path = recording_services.callback_url(result.sid).split("://", 1)[1].split("/", 1)[1]
    credentials = base64.b64encode(f"{publisher.sid}:{publisher.auth_token}".encode()).decode()
    with capture(execute=True):
        return client.post(
            "/" + path,
            json.dumps({"transcript": "hi"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {credentials}",
        )


@pytest.mark.parametrize("status", INACTIVE)
def test_a_suspended_publisher_gets_no_audio_and_the_bystander_does(
    api, customer, make_listing, loopback, client, django_capture_on_commit_callbacks, status
):
    suspect = account_services.create_account(friendly_name="Suspect Audio", is_publisher=True)
    bystander = account_services.create_account(friendly_name="Bystander Audio", is_publisher=True)
    suspect_server, bystander_server = loopback(), loopback()
    install(
        api, make_listing(publisher_account=suspect, **recording_manifest(suspect_server.url + "/rec", "sus")), "sus"
    )
    install(
        api, make_listing(publisher_account=bystander, **recording_manifest(bystander_server.url + "/rec", "by")), "by"
    )
    set_status(suspect, status)

    recording = upload(api, django_capture_on_commit_callbacks)
    refused = AddOnResult.objects.get(recording=recording, listing__publisher=suspect)
    served = AddOnResult.objects.get(recording=recording, listing__publisher=bystander)
    assert (refused.status, refused.error_code) == ("failed", 61017)
    assert refused.error_message == "The add-on's publisher account is suspended or closed"
    assert served.status == "processing"
    assert suspect_server.requests == [] and len(bystander_server.requests) == 1
    invocation = Invocation.objects.get(sid=refused.sid)
    assert (invocation.outcome, invocation.billable, invocation.sla_breach) == ("publisher_inactive", False, False)
    assert refused.invocation_id == invocation.id
    assert {n.account_id for n in Notification.objects.filter(error_code=61017)} == {customer.id, suspect.id}

    assert callback(client, django_capture_on_commit_callbacks, served, bystander).status_code == 200
    assert AddOnResult.objects.get(pk=served.pk).status == "completed"
    assert list(BillingEvent.objects.values_list("publisher", flat=True)) == [bystander.id]

    # A suspended publisher cannot post a result either (its credentials act for nothing).
    assert callback(client, django_capture_on_commit_callbacks, refused, suspect).status_code == 403


@pytest.mark.parametrize("status", INACTIVE)
def test_queued_recordings_of_a_customer_suspended_meanwhile_are_not_sent(
    api, customer, publisher, make_listing, loopback, status
):
    publisher_server, webhook = loopback(), loopback()
    install(
        api,
        make_listing(**recording_manifest(publisher_server.url + "/rec", "rec")),
        "rec",
        {"callback_url": webhook.url + "/results"},
    )
    # Uploaded while active; the worker picks its results up only after the suspension.
    reply = api.upload("/sandbox/v1/Recordings", {"Audio": ("call.wav", wav_bytes(2.5))})
    assert reply.status_code == 201
    result = AddOnResult.objects.get()
    assert result.status == "queued"
    set_status(customer, status)

    tasks.deliver_to_publisher(result.sid)
    result.refresh_from_db()
    assert (result.status, result.error_code) == ("failed", 20005)
    assert result.error_message == "The account is suspended or closed; its recording was not sent"
    assert publisher_server.requests == [] and not BillingEvent.objects.exists()
    assert not Invocation.objects.exists()

    # Its result notification is not sent either: no call on a suspended account's behalf.
    assert recording_services.notify_customer(result_sid=result.sid) is False
    assert webhook.requests == []
    result.refresh_from_db()
    assert result.customer_notification == "undeliverable"
    note = Notification.objects.get(account=customer)
    assert note.error_code == 20005 and f"is {status}" in note.message and result.sid in note.message
