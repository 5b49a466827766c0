"""Recordings through a live server and a real django-q2 cluster in another process."""

import json
import threading

import pytest
import requests
from werkzeug import Response

from addons.models import Invocation
from recordings import services
from recordings.models import AddOnResult, Payload
from tests.fixtures.cluster import wait_for
from tests.recording_helpers import recording_manifest, wav_bytes


class AsyncPublisher:
    """Accepts the audio with 202, then posts a result to the callback URL from a thread.

    `hold_first` keeps the first request open until released: the worker sending it is
    then killed mid-task."""

    def __init__(self, httpserver, publisher, hold_first=False):
        self.publisher = publisher
        self.seen = []
        self.callbacks = []
        self.hold_first = hold_first
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        httpserver.expect_request("/analyse").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/analyse")

    def handle(self, request):
        self.seen.append(request.headers["X-Twilio-RequestSid"])
        form = request.form.to_dict()
        if self.hold_first and len(self.seen) == 1:
            self.first_arrived.set()
            self.release.wait(timeout=20)
            return Response(status=202)  # nobody is listening any more
        threading.Thread(target=self.call_back, args=(form["callback_url"], form["media_sid"]), daemon=True).start()
        return Response(status=202)

    def call_back(self, url, media_sid):
        reply = requests.post(
            url,
            json={"transcript": f"analysis of {media_sid}"},
            auth=(self.publisher.sid, self.publisher.auth_token),
            timeout=10,
        )
        self.callbacks.append(reply.status_code)


@pytest.fixture
def install_recording_add_on(live_server, customer, make_listing):
    def install(url):
        listing = make_listing(**recording_manifest(url))
        reply = requests.post(
            f"{live_server.url}/v1/InstalledAddOns",
            data={"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "UniqueName": "transcriber"},
            auth=(customer.sid, customer.auth_token),
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        return reply.json()

    return install


def upload(live_server, customer, seconds=2.5):
    reply = requests.post(
        f"{live_server.url}/sandbox/v1/Recordings",
        files={"Audio": ("call.wav", wav_bytes(seconds))},
        auth=(customer.sid, customer.auth_token),
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_a_recording_end_to_end_through_the_cluster(
    live_server, customer, publisher, httpserver, qcluster, install_recording_add_on
):
    publisher_server = AsyncPublisher(httpserver, publisher)
    install_recording_add_on(publisher_server.url)
    qcluster()
    recording = upload(live_server, customer)
    result = wait_for(lambda: AddOnResult.objects.filter(recording__sid=recording["sid"], status="completed").first())
    # The result completes before the publisher's thread has read our answer to its callback.
    assert wait_for(lambda: publisher_server.callbacks) == [200]
    assert result.billable_minutes == 1
    payload = Payload.objects.get(add_on_result=result)
    assert json.loads(payload.data.open("rb").read()) == {"transcript": f"analysis of {recording['sid']}"}
    listed = requests.get(
        f"{live_server.url}/2010-04-01/Accounts/{customer.sid}/Recordings/{recording['sid']}/AddOnResults.json",
        auth=(customer.sid, customer.auth_token),
        timeout=10,
    ).json()
    assert [(r["sid"], r["status"]) for r in listed["add_on_results"]] == [(result.sid, "completed")]


def test_a_worker_killed_mid_task_leaves_exactly_one_terminal_state(
    live_server, customer, publisher, httpserver, qcluster, install_recording_add_on, settings
):
    settings.DISPATCH_LEASE_S = 2
    publisher_server = AsyncPublisher(httpserver, publisher, hold_first=True)
    install_recording_add_on(publisher_server.url)
    first = qcluster()
    recording = upload(live_server, customer)
    assert publisher_server.first_arrived.wait(20), "the worker never called the publisher"
    first.kill()  # mid-task: the publisher has the audio, the worker never hears back
    publisher_server.release.set()
    result = AddOnResult.objects.get(recording__sid=recording["sid"])
    assert result.status == "queued" and not Invocation.objects.filter(sid=result.sid).exists()

    qcluster()
    # The periodic sweep's work, done now rather than at the next minute: the ORM broker
    # would redeliver by itself, Redis would not; either way the lease prevents a double send.
    wait_for(
        lambda: services.redeliver_stalled_results() or AddOnResult.objects.get(pk=result.pk).status != "queued",
        timeout=30,
        interval=0.5,
    )
    result = wait_for(lambda: AddOnResult.objects.filter(pk=result.pk, status__in=["completed", "failed"]).first())

    assert result.status == "completed" and result.billable_minutes == 1
    assert publisher_server.seen == [result.sid, result.sid]  # same request SID: the idempotency token
    assert wait_for(lambda: publisher_server.callbacks) == [200]
    assert Invocation.objects.filter(sid=result.sid).count() == 1
    assert Payload.objects.filter(add_on_result=result).count() == 1


def test_two_concurrent_callbacks_one_wins(live_server, customer, publisher, httpserver, make_listing, settings):
    settings.MARKETPLACE_BASE_URL = live_server.url
    httpserver.expect_request("/analyse").respond_with_data("", status=202)
    listing = make_listing(**recording_manifest(httpserver.url_for("/analyse")))
    requests.post(
        f"{live_server.url}/v1/InstalledAddOns",
        data={"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true"},
        auth=(customer.sid, customer.auth_token),
        timeout=10,
    ).raise_for_status()
    upload(live_server, customer)
    result = AddOnResult.objects.get()
    assert result.status == "processing"
    url = services.callback_url(result.sid)
    start = threading.Barrier(2)
    statuses = []

    def post(text):
        start.wait()
        reply = requests.post(url, json={"transcript": text}, auth=(publisher.sid, publisher.auth_token), timeout=10)
        statuses.append(reply.status_code)

    threads = [threading.Thread(target=post, args=(text,)) for text in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(statuses) == [200, 409]
    result.refresh_from_db()
    assert result.status == "completed" and Payload.objects.filter(add_on_result=result).count() == 1


def test_the_bundled_voice_insights_publisher_analyses_a_recording(live_server, customer, qcluster, bundled_listing):
    listing = bundled_listing("voice_insights")
    reply = requests.post(
        f"{live_server.url}/v1/InstalledAddOns",
        data={
            "AvailableAddOnSid": listing.sid,
            "AcceptTermsOfService": "true",
            "Configuration": '{"detail": "summary"}',
        },
        auth=(customer.sid, customer.auth_token),
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    qcluster()
    recording = upload(live_server, customer, seconds=1.5)
    result = wait_for(
        lambda: AddOnResult.objects.filter(recording__sid=recording["sid"], status__in=["completed", "failed"]).first()
    )
    assert result.status == "completed", result.error_message
    analysis = json.loads(Payload.objects.get(add_on_result=result).data.open("rb").read())
    assert analysis["media_sid"] == recording["sid"] and analysis["duration_ms"] == 1500
    assert analysis["segments"][0]["kind"] == "speech"  # a steady 440 Hz tone, loud throughout
