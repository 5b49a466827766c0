"""Recordings and their asynchronous add-ons, with a loopback publisher and the real queue
code (django-q2 in its sync mode; tests/test_recordings_cluster.py runs a real cluster)."""

import hashlib
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone
from twilio.request_validator import RequestValidator
from werkzeug import Response

from accounts.api.auth import authenticate_credentials
from addons.models import Invocation, Notification
from billing.models import BillingEvent
from recordings import services
from recordings.models import AddOnResult, Payload, Recording
from tests.recording_helpers import recording_manifest, wav_bytes


def test_upload_reads_the_audio_and_queues_a_result_the_publisher_accepts(
    api, customer, publisher, publisher_server, recording_add_on, upload
):
    server = publisher_server((202, ""))
    installed = recording_add_on(server.url, configuration={"language": "es"})
    reply = upload(wav_bytes(2.5, rate=8000, channels=2))
    assert reply.status_code == 201
    body = reply.json()
    assert body["sid"].startswith("RE") and body["duration"] == "3" and body["channels"] == 2
    recording = Recording.objects.get(sid=body["sid"])
    assert (recording.duration_ms, recording.sample_rate, recording.size) == (
        2500,
        8000,
        len(wav_bytes(2.5, channels=2)),
    )

    result = AddOnResult.objects.get(recording=recording)
    assert result.status == "processing" and result.installation_sid == installed["sid"]
    parts = server.form()
    assert parts["audio"][1] == recording.audio.open("rb").read()
    assert parts["audio"][0].get_content_type() == "audio/x-wav"
    assert parts["media_sid"][1].decode() == recording.sid and parts["duration"][1] == b"2500"
    assert parts["lang"][1] == b"es" and parts["channels"][1] == b"2"
    assert parts["callback_url"][1].decode() == services.callback_url(result.sid)
    request = server.requests[0]
    assert request.headers["X-Twilio-RequestSid"] == result.sid
    # Binary bodies are signed like JSON ones: bodySHA256 in the signed URL.
    signed_url = f"http://{request.host}{request.environ['RAW_URI']}"
    assert parse_qs(urlsplit(signed_url).query)["bodySHA256"] == [hashlib.sha256(request.get_data()).hexdigest()]
    assert RequestValidator(publisher.auth_token).validate(signed_url, {}, request.headers["X-Twilio-Signature"])
    assert not RequestValidator("wrong").validate(signed_url, {}, request.headers["X-Twilio-Signature"])
    invocation = Invocation.objects.get(sid=result.sid)
    assert invocation.outcome == "success" and invocation.integration_point == "recordings"
    assert "bytes of audio" in invocation.request["body"]  # the audio is never stored in the record


def test_the_callback_completes_the_result_once(
    api, customer, publisher, publisher_server, recording_add_on, upload, post_callback
):
    server = publisher_server((202, ""))
    recording_add_on(server.url)
    recording_sid = upload().json()["sid"]
    result = AddOnResult.objects.get()
    url = services.callback_url(result.sid)

    reply = post_callback(url, publisher, {"transcript": "hello world"})
    assert reply.status_code == 200 and reply.json()["status"] == "completed"
    result.refresh_from_db()
    assert result.status == "completed" and result.date_completed is not None
    assert result.billable_minutes == 1  # 2.5 s: one started minute
    payload = Payload.objects.get()
    assert json.loads(payload.data.open("rb").read()) == {"transcript": "hello world"}
    assert payload.content_type == "application/json" and payload.label == "transcriber"

    again = post_callback(url, publisher, {"transcript": "second"})
    assert again.status_code == 409
    assert Payload.objects.count() == 1 and AddOnResult.objects.get().status == "completed"

    base = f"/2010-04-01/Accounts/{customer.sid}/Recordings/{recording_sid}/AddOnResults"
    listed = api.get(f"{base}.json").json()["add_on_results"]
    assert [(r["sid"], r["status"]) for r in listed] == [(result.sid, "completed")]
    payloads = api.get(f"{base}/{result.sid}/Payloads.json").json()["payloads"]
    assert [p["sid"] for p in payloads] == [payload.sid]
    data = api.get(f"{base}/{result.sid}/Payloads/{payload.sid}/Data.json")
    assert data.status_code == 307
    download = data.json()["redirect_to"]
    assert download.startswith("http://127.0.0.1:8000/downloads/v1/Payloads/")


