"""Money pinned to what the customer accepted, and never overdrawn (issue 13).

Every charge uses the installation's pinned version; priced work holds its cost with one
conditional UPDATE before the publisher is called, and the hold becomes the charge or is
released. The concurrency tests race a nearly empty balance through a live server's threads
and through two gunicorn processes, on whichever database the suite runs on."""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from accounts.services import create_account
from addons.models import Invocation, Listing
from addons.services import import_listing
from addons.tests.factories import install
from billing import services as billing
from billing.models import Balance, BillingEvent, Hold, LedgerEntry
from recordings import services as recording_services
from recordings.models import AddOnResult
from tests.fixtures import cluster
from tests.fixtures.core import funded_account
from tests.fixtures.invoking import endpoint_manifest
from tests.private_services import free_port
from tests.recording_helpers import recording_manifest, wav_bytes

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "+14155552671"

pytestmark = pytest.mark.money


def balance(account):
    return Balance.objects.get(account=account).amount


class CountingPublisher:
    """A loopback publisher answering every call with a JSON body; counts the calls."""

    def __init__(self, body=None, status=200, delay=0.0):
        owner = self
        self.calls = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with owner.lock:
                    owner.calls += 1
                if delay:
                    time.sleep(delay)
                data = json.dumps(body if body is not None else {"ok": True}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the platform gave up on us (the timeout test): as intended

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/p"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_publisher():
    servers = []

    def make(**kwargs):
        servers.append(CountingPublisher(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def priced(url, unique_name="insight", price="0.01", model="per_use", **extra):
    manifest = endpoint_manifest(url, unique_name)
    manifest["pricing"] = {"model": model, "price": price, **extra}
    return manifest


def lookup(api, *names):
    reply = api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": list(names)})
    assert reply.status_code == 200, reply
    return reply.json()["add_ons"]["results"]


# --- pinned pricing -----------------------------------------------------------------------


class TestPinnedPricing:
    def test_a_new_version_does_not_reprice_an_existing_installation(
        self, api, customer, publisher, counting_publisher
    ):
        server = counting_publisher()
        import_listing(manifest=priced(server.url, price="0.01"), publisher=publisher, state="active")
        install(api, Listing.objects.get(unique_name="insight"), "insight")
        # The publisher releases v2 at 5.00, then v3 with another model and a billable item.
        import_listing(manifest=priced(server.url, price="5.00"), publisher=publisher, state="active")
        v3 = priced(server.url, model="per_success", price="7.00", success={"status_codes": [200], "absent": []})
        import_listing(manifest=v3, publisher=publisher, state="active")
        before = balance(customer)
        for _ in range(3):
            assert lookup(api, "insight")["insight"]["status"] == "successful"
        events = list(BillingEvent.objects.all())
        assert [(e.kind, e.unit_price, e.amount) for e in events] == [("per_use", Decimal("0.01"), Decimal("0.01"))] * 3
        assert balance(customer) == before - Decimal("0.03")
        assert {i.version.number for i in Invocation.objects.all()} == {1}

    def test_a_recording_is_billed_at_the_pinned_per_minute_price(
        self, api, client, customer, publisher, httpserver, django_capture_on_commit_callbacks
    ):
        httpserver.expect_request("/rec").respond_with_data("", status=202)
        manifest = recording_manifest(httpserver.url_for("/rec"))
        listing = import_listing(manifest=manifest, publisher=publisher, state="active").listing
        install(api, listing, configuration=None)
        import_listing(
            manifest={**manifest, "pricing": {"model": "per_minute", "price": "5.00"}},
            publisher=publisher,
            state="active",
        )
        before = balance(customer)
        with django_capture_on_commit_callbacks(execute=True):
            api.upload("/sandbox/v1/Recordings", {"Audio": ("a.wav", wav_bytes(61, rate=2000))})
        result = AddOnResult.objects.get()
        assert Hold.objects.get().amount == Decimal("0.02")  # 2 minutes at v1's 0.01, not v2's 5.00
        callback(client, publisher, result, django_capture_on_commit_callbacks)
        event = BillingEvent.objects.get()
        assert (event.unit_price, event.amount) == (Decimal("0.01"), Decimal("0.02"))
        assert balance(customer) == before - Decimal("0.02")


def callback(client, publisher, result, capture, body=None):
    credentials = base64.b64encode(f"{publisher.sid}:{publisher.auth_token}".encode()).decode()
    with capture(execute=True):
        return client.post(
            recording_services.callback_url(result.sid).split("8000", 1)[1],
            json.dumps(body or {"transcript": "x"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {credentials}",
        )


# --- holds on the synchronous path ---------------------------------------------------------


class TestHolds:
    @pytest.fixture
    def funded(self, db, api_for):
        def make(credit):
            account = funded_account("Nearly broke", credit=credit)
            return account, api_for(account)

        return make

    def add_on(self, publisher, api, url, name="insight", **pricing):
        listing = import_listing(manifest=priced(url, name, **pricing), publisher=publisher, state="active").listing
        install(api, listing, name)

    def test_a_served_add_on_turns_its_hold_into_the_charge(self, funded, publisher, counting_publisher):
        account, api = funded("1")
        self.add_on(publisher, api, counting_publisher().url)
        result = lookup(api, "insight")["insight"]
        hold = Hold.objects.get()
        assert (hold.key, hold.amount, hold.state) == (
            f"invocation:{result['request_sid']}",
            Decimal("0.01"),
            "charged",
        )
        assert hold.date_settled is not None
        assert BillingEvent.objects.get().key == hold.key
        assert balance(account) == Decimal("0.99")

    @pytest.mark.parametrize(
        "answer",
        [
            {"status": 500},  # failed after retries
            {"status": 404},  # refused
            {"body": {"error": {"message": "no"}}},  # the publisher's own error
        ],
    )
    def test_a_failed_call_releases_its_hold(self, funded, publisher, counting_publisher, answer):
        account, api = funded("1")
        server = counting_publisher(**answer)
        self.add_on(publisher, api, server.url)
        assert lookup(api, "insight")["insight"]["status"] == "failed"
        assert server.calls >= 1
        assert Hold.objects.get().state == "released"
        assert BillingEvent.objects.count() == 0 and balance(account) == Decimal("1")

    def test_a_timeout_releases_its_hold(self, funded, publisher, counting_publisher):
        account, api = funded("1")
        server = counting_publisher(delay=1.5)
        listing = import_listing(
            manifest=priced(server.url, "slow")
            | {"endpoint": {**endpoint_manifest(server.url, "slow")["endpoint"], "timeout_ms": 300, "retries": 0}},
            publisher=publisher,
            state="active",
        ).listing
        install(api, listing, "slow")
        assert lookup(api, "slow")["slow"]["code"] == 61020
        assert Hold.objects.get().state == "released" and balance(account) == Decimal("1")

    def test_per_success_without_success_releases_its_hold(self, funded, publisher, counting_publisher):
        account, api = funded("1")
        server = counting_publisher(body={"no_match": True})
        self.add_on(
            publisher,
            api,
            server.url,
            model="per_success",
            price="0.05",
            success={"status_codes": [200], "absent": ["/no_match"]},
        )
        assert lookup(api, "insight")["insight"]["status"] == "successful"
        assert Hold.objects.get().state == "released"
        assert BillingEvent.objects.count() == 0 and balance(account) == Decimal("1")

    def test_requirements_not_met_release_the_hold_and_do_not_call(self, funded, publisher, counting_publisher):
        account, api = funded("1")
        server = counting_publisher()
        manifest = priced(server.url, "strict")
        manifest["request_validation_schema"] = {"type": "object", "required": ["secondary_address"]}
        install(api, import_listing(manifest=manifest, publisher=publisher, state="active").listing, "strict")
        assert lookup(api, "strict")["strict"]["code"] == 61003
        assert server.calls == 0 and Hold.objects.get().state == "released" and balance(account) == Decimal("1")

    def test_an_event_is_served_as_far_as_the_balance_covers_in_the_order_asked(
        self, funded, publisher, counting_publisher
    ):
        account, api = funded("0.05")
        servers = {}
        for name, price in (("first", "0.03"), ("second", "0.03"), ("third", "0.02"), ("fourth", "0.01")):
            servers[name] = counting_publisher()
            self.add_on(publisher, api, servers[name].url, name, price=price)
        results = lookup(api, "first", "second", "third", "fourth")
        # first (0.03) fits, second (0.03) not on the 0.02 left, third (0.02) does, fourth finds nothing
        codes = {"first": None, "second": 61032, "third": None, "fourth": 61032}
        assert {n: r["code"] for n, r in results.items()} == codes
        assert {n: s.calls for n, s in servers.items()} == {"first": 1, "second": 0, "third": 1, "fourth": 0}
        assert balance(account) == Decimal("0") and BillingEvent.objects.count() == 2
        assert sorted(Hold.objects.values_list("state", flat=True)) == ["charged", "charged"]

    def test_an_empty_balance_calls_nobody(self, db, api_for, publisher, counting_publisher):
        account = create_account(friendly_name="Never credited")
        api = api_for(account)
        server = counting_publisher()
        self.add_on(publisher, api, server.url)
        assert lookup(api, "insight")["insight"]["code"] == 61032
        assert server.calls == 0 and Hold.objects.count() == 0 and BillingEvent.objects.count() == 0

    def test_inbound_messages_hold_too(self, funded, publisher, counting_publisher):
        from accounts.services import create_phone_number

        account, api = funded("0.01")
        server = counting_publisher()
        listing = import_listing(manifest=priced(server.url, "insight"), publisher=publisher, state="active").listing
        install(api, listing, "insight")
        number = create_phone_number(account=account, phone_number="+14155550123")
        for _ in range(2):
            reply = api.post("/sandbox/v1/Messages", {"From": "+18005550100", "To": number.phone_number, "Body": "hi"})
            assert reply.status_code in (200, 201), reply.json()
        assert server.calls == 1 and balance(account) == Decimal("0")
        assert Invocation.objects.filter(error_code=61032).count() == 1

    def test_a_hold_left_by_a_dead_process_is_released_by_the_sweep(self, funded):
        account, _ = funded("1")
        assert billing.place_holds(account=account, wanted=[("invocation:XRdead", Decimal("0.4"))]) == {
            "invocation:XRdead"
        }
        assert balance(account) == Decimal("0.6")
        assert billing.release_stale_holds() == 0  # fresh: its request may still be running
        assert billing.release_stale_holds(now=timezone.now() + timedelta(minutes=11)) == 1
        assert Hold.objects.get().state == "released" and balance(account) == Decimal("1")
        assert billing.release_hold(key="invocation:XRdead") is None  # once


# --- holds on recordings ------------------------------------------------------------------


class TestRecordingHolds:
    @pytest.fixture
    def recording_add_on(self, api, publisher, httpserver):
        httpserver.expect_request("/rec").respond_with_data("", status=202)
        listing = import_listing(
            manifest=recording_manifest(httpserver.url_for("/rec")), publisher=publisher, state="active"
        ).listing
        install(api, listing, configuration=None)
        return listing

    def upload(self, api, seconds, capture):
        with capture(execute=True):
            return api.upload("/sandbox/v1/Recordings", {"Audio": ("a.wav", wav_bytes(seconds, rate=2000))})

    def test_a_failed_result_releases_its_hold(
        self, api, client, customer, publisher, recording_add_on, django_capture_on_commit_callbacks
    ):
        before = balance(customer)
        self.upload(api, 30, django_capture_on_commit_callbacks)
        assert balance(customer) == before - Decimal("0.01")
        result = AddOnResult.objects.get()
        callback(client, publisher, result, django_capture_on_commit_callbacks, body={"error": {"message": "no"}})
        assert AddOnResult.objects.get().status == "failed"
        assert Hold.objects.get().state == "released" and balance(customer) == before

    def test_an_overdue_result_releases_its_hold(
        self, api, customer, recording_add_on, django_capture_on_commit_callbacks
    ):
        before = balance(customer)
        self.upload(api, 30, django_capture_on_commit_callbacks)
        AddOnResult.objects.update(date_deadline=timezone.now() - timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert recording_services.fail_overdue_results() == 1
        assert Hold.objects.get().state == "released" and balance(customer) == before

    def test_a_refused_dispatch_releases_its_hold(
        self, api, customer, publisher, httpserver, django_capture_on_commit_callbacks
    ):
        httpserver.expect_request("/down").respond_with_data("no", status=400)
        listing = import_listing(
            manifest=recording_manifest(httpserver.url_for("/down")), publisher=publisher, state="active"
        ).listing
        install(api, listing, configuration=None)
        before = balance(customer)
        self.upload(api, 30, django_capture_on_commit_callbacks)
        assert AddOnResult.objects.get().status == "failed"
        assert Hold.objects.get().state == "released" and balance(customer) == before

    def test_deleting_an_open_recording_releases_its_hold(
        self, api, customer, recording_add_on, django_capture_on_commit_callbacks
    ):
        before = balance(customer)
        self.upload(api, 30, django_capture_on_commit_callbacks)
        recording_services.delete_recording(recording=AddOnResult.objects.get().recording)
        assert Hold.objects.get().state == "released" and balance(customer) == before

    def test_a_recording_the_balance_cannot_cover_is_not_sent(
        self, db, api_for, publisher, httpserver, django_capture_on_commit_callbacks
    ):
        account = funded_account("Short", credit="0.02")
        api = api_for(account)
        httpserver.expect_request("/rec").respond_with_data("", status=202)
        listing = import_listing(
            manifest=recording_manifest(httpserver.url_for("/rec")), publisher=publisher, state="active"
        ).listing
        install(api, listing, configuration=None)
        self.upload(api, 125, django_capture_on_commit_callbacks)  # 3 minutes: 0.03 USD
        assert AddOnResult.objects.get().error_code == 61032
        assert httpserver.log == [] and Hold.objects.count() == 0 and balance(account) == Decimal("0.02")


# --- racing a nearly empty balance ----------------------------------------------------------

CONCURRENT = 40


def race(urls, account, count=CONCURRENT):
    """`count` lookups at once, spread over the servers at `urls`; their add-on results."""
    barrier = threading.Barrier(count)

    def one(n):
        barrier.wait(timeout=30)
        reply = requests.get(
            f"{urls[n % len(urls)]}/v1/PhoneNumbers/{NUMBER}",
            params={"AddOns": "insight"},
            auth=(account.sid, account.auth_token),
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["add_ons"]["results"]["insight"]

    with ThreadPoolExecutor(max_workers=count) as threads:
        return list(threads.map(one, range(count)))


def assert_exactly_five_served(results, account, server):
    served = [r for r in results if r["status"] == "successful"]
    refused = [r for r in results if r["code"] == 61032]
    assert (len(served), len(refused)) == (5, CONCURRENT - 5), [r["code"] for r in results]
    assert server.calls == 5
    assert BillingEvent.objects.filter(account=account).count() == 5
    assert LedgerEntry.objects.filter(account=account, kind="debit").count() == 5
    assert balance(account) == Decimal("0.00")
    assert Hold.objects.filter(account=account, state="charged").count() == 5
    assert not Hold.objects.filter(account=account, state="held").exists()


def race_setup(publisher, server, api_for):
    account = funded_account("Racing", credit="0.05")
    listing = import_listing(manifest=priced(server.url, price="0.01"), publisher=publisher, state="active").listing
    install(api_for(account), listing, "insight")
    return account


def test_forty_concurrent_lookups_on_five_lookups_of_balance_through_threads(
    live_server, settings, publisher, api_for, counting_publisher
):
    settings.MARKETPLACE_BASE_URL = live_server.url
    server = counting_publisher(delay=0.05)
    account = race_setup(publisher, server, api_for)
    assert_exactly_five_served(race([live_server.url], account), account, server)


@pytest.fixture
def web_processes(live_server, settings):
    """Two gunicorn processes (2 threads each) on the test database: the race crosses
    processes, so only the database can keep it honest."""
    processes, urls = [], []
    env = {
        **os.environ,
        "DATABASE_URL": cluster.test_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "API_RATE_LIMIT": "",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4",
        "OUTBOUND_ALLOW_PRIVATE": "1",
        "CIRCUIT_FAILURES": "1000000",
    }
    for _ in range(2):
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "marketplace.wsgi",
        ]
        processes.append(
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"{url} never came up"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def test_forty_concurrent_lookups_on_five_lookups_of_balance_through_two_processes(
    web_processes, publisher, api_for, counting_publisher
):
    server = counting_publisher(delay=0.05)
    account = race_setup(publisher, server, api_for)
    assert_exactly_five_served(race(web_processes, account), account, server)
