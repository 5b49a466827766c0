"""Uploading a recording in the console and reading its add-on results there."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addons.tests.factories import install
from recordings import services
from recordings.models import AddOnResult, Recording
from tests.fixtures.core import console_client
from tests.recording_helpers import recording_manifest, wav_bytes


@pytest.fixture
def customer_console(customer):
    return console_client(customer, "cust")


@pytest.fixture
def accepting_add_on(api, make_listing, httpserver):
    httpserver.expect_request("/rec").respond_with_data("", status=202)
    listing = make_listing(**recording_manifest(httpserver.url_for("/rec")))
    install(api, listing, configuration=None)
    return listing


def test_upload_a_recording_and_see_its_results(
    customer_console, accepting_add_on, publisher, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = customer_console.post(
            "/console/recordings/", {"audio": SimpleUploadedFile("call.wav", wav_bytes(1.2), "audio/x-wav")}
        )
    recording = Recording.objects.get()
    assert reply.status_code == 302 and reply["Location"] == f"/console/recordings/{recording.sid}/"
    page = customer_console.get(reply["Location"]).content.decode()
    assert "processing" in page and "waiting for the publisher" in page

    result = AddOnResult.objects.get()
    credentials = base64.b64encode(f"{publisher.sid}:{publisher.auth_token}".encode()).decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            services.callback_url(result.sid).split("8000", 1)[1],
            json.dumps({"transcript": "hello"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {credentials}",
        )
    page = customer_console.get(f"/console/recordings/{recording.sid}/").content.decode()
    assert "completed" in page and "/downloads/v1/Payloads/" in page and "1 billable minute" in page
    assert recording.sid in customer_console.get("/console/recordings/").content.decode()


def test_an_unreadable_file_is_refused_beside_the_field(customer_console):
    reply = customer_console.post("/console/recordings/", {"audio": SimpleUploadedFile("x.wav", b"nope")})
    assert reply.status_code == 200 and "not a readable WAV file" in reply.content.decode()
    assert Recording.objects.count() == 0


def test_another_accounts_recording_is_404(customer_console, other_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sid = other_api.upload("/sandbox/v1/Recordings", {"Audio": ("a.wav", wav_bytes(1))}).json()["sid"]
    assert customer_console.get(f"/console/recordings/{sid}/").status_code == 404
    assert sid not in customer_console.get("/console/recordings/").content.decode()
