"""Audio measured from the audio (issue 13, finding 4): the duration that bills per-minute
add-ons comes from the bytes received, and a WAV header that lies about them, or holds
values out of range, is a 400 naming the problem: never a 500, nothing stored, nobody called.
Every file goes through the real upload endpoints."""

import struct
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addons.services import import_listing
from addons.tests.factories import install
from billing.models import Balance, BillingEvent, Hold
from recordings.models import AddOnResult, Recording
from tests.fixtures.core import console_client
from tests.recording_helpers import recording_manifest

pytestmark = pytest.mark.money


def chunk(chunk_id, body, size=None):
    pad = b"\0" if len(body) % 2 else b""
    return struct.pack("<4sI", chunk_id, len(body) if size is None else size) + body + pad


def fmt(rate=8000, channels=1, bits=16, tag=1, block_align=None, byte_rate=None, size=None):
    frame = channels * bits // 8
    body = struct.pack(
        "<HHIIHH",
        tag,
        channels,
        rate % 2**32,
        (rate * frame if byte_rate is None else byte_rate) % 2**32,
        (frame if block_align is None else block_align) % 2**16,
        bits,
    )
    return chunk(b"fmt ", body + b"\0" * ((size or 16) - 16), size)


def wav(*chunks, riff_size=None):
    body = b"WAVE" + b"".join(chunks)
    return struct.pack("<4sI", b"RIFF", len(body) if riff_size is None else riff_size) + body