@pytest.mark.parametrize(
    "username,password",
    [(None, "wrong-token"), ("AC" + "0" * 32, "x")],
    ids=["wrong-token", "unknown-account"],
)
def test_a_callback_with_wrong_credentials_changes_nothing(
    publisher, publisher_server, recording_add_on, upload, post_callback, username, password
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    reply = post_callback(
        services.callback_url(result.sid), publisher, {"transcript": "x"}, username=username, password=password
    )
    assert reply.status_code == 401 and reply.json()["code"] == 20003
    assert AddOnResult.objects.get().status == "processing" and Payload.objects.count() == 0


def test_a_callback_by_another_account_is_refused(
    customer, publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    reply = post_callback(services.callback_url(result.sid), customer, {"transcript": "x"})
    assert reply.status_code == 401
    assert AddOnResult.objects.get().status == "processing"


def test_a_forged_callback_token_is_404(publisher, publisher_server, recording_add_on, upload, post_callback):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    forged = services.callback_url(result.sid)[:-4] + "beef"
    assert post_callback(forged, publisher, {"transcript": "x"}).status_code == 404
    assert AddOnResult.objects.get().status == "processing"


def test_a_late_callback_is_refused_and_the_result_failed_unbilled(
    publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    AddOnResult.objects.filter(pk=result.pk).update(date_deadline=result.date_created)
    reply = post_callback(services.callback_url(result.sid), publisher, {"transcript": "late"})
    assert reply.status_code == 410
    result.refresh_from_db()
    assert (result.status, result.error_code, result.billable_minutes) == ("failed", 61020, 0)
    assert Payload.objects.count() == 0


def test_the_overdue_sweep_fails_silent_results(
    publisher, publisher_server, recording_add_on, upload, django_capture_on_commit_callbacks
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    assert services.fail_overdue_results() == 0
    AddOnResult.objects.filter(pk=result.pk).update(date_deadline=result.date_created)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.fail_overdue_results() == 1
    result.refresh_from_db()
    assert (result.status, result.error_code, result.billable_minutes) == ("failed", 61020, 0)
    assert services.fail_overdue_results() == 0


def stale_claim(settings):
    """When a callback that claimed its result never finished (the database restarted)."""
    return timezone.now() - timedelta(seconds=settings.CALLBACK_CLAIM_LEASE_S + 1)


def test_a_callback_that_never_finished_may_be_retried_once_its_claim_is_stale(
    settings, publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    url = services.callback_url(result.sid)
    AddOnResult.objects.filter(pk=result.pk).update(callback_claimed_at=timezone.now())
    busy = post_callback(url, publisher, {"transcript": "again"})
    assert busy.status_code == 409  # for all we know the first is still streaming
    AddOnResult.objects.filter(pk=result.pk).update(callback_claimed_at=stale_claim(settings))
    assert post_callback(url, publisher, {"transcript": "again"}).status_code == 200
    result.refresh_from_db()
    assert (result.status, result.billable_minutes) == ("completed", 1)
    assert Payload.objects.count() == 1 and BillingEvent.objects.filter(reference=result.sid).count() == 1


def test_the_overdue_sweep_fails_a_result_whose_callback_never_finished(
    settings, publisher, publisher_server, recording_add_on, upload, django_capture_on_commit_callbacks
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    AddOnResult.objects.filter(pk=result.pk).update(
        date_deadline=result.date_created, callback_claimed_at=timezone.now()
    )
    assert services.fail_overdue_results() == 0  # a callback is still streaming its result
    AddOnResult.objects.filter(pk=result.pk).update(callback_claimed_at=stale_claim(settings))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.fail_overdue_results() == 1
    result.refresh_from_db()
    assert (result.status, result.error_code, result.billable_minutes) == ("failed", 61020, 0)
    assert not BillingEvent.objects.filter(reference=result.sid).exists()


def test_a_callback_whose_claim_is_taken_over_while_it_streams_stores_nothing(
    settings, media_root, publisher, publisher_server, recording_add_on, upload
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()

    class TakenOverWhileStreaming(io.BytesIO):
        """As this callback streams, a retry takes the result over (this one's claim went stale)."""

        def read(self, size=-1):
            AddOnResult.objects.filter(pk=result.pk).update(callback_claimed_at=timezone.now() + timedelta(seconds=1))
            return super().read(size)

    with pytest.raises(services.CallbackRefused) as refused:
        services.receive_callback(
            result_sid=result.sid,
            token=services.callback_token(result.sid),
            principal=authenticate_credentials(publisher.sid, publisher.auth_token),
            body=TakenOverWhileStreaming(json.dumps({"transcript": "x"}).encode()),
            content_type="application/json",
        )
    assert (refused.value.status, refused.value.code) == (409, 20409)
    result.refresh_from_db()
    assert result.status == "processing" and Payload.objects.count() == 0
    assert not list((media_root / "payloads").rglob(f"{result.sid}/*"))  # the stored file was removed
    assert not BillingEvent.objects.filter(reference=result.sid).exists()


def test_a_notification_whose_task_was_lost_is_sent_by_the_sweep(
    settings, publisher, publisher_server, recording_add_on, upload, httpserver, django_capture_on_commit_callbacks
):
    told = []
    httpserver.expect_request("/told").respond_with_handler(
        lambda r: told.append(r.form["AddOnResultSid"]) or Response("ok")
    )
    recording_add_on(publisher_server((202, "")).url, configuration={"callback_url": httpserver.url_for("/told")})
    upload()
    result = AddOnResult.objects.get()
    with django_capture_on_commit_callbacks(execute=False):  # the broker loses the notify task
        services.receive_callback(
            result_sid=result.sid,
            token=services.callback_token(result.sid),
            principal=authenticate_credentials(publisher.sid, publisher.auth_token),
            body=io.BytesIO(b'{"transcript": "x"}'),
            content_type="application/json",
        )
    result.refresh_from_db()
    assert (result.status, result.customer_notification, told) == ("completed", "pending", [])
    assert services.renotify_lost_notifications() == 0  # its task may still be on its way
    AddOnResult.objects.filter(pk=result.pk).update(
        date_completed=timezone.now() - timedelta(seconds=settings.DISPATCH_LEASE_S + 1)
    )
    assert services.renotify_lost_notifications() == 1
    result.refresh_from_db()
    assert (result.customer_notification, told) == ("delivered", [result.sid])
    assert services.renotify_lost_notifications() == 0


def test_a_result_without_a_callback_url_owes_no_notification(publisher_server, recording_add_on, upload):
    recording_add_on(publisher_server((400, "")).url)
    upload()
    result = AddOnResult.objects.get()
    assert (result.status, result.customer_notification) == ("failed", "not_requested")
    assert services.renotify_lost_notifications() == 0


def test_a_callback_over_the_size_limit_is_413_and_fails_the_result(
    settings, publisher, publisher_server, recording_add_on, upload, post_callback
):
    settings.CALLBACK_MAX_BYTES = 1000
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    reply = post_callback(services.callback_url(result.sid), publisher, {"transcript": "x" * 2000})
    assert reply.status_code == 413
    result.refresh_from_db()
    assert (result.status, result.error_code) == ("failed", 61024)
    assert Payload.objects.count() == 0


@pytest.mark.parametrize(
    "body,code",
    [
        ({"error": {"message": "unsupported codec"}}, 61008),
        ({"words": []}, 61026),
        (b"not json", 61025),
    ],
    ids=["publisher-error", "schema", "not-json"],
)
def test_a_bad_result_fails_but_is_kept_for_inspection(
    publisher, publisher_server, recording_add_on, upload, post_callback, body, code
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    assert post_callback(services.callback_url(result.sid), publisher, body).status_code == 200
    result.refresh_from_db()
    assert (result.status, result.error_code, result.billable_minutes) == ("failed", code, 0)
    assert Payload.objects.count() == 1


@pytest.mark.parametrize(
    "answers,attempts,status,code",
    [
        ([(200, '{"transcript": "too soon"}')], 1, "failed", 61027),
        ([(200, '{"error": {"message": "no credit"}}')], 1, "failed", 61008),
        ([(403, "")], 1, "failed", 61022),
        ([(503, ""), (500, ""), (202, "")], 3, "processing", None),
        ([(204, "")], 1, "processing", None),
        ([(500, "")], 3, "failed", 61023),
    ],
    ids=["200-with-body", "200-error-object", "4xx", "5xx-then-202", "204", "5xx-always"],
)
def test_how_the_publisher_answers_the_audio(
    publisher_server, recording_add_on, upload, answers, attempts, status, code
):
    server = publisher_server(*answers)
    recording_add_on(server.url)
    upload()
    result = AddOnResult.objects.get()
    assert (result.status, result.error_code) == (status, code)
    assert len(server.requests) == attempts
    assert {r.headers["X-Twilio-RequestSid"] for r in server.requests} == {result.sid}
    assert Invocation.objects.get(sid=result.sid).attempts == attempts


def test_the_customer_is_told_on_completion(
    customer, publisher, publisher_server, recording_add_on, upload, post_callback, httpserver
):
    told = []
    httpserver.expect_request("/told").respond_with_handler(lambda r: told.append(r) or Response("ok"))
    recording_add_on(
        publisher_server((202, "")).url,
        configuration={"callback_url": httpserver.url_for("/told"), "callback_method": "POST"},
    )
    upload()
    result = AddOnResult.objects.get()
    post_callback(services.callback_url(result.sid), publisher, {"transcript": "hi"})
    (request,) = told
    form = request.form.to_dict()
    assert (form["AddOnResultSid"], form["Status"], form["AccountSid"]) == (result.sid, "completed", customer.sid)
    assert json.loads(form["Links"])["payloads"].endswith(f"/AddOnResults/{result.sid}/Payloads.json")
    assert RequestValidator(customer.auth_token).validate(
        httpserver.url_for("/told"), form, request.headers["X-Twilio-Signature"]
    )
    assert AddOnResult.objects.get().customer_notification == "delivered"


def retry_when_due(result):
    """What the scheduler does in a cluster: run the notification again once it is due."""
    result.refresh_from_db()
    AddOnResult.objects.filter(pk=result.pk).update(date_notify_due=timezone.now())
    assert services.renotify_lost_notifications() == 1
    result.refresh_from_db()


def test_the_customer_is_told_of_failures_and_retried(customer, publisher_server, recording_add_on, upload, httpserver):
    answers = [500, 500, 200]
    told = []
    httpserver.expect_request("/told").respond_with_handler(
        lambda r: told.append(r) or Response("x", status=answers[len(told) - 1])
    )
    recording_add_on(publisher_server((400, "")).url, configuration={"callback_url": httpserver.url_for("/told")})
    upload()
    result = AddOnResult.objects.get()
    # One attempt per task: the retry is scheduled for later, not slept on in the worker.
    assert len(told) == 1 and result.customer_notification == "pending" and result.notify_attempts == 1
    AddOnResult.objects.filter(pk=result.pk).update(date_notify_due=timezone.now() + timedelta(seconds=60))
    assert services.notify_customer(result_sid=result.sid) is None and len(told) == 1  # not before it is due
    assert services.renotify_lost_notifications() == 0
    retry_when_due(result)
    retry_when_due(result)
    assert [r.form["Status"] for r in told] == ["failed"] * 3
    assert (result.customer_notification, result.notify_attempts) == ("delivered", 3)
    assert services.renotify_lost_notifications() == 0


def test_an_undeliverable_notification_becomes_an_alert(
    customer, publisher_server, recording_add_on, upload, httpserver
):
    httpserver.expect_request("/told").respond_with_data("down", status=503)
    recording_add_on(publisher_server((400, "")).url, configuration={"callback_url": httpserver.url_for("/told")})
    upload()
    result = AddOnResult.objects.get()
    for _ in range(len([0.01, 0.01])):  # tests/fixtures/core.py's NOTIFY_BACKOFF_S: two retries after the first
        retry_when_due(result)
    assert (result.customer_notification, result.notify_attempts) == ("undeliverable", 3)
    assert Notification.objects.filter(account=customer, error_code=61031).count() == 1
    assert services.renotify_lost_notifications() == 0


def test_a_notification_answered_4xx_is_not_retried(customer, publisher_server, recording_add_on, upload, httpserver):
    httpserver.expect_request("/told").respond_with_data("no", status=404)
    recording_add_on(publisher_server((400, "")).url, configuration={"callback_url": httpserver.url_for("/told")})
    upload()
    result = AddOnResult.objects.get()
    assert (result.customer_notification, result.notify_attempts) == ("undeliverable", 1)
    assert Notification.objects.filter(account=customer, error_code=61031).count() == 1


@pytest.mark.parametrize(
    "configuration,field",
    [({"callback_url": "ftp://x"}, "callback_url"), ({"callback_method": "PUT"}, "callback_method")],
)
def test_reserved_settings_are_validated(api, make_listing, configuration, field):
    listing = make_listing(**recording_manifest("http://127.0.0.1:9/x"))
    reply = api.post(
        "/v1/InstalledAddOns",
        {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": json.dumps(configuration)},
    )
    assert reply.status_code == 400 and reply.json()["details"][0]["field"] == field


@pytest.mark.parametrize(
    "audio,message",
    [(b"RIFF....WAVEjunk", "not a readable WAV"), (b"ID3 mp3 data", "not a readable WAV"), (None, "missing")],
)
def test_unreadable_audio_is_refused_and_nothing_is_stored(api, upload, audio, message):
    if audio is None:
        reply = api.upload("/sandbox/v1/Recordings", {"Other": "x"})
    else:
        reply = upload(audio)
    assert reply.status_code == 400 and message in reply.json()["message"] and "Audio" in reply.json()["message"]
    assert Recording.objects.count() == 0 and AddOnResult.objects.count() == 0


def test_an_empty_wav_is_refused(upload):
    reply = upload(wav_bytes(0))
    assert reply.status_code == 400 and "no audio" in reply.json()["message"]


def test_recordings_read_api_media_and_delete(api, customer, other_api, other_customer, upload):
    sid = upload(wav_bytes(1.0)).json()["sid"]
    base = f"/2010-04-01/Accounts/{customer.sid}/Recordings"
    assert [r["sid"] for r in api.get(f"{base}.json").json()["recordings"]] == [sid]
    assert api.get(f"{base}/{sid}.json").json()["duration"] == "1"
    media = api.client.get(f"{base}/{sid}.wav", **api.headers)
    assert media.status_code == 200 and b"".join(media.streaming_content) == wav_bytes(1.0)
    theirs = f"/2010-04-01/Accounts/{other_customer.sid}/Recordings/{sid}.json"
    assert other_api.get(theirs).status_code == 404
    assert (
        other_api.client.get(
            f"/2010-04-01/Accounts/{other_customer.sid}/Recordings/{sid}.wav", **other_api.headers
        ).status_code
        == 404
    )
    assert api.delete(f"{base}/{sid}.json").status_code == 204
    assert api.get(f"{base}/{sid}.json").status_code == 404
    assert Recording.objects.count() == 0


def test_a_payload_download_link_expires_and_cannot_be_forged(
    settings, client, api, customer, publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    sid = upload().json()["sid"]
    result = AddOnResult.objects.get()
    post_callback(services.callback_url(result.sid), publisher, {"transcript": "kept"})
    payload = Payload.objects.get()
    base = f"/2010-04-01/Accounts/{customer.sid}/Recordings/{sid}/AddOnResults/{result.sid}/Payloads/{payload.sid}"
    link = api.get(f"{base}/Data.json").json()["redirect_to"].removeprefix("http://127.0.0.1:8000")
    served = client.get(link)
    assert served.status_code == 200 and json.loads(b"".join(served.streaming_content)) == {"transcript": "kept"}
    assert client.get(link[:-3] + "abc").status_code == 404
    settings.PAYLOAD_URL_TTL_S = -1
    assert client.get(link).status_code == 404


def test_results_and_payloads_can_be_deleted(
    api, customer, publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    sid = upload().json()["sid"]
    result = AddOnResult.objects.get()
    post_callback(services.callback_url(result.sid), publisher, {"transcript": "x"})
    payload = Payload.objects.get()
    base = f"/2010-04-01/Accounts/{customer.sid}/Recordings/{sid}/AddOnResults/{result.sid}"
    assert api.delete(f"{base}/Payloads/{payload.sid}.json").status_code == 204
    assert api.get(f"{base}/Payloads.json").json()["payloads"] == []
    assert api.delete(f"{base}.json").status_code == 204
    assert api.get(f"{base}.json").status_code == 404


def test_only_enabled_recording_extensions_get_results(
    api, publisher_server, recording_add_on, upload, bundled_listing
):
    installed = recording_add_on(publisher_server((202, "")).url)
    path = f"/v1/InstalledAddOns/{installed['sid']}/Extensions"
    extension = api.get(path).json()["extensions"][0]
    api.post(f"{path}/{extension['sid']}", {"Enabled": "false"})
    upload()
    assert AddOnResult.objects.count() == 0


def test_the_official_sdk_reads_results_payloads_and_data(
    sdk, live_server, customer, publisher, publisher_server, recording_add_on, make_listing
):
    client = sdk(customer.sid, customer.auth_token)
    recording_add_on(publisher_server((202, "")).url)
    reply = requests.post(
        f"{live_server.url}/sandbox/v1/Recordings",
        files={"Audio": ("call.wav", wav_bytes(1.5))},
        auth=(customer.sid, customer.auth_token),
        timeout=10,
    )
    recording_sid = reply.json()["sid"]
    result = AddOnResult.objects.get()
    callback = requests.post(
        services.callback_url(result.sid),
        json={"transcript": "via the SDK"},
        auth=(publisher.sid, publisher.auth_token),
        timeout=10,
    )
    assert callback.status_code == 200

    recording = client.recordings(recording_sid).fetch()
    assert recording.duration == "2" and recording.channels == 1
    assert [r.sid for r in client.recordings.list()] == [recording_sid]
    results = client.recordings(recording_sid).add_on_results.list()
    assert [(r.sid, r.status) for r in results] == [(result.sid, "completed")]
    payloads = client.recordings(recording_sid).add_on_results(result.sid).payloads.list()
    assert [p.label for p in payloads] == ["transcriber"]
    data = client.recordings(recording_sid).add_on_results(result.sid).payloads(payloads[0].sid).data().fetch()
    assert json.loads(requests.get(data.redirect_to, timeout=10).content) == {"transcript": "via the SDK"}
    assert client.recordings(recording_sid).add_on_results(result.sid).payloads(payloads[0].sid).delete() is True
    assert client.recordings(recording_sid).add_on_results(result.sid).delete() is True
    assert client.recordings(recording_sid).delete() is True
    assert client.recordings.list() == []


def test_a_callback_body_of_random_bytes_fails_the_result_and_is_kept(
    publisher, publisher_server, recording_add_on, upload, post_callback
):
    recording_add_on(publisher_server((202, "")).url)
    upload()
    result = AddOnResult.objects.get()
    noise = bytes(range(256)) * 64
    reply = post_callback(services.callback_url(result.sid), publisher, noise, content_type="application/octet-stream")
    assert reply.status_code == 200
    result.refresh_from_db()
    assert (result.status, result.error_code, result.billable_minutes) == ("failed", 61025, 0)
    payload = Payload.objects.get()
    assert payload.data.open("rb").read() == noise and payload.content_type == "application/octet-stream"


def test_a_recording_whose_inputs_miss_the_request_schema_is_not_sent(api, make_listing, publisher_server, upload):
    """A recording's dispatch takes the engine's one call path: the version's request
    validation schema is checked as for a lookup; unmet, nothing leaves and nothing is billed."""
    server = publisher_server((202, ""))
    manifest = recording_manifest(server.url)
    manifest["request_validation_schema"] = {"type": "object", "required": ["primary_address"]}
    listing = make_listing(**manifest)
    reply = api.post("/v1/InstalledAddOns", {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true"})
    assert reply.status_code == 201, reply
    upload()
    result = AddOnResult.objects.get()
    assert (result.status, result.error_code) == ("failed", 61003)
    assert "primary_address" in result.error_message
    assert server.requests == []
    assert not BillingEvent.objects.filter(reference=result.sid).exists()