def pcm(seconds, rate=8000, channels=1, width=2):
    return b"\x11\x22" * (int(seconds * rate) * channels * width // 2)


MINUTE = pcm(60)


@pytest.fixture
def recording_add_on(api, publisher, httpserver):
    """A per-minute recording add-on, so a refused upload shows it holds and bills nothing."""
    httpserver.expect_request("/rec").respond_with_data("", status=202)
    listing = import_listing(
        manifest=recording_manifest(httpserver.url_for("/rec")), publisher=publisher, state="active"
    ).listing
    install(api, listing, configuration=None)
    return httpserver


@pytest.fixture
def media_root(settings, tmp_path):
    """This test's own storage, so "nothing stored" means nothing."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    def send(audio):
        with django_capture_on_commit_callbacks(execute=True):
            return api.upload("/sandbox/v1/Recordings", {"Audio": ("call.wav", audio)})

    return send


def assert_nothing_written(customer, media_root, publisher_server):
    assert Recording.objects.count() == 0 and AddOnResult.objects.count() == 0
    assert Hold.objects.count() == 0 and BillingEvent.objects.count() == 0
    assert Balance.objects.get(account=customer).amount == Decimal("100")
    assert [p for p in Path(media_root).rglob("*") if p.is_file()] == []
    assert publisher_server.log == []


HOSTILE = [
    pytest.param(
        wav(fmt(), chunk(b"data", MINUTE, size=2)),
        "its data chunk claims 2 bytes of audio but 960000 bytes follow (0.000 s claimed, 60.000 s received)",
        id="data-claims-2-bytes-carries-60-s",
    ),
    pytest.param(
        wav(fmt(), chunk(b"data", MINUTE, size=2), riff_size=4 + 24 + 8 + 2),
        "its RIFF header claims 46 bytes but the file has 960044",
        id="riff-and-data-both-lie",
    ),
    pytest.param(
        wav(fmt(), chunk(b"data", pcm(1), size=len(MINUTE))),
        "its data chunk claims 960000 bytes of audio but 16000 bytes follow",
        id="claims-60-s-carries-1-s",
    ),
    pytest.param(wav(fmt(rate=0), chunk(b"data", pcm(1))), "its sample rate is 0 Hz", id="rate-0"),
    pytest.param(
        wav(fmt(rate=2**32 - 1), chunk(b"data", pcm(1))), "its sample rate is 4294967295 Hz", id="rate-2^32-1"
    ),
    pytest.param(wav(fmt(channels=0), chunk(b"data", pcm(1))), "it has 0 channels", id="channels-0"),
    pytest.param(wav(fmt(channels=65535), chunk(b"data", pcm(1))), "it has 65535 channels", id="channels-65535"),
    pytest.param(wav(fmt(bits=12), chunk(b"data", pcm(1))), "12-bit samples do not fit its format", id="bits-12"),
    pytest.param(wav(fmt(bits=0), chunk(b"data", pcm(1))), "0-bit samples", id="bits-0"),
    pytest.param(wav(fmt(tag=85), chunk(b"data", pcm(1))), "its audio format 85 is not PCM", id="mp3-in-wav"),
    pytest.param(
        wav(fmt(block_align=1), chunk(b"data", pcm(1))),
        "its block align 1 and byte rate 16000 contradict",
        id="block-align",
    ),
    pytest.param(
        wav(fmt(byte_rate=1), chunk(b"data", pcm(1))), "its block align 2 and byte rate 1 contradict", id="byte-rate"
    ),
    pytest.param(
        wav(fmt(), chunk(b"data", pcm(1)))[:20],
        "the file is cut short: its RIFF header claims 16044",
        id="truncated-header",
    ),
    pytest.param(
        wav(fmt(), chunk(b"data", pcm(1)), riff_size=22)[:30], "the file ends inside its fmt chunk", id="truncated-fmt"
    ),
    pytest.param(b"RIFF", "the file ends inside its RIFF header", id="four-bytes"),
    pytest.param(wav(fmt(size=17), chunk(b"data", pcm(1))), "its fmt chunk is 17 bytes", id="odd-fmt-size"),
    pytest.param(
        wav(fmt(), chunk(b"LIST", b"x" * 9, size=2**32 - 1), chunk(b"data", pcm(1))),
        "its 'LIST' chunk claims 4294967295 bytes past the end of the file",
        id="chunk-size-past-eof",
    ),
    pytest.param(wav(chunk(b"data", pcm(1)), fmt()), "its audio comes before its format", id="data-before-fmt"),
    pytest.param(wav(fmt()), "the file ends inside its chunk headers", id="no-data-chunk"),
    pytest.param(
        wav(fmt(), chunk(b"JUNK", MINUTE), chunk(b"data", pcm(1))),
        "bytes of chunks besides its audio",
        id="a-minute-hidden-in-junk",
    ),
    pytest.param(
        wav(fmt(), *[chunk(b"LIST", b"") for _ in range(80)], chunk(b"data", pcm(1))),
        "no audio within its first 64 chunks",
        id="endless-chunks",
    ),
]


@pytest.mark.parametrize("audio,problem", HOSTILE)
def test_a_lying_or_hostile_header_is_a_400_naming_the_problem(
    upload, customer, recording_add_on, media_root, audio, problem
):
    reply = upload(audio)
    assert reply.status_code == 400, reply.json()
    body = reply.json()
    assert body["code"] == 20001 and "Audio" in body["message"] and problem in body["message"], body["message"]
    assert_nothing_written(customer, media_root, recording_add_on)


def test_the_console_upload_refuses_it_beside_the_field(customer, recording_add_on, media_root):
    console = console_client(customer, "cust")
    lying = wav(fmt(), chunk(b"data", MINUTE, size=2))
    reply = console.post("/console/recordings/", {"audio": SimpleUploadedFile("x.wav", lying)})
    assert reply.status_code == 200 and "claims 2 bytes of audio but 960000 bytes follow" in reply.content.decode()
    assert_nothing_written(customer, media_root, recording_add_on)


GOOD = [
    pytest.param(wav(fmt(), chunk(b"data", pcm(61))), 61000, 1, 8000, id="plain"),
    pytest.param(
        wav(fmt(), chunk(b"LIST", b"INFOodd"), chunk(b"data", pcm(2))), 2000, 1, 8000, id="odd-list-chunk-padded"
    ),
    pytest.param(wav(fmt(bits=8), chunk(b"data", b"\x80" * 8001)), 1000, 1, 8000, id="odd-data-chunk-padded"),
    pytest.param(
        wav(fmt(rate=16000, channels=2), chunk(b"data", pcm(1.5, rate=16000, channels=2)), chunk(b"LIST", b"INFOtags")),
        1500,
        2,
        16000,
        id="trailing-list-chunk",
    ),
    pytest.param(wav(fmt(size=18), chunk(b"data", pcm(3))), 3000, 1, 8000, id="fmt-of-18-bytes"),
    pytest.param(
        wav(fmt(), chunk(b"data", pcm(2), size=len(pcm(2)) + 10)), 2000, 1, 8000, id="claims-10-bytes-more-tolerated"
    ),
]


@pytest.mark.parametrize("audio,duration_ms,channels,rate", GOOD)
def test_the_duration_comes_from_the_audio_received(upload, recording_add_on, audio, duration_ms, channels, rate):
    reply = upload(audio)
    assert reply.status_code == 201, reply.json()
    recording = Recording.objects.get()
    assert (recording.duration_ms, recording.channels, recording.sample_rate, recording.size) == (
        duration_ms,
        channels,
        rate,
        len(audio),
    )
    # and the hold for the per-minute add-on is what that duration costs (0.01 a started minute)
    minutes = -(-duration_ms // 60000)
    assert Hold.objects.get().amount == Decimal("0.01") * minutes
