"""The Voice Insights example publisher: an asynchronous recording-analysis add-on.

The analysis of synthetic WAV files (DTMF digits, tones, silence; 8- and 16-bit, mono and
stereo), and the HTTP contract: a signed multipart (or raw) upload is answered 202 with no body,
and the result is posted to the callback URL with the vendor account's Basic credentials.
"""

import base64
import hashlib
import io
import itertools
import json
import logging
import math
import os
import re
import threading
import time
import uuid
import wave
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from addons.manifest import validate_manifest
from publishers import callbacks, voice_insights
from publishers.server import ROUTES, IncomingRequest, PublisherApp, Route, make_server
from publishers.signature import RequestRejected, sign_request, verify_request
from publishers.uploads import AudioUpload, UploadRejected, parse_multipart, read_audio_upload

TOKEN = "publisher-auth-token-for-recording-tests"
ACCOUNT_SID = "AC" + "a" * 32
MANIFEST_PATH = Path(__file__).resolve().parents[2] / "publishers" / "manifests" / "voice_insights.json"
RATE = 8000
FRAME_MS = voice_insights.FRAME_MS
DTMF = {
    "1": (697, 1209),
    "2": (697, 1336),
    "3": (697, 1477),
    "A": (697, 1633),
    "4": (770, 1209),
    "5": (770, 1336),
    "6": (770, 1477),
    "B": (770, 1633),
    "7": (852, 1209),
    "8": (852, 1336),
    "9": (852, 1477),
    "C": (852, 1633),
    "*": (941, 1209),
    "0": (941, 1336),
    "#": (941, 1477),
    "D": (941, 1633),
}


# --- synthetic audio -----------------------------------------------------------------------


def tone(freqs, ms, amplitude, rate=RATE):
    """Samples in [-1, 1]: the sum of sines at `freqs`, each of `amplitude` (of full scale)."""
    count = rate * ms // 1000
    steps = [2 * math.pi * f / rate for f in freqs]
    return [amplitude * sum(math.sin(step * i) for step in steps) for i in range(count)]


def silence(ms, rate=RATE):
    return [0.0] * (rate * ms // 1000)


def wav_bytes(channels_samples, *, rate=RATE, width=2):
    """A PCM WAV file; `channels_samples` holds one list of [-1, 1] samples per channel."""
    length = len(channels_samples[0])
    interleaved = [channel[i] for i in range(length) for channel in channels_samples]
    if width == 2:
        data = array("h", (round(max(-1.0, min(1.0, s)) * 32767) for s in interleaved)).tobytes()
    else:  # 8-bit PCM is unsigned, silence at 128
        data = bytes(128 + round(max(-1.0, min(1.0, s)) * 127) for s in interleaved)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(len(channels_samples))
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(data)
    return buffer.getvalue()


def dtmf_recording(digits="159#", *, lead_ms=210, tone_ms=130, gap_ms=410, amplitude=0.4, rate=RATE):
    """Digits as dual tones with silences between; returns (samples, onsets_ms, speech spans)."""
    samples = silence(lead_ms, rate)
    onsets, spans = [], []
    for digit in digits:
        start = len(samples) * 1000 / rate
        onsets.append(start)
        samples += tone(DTMF[digit], tone_ms, amplitude, rate)
        spans.append((start, len(samples) * 1000 / rate))
        samples += silence(gap_ms, rate)
    return samples, onsets, spans


def analyse(data, **options):
    settings = voice_insights.AnalysisOptions(**options)
    return voice_insights.analyse(voice_insights.decode_wav(data, max_ms=settings.max_analysed_ms), settings)


def assert_segments(result, spans, duration_ms):
    """Silence, speech, silence, ... with every boundary within one frame of the true one."""
    segments = result["segments"]
    assert [s["kind"] for s in segments] == ["silence", "speech"] * len(spans) + ["silence"]
    assert segments[0]["start_ms"] == 0 and segments[-1]["end_ms"] == duration_ms
    for earlier, later in itertools.pairwise(segments):
        assert earlier["end_ms"] == later["start_ms"]
    speech = [s for s in segments if s["kind"] == "speech"]
    for segment, (start, end) in zip(speech, spans, strict=True):
        assert abs(segment["start_ms"] - start) <= FRAME_MS
        assert abs(segment["end_ms"] - end) <= FRAME_MS


# --- analysis ------------------------------------------------------------------------------


def test_dtmf_digits_are_found_in_order_with_their_start_times():
    samples, onsets, spans = dtmf_recording("159#")
    result = analyse(wav_bytes([samples]))
    assert [tone_["digit"] for tone_ in result["dtmf"]] == ["1", "5", "9", "#"]
    for found, onset in zip(result["dtmf"], onsets, strict=True):
        assert abs(found["start_ms"] - onset) <= FRAME_MS
    duration = round(len(samples) * 1000 / RATE)
    assert result["duration_ms"] == result["analysed_ms"] == duration
    assert result["truncated"] is False
    assert_segments(result, spans, duration)
    speech_ms = sum(end - start for start, end in spans)
    assert result["speech_ratio"] == pytest.approx(speech_ms / duration, abs=0.03)


def test_every_keypad_digit_is_told_apart():
    samples, _, _ = dtmf_recording("0123456789*#ABCD", lead_ms=100, tone_ms=80, gap_ms=120)
    assert "".join(t["digit"] for t in analyse(wav_bytes([samples]))["dtmf"]) == "0123456789*#ABCD"


def test_full_scale_sine_is_minus_3_dbfs():
    result = analyse(wav_bytes([tone([1000], 2000, 1.0)]))
    assert result["loudness"]["rms_dbfs"] == pytest.approx(-3.01, abs=0.5)
    assert result["loudness"]["peak_dbfs"] == pytest.approx(0.0, abs=0.1)
    assert result["segments"] == [{"start_ms": 0, "end_ms": 2000, "kind": "speech"}]
    assert result["speech_ratio"] == 1.0
    assert result["dtmf"] == []  # 1 kHz is no DTMF frequency


def test_quieter_sine_reads_lower():
    result = analyse(wav_bytes([tone([1000], 1000, 0.1)]))  # -20 dB
    assert result["loudness"]["rms_dbfs"] == pytest.approx(-23.01, abs=0.5)
    assert result["loudness"]["peak_dbfs"] == pytest.approx(-20.0, abs=0.1)


def test_pure_silence():
    result = analyse(wav_bytes([silence(1500)]))
    assert result["loudness"] == {"rms_dbfs": voice_insights.MIN_DBFS, "peak_dbfs": voice_insights.MIN_DBFS}
    assert result["segments"] == [{"start_ms": 0, "end_ms": 1500, "kind": "silence"}]
    assert (result["speech_ratio"], result["dtmf"]) == (0.0, [])


def test_stereo_16_bit_is_mixed_down():
    samples, onsets, spans = dtmf_recording("159#")
    both = analyse(wav_bytes([samples, samples]))
    assert both["channels"] == 2
    assert [t["digit"] for t in both["dtmf"]] == ["1", "5", "9", "#"]
    assert_segments(both, spans, both["duration_ms"])
    # A full-scale sine on one channel only: half of full scale once mixed, -9 dBFS.
    sine = tone([1000], 1000, 1.0)
    one_sided = analyse(wav_bytes([sine, silence(1000)]))
    assert one_sided["loudness"]["rms_dbfs"] == pytest.approx(-9.03, abs=0.5)
    assert analyse(wav_bytes([sine, sine]))["loudness"]["rms_dbfs"] == pytest.approx(-3.01, abs=0.5)


def test_8_bit_mono():
    samples, onsets, spans = dtmf_recording("159#")
    result = analyse(wav_bytes([samples], width=1))
    assert [t["digit"] for t in result["dtmf"]] == ["1", "5", "9", "#"]
    assert_segments(result, spans, result["duration_ms"])
    sine = analyse(wav_bytes([tone([1000], 1000, 1.0)], width=1))
    assert sine["loudness"]["rms_dbfs"] == pytest.approx(-3.01, abs=0.5)
    quiet = analyse(wav_bytes([silence(500)], width=1))
    assert quiet["segments"] == [{"start_ms": 0, "end_ms": 500, "kind": "silence"}]


def test_higher_sample_rates():
    samples, onsets, spans = dtmf_recording("159#", rate=44100)
    result = analyse(wav_bytes([samples], rate=44100))
    assert [t["digit"] for t in result["dtmf"]] == ["1", "5", "9", "#"]
    assert result["sample_rate"] == 44100
    assert_segments(result, spans, result["duration_ms"])


def test_noise_and_speechlike_sounds_are_not_digits():
    noise = array("h", os.urandom(RATE * 2 * 3))
    noisy = analyse(wav_bytes([[s / 32768 * 0.3 for s in noise]]))
    assert noisy["dtmf"] == []
    # A harmonic "voice" at 140 Hz: strong partials near DTMF rows but no clean dual tone.
    voice = tone([140 * k for k in range(1, 13)], 1000, 0.06)
    assert analyse(wav_bytes([voice]))["dtmf"] == []
    # One DTMF tone alone is not a digit.
    assert analyse(wav_bytes([tone([770], 500, 0.5)]))["dtmf"] == []


def test_dtmf_under_speechlike_noise():
    samples, onsets, _ = dtmf_recording("159#")
    noise = array("h", os.urandom(len(samples) * 2))
    noisy = [s + n / 32768 * 0.02 for s, n in zip(samples, noise, strict=True)]  # about 26 dB below the tones
    assert [t["digit"] for t in analyse(wav_bytes([noisy]))["dtmf"]] == ["1", "5", "9", "#"]


def test_min_silence_fills_short_pauses():
    samples = silence(200) + tone([1000], 200, 0.5) + silence(100) + tone([1000], 200, 0.5) + silence(400)
    data = wav_bytes([samples])
    merged = analyse(data)  # default 300 ms: the 100 ms pause is speech
    assert [(s["kind"], s["start_ms"], s["end_ms"]) for s in merged["segments"]] == [
        ("silence", 0, 200),
        ("speech", 200, 700),
        ("silence", 700, 1100),
    ]
    split = analyse(data, min_silence_ms=50)
    assert [s["kind"] for s in split["segments"]] == ["silence", "speech", "silence", "speech", "silence"]
    assert split["speech_ratio"] < merged["speech_ratio"]


def test_silence_threshold_is_configurable():
    data = wav_bytes([silence(200) + tone([1000], 400, 10 ** (-27 / 20)) + silence(200)])  # about -30 dBFS
    assert [s["kind"] for s in analyse(data)["segments"]] == ["silence", "speech", "silence"]
    assert [s["kind"] for s in analyse(data, silence_threshold_db=-20)["segments"]] == ["silence"]


def test_detail_and_dtmf_options():
    samples, _, _ = dtmf_recording("5")
    data = wav_bytes([samples])
    summary = analyse(data)
    assert "frames" not in summary and all(set(s) == {"start_ms", "end_ms", "kind"} for s in summary["segments"])
    full = analyse(data, detail="full")
    assert full["frames"]["frame_ms"] == FRAME_MS
    assert len(full["frames"]["rms_dbfs"]) == math.ceil(full["analysed_ms"] / FRAME_MS)
    assert all("rms_dbfs" in s for s in full["segments"])
    assert full["dtmf"][0]["digit"] == "5" and full["dtmf"][0]["end_ms"] > full["dtmf"][0]["start_ms"]
    assert "dtmf" not in analyse(data, detect_dtmf=False)


def test_only_the_first_minutes_are_analysed():
    samples = tone([1000], 500, 0.5) + silence(1500)
    result = analyse(wav_bytes([samples]), max_analysed_ms=1000)
    assert (result["duration_ms"], result["analysed_ms"], result["truncated"]) == (2000, 1000, True)
    assert result["segments"][-1]["end_ms"] == 1000


def test_options_from_params():
    options = voice_insights.options_from_params(
        {"silence_threshold_db": "-35.5", "min_silence_ms": "120", "detect_dtmf": "false", "detail": "full"}
    )
    assert options == voice_insights.AnalysisOptions(-35.5, 120, False, "full")
    # Unset settings arrive as empty strings: the defaults.
    blank = {"silence_threshold_db": "", "min_silence_ms": "", "detect_dtmf": "", "detail": ""}
    assert voice_insights.options_from_params(blank) == voice_insights.AnalysisOptions()
    for bad in (
        {"silence_threshold_db": "5"},
        {"silence_threshold_db": "-91"},
        {"detail": "verbose"},
        {"min_silence_ms": "x"},
    ):
        with pytest.raises(voice_insights.PublisherError) as raised:
            voice_insights.options_from_params(bad)
        assert raised.value.code == "invalid_parameter"


@pytest.mark.parametrize(
    "data",
    [
        b"not audio at all",
        b"RIFF\x00\x00\x00\x00WAVE",  # no fmt chunk
        b"ID3\x03\x00\x00\x00" + bytes(200),  # an MP3
        wav_bytes([silence(100)])[:30],  # truncated header
    ],
)
def test_unreadable_audio(data):
    with pytest.raises(voice_insights.UnreadableAudio) as raised:
        voice_insights.decode_wav(data)
    assert raised.value.code == "unreadable_audio" and raised.value.message


def test_unsupported_sample_width():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(3)
        writer.setframerate(RATE)
        writer.writeframes(bytes(300))
    with pytest.raises(voice_insights.UnreadableAudio, match="24-bit"):
        voice_insights.decode_wav(buffer.getvalue())


def test_a_few_minutes_of_audio_are_analysed_quickly():
    # The worst case: a DTMF tone throughout, so every block runs all eight Goertzel filters.
    second = array("h", (round(s * 32767) for s in tone(DTMF["5"], 1000, 0.4)))
    noise = array("h", (n // 8 for n in array("h", os.urandom(RATE * 2 * 60))))
    data_tone = second * 180  # 3 minutes
    data_noise = noise * 3
    for samples in (data_tone, data_noise):
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(RATE)
            writer.writeframes(samples.tobytes())
        started = time.perf_counter()
        result = analyse(buffer.getvalue())
        elapsed = time.perf_counter() - started
        assert result["analysed_ms"] == 180_000
        # The guide asks for results within about 3x the audio's length; this is far under.
        assert elapsed < 30, f"{elapsed:.1f} s for 3 minutes"


# --- multipart reading ---------------------------------------------------------------------


def encode_multipart(fields, audio=None, *, audio_field="audio", filename="RE123.wav", content_type="audio/x-wav"):
    """multipart/form-data as the platform sends it: text parts, then the audio part."""
    boundary = "voiceinsights" + uuid.uuid4().hex
    body = bytearray()
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += value.encode("utf-8") + b"\r\n"
    if audio is not None:
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{audio_field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        body += audio + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "audio",
    [bytes(range(256)) * 4, b"\r\n", b"\r", b"\n", b"ends with CR\r", b"\r\n\r\n--", b"--voice", os.urandom(300_000)],
    ids=["all-bytes", "crlf", "cr", "lf", "trailing-cr", "crlf-dashes", "boundary-prefix", "random"],
)
def test_multipart_audio_is_kept_byte_for_byte(audio):
    body, content_type = encode_multipart({"callback_url": "http://x.test/cb", "detail": "", "media_sid": "RE1"}, audio)
    parts = parse_multipart(body, content_type)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("callback_url", None, None),
        ("detail", None, None),
        ("media_sid", None, None),
        ("audio", "RE123.wav", "audio/x-wav"),
    ]
    assert parts[-1].data == audio
    upload = read_audio_upload(content_type=content_type, body=body, query_params={"x": "1"}, audio_field="audio")
    assert upload.audio == audio
    assert upload.params == {"x": "1", "callback_url": "http://x.test/cb", "detail": "", "media_sid": "RE1"}
    assert (upload.content_type, upload.filename) == ("audio/x-wav", "RE123.wav")


@pytest.mark.parametrize(
    "make, status, code",
    [
        (lambda: encode_multipart({"callback_url": "http://x.test/cb"}), 400, "missing_audio"),
        (
            lambda: encode_multipart(
                {},
                b"",
            ),
            400,
            "missing_audio",
        ),
        (lambda: encode_multipart({}, b"RIFF", audio_field="recording"), 400, "missing_audio"),
        (lambda: (b"this is not multipart", "multipart/form-data; boundary=zzz"), 400, "malformed_body"),
        (  # no closing boundary
            lambda: (
                b'--zzz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx',
                "multipart/form-data; boundary=zzz",
            ),
            400,
            "malformed_body",
        ),
        (lambda: (b"x", "multipart/form-data"), 400, "malformed_body"),
        (lambda: (b"{}", "application/json"), 415, "unsupported_media_type"),
        (lambda: (b"RIFF", ""), 415, "unsupported_media_type"),
        (
            lambda: (
                b'--b\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n'
                b"Content-Transfer-Encoding: base64\r\n\r\n!!not base64$\r\n--b--\r\n",
                "multipart/form-data; boundary=b",
            ),
            400,
            "undecodable_part",
        ),
        (
            lambda: (
                b'--b\r\nContent-Disposition: form-data; name="detail"\r\n\r\n\xff\xfe\r\n--b--\r\n',
                "multipart/form-data; boundary=b",
            ),
            400,
            "undecodable_part",
        ),
        (lambda: (b"", "audio/x-wav"), 400, "missing_audio"),
    ],
)
def test_unreadable_uploads_are_rejected(make, status, code):
    body, content_type = make()
    with pytest.raises(UploadRejected) as raised:
        read_audio_upload(content_type=content_type, body=body, query_params={}, audio_field="audio")
    assert (raised.value.status, raised.value.code) == (status, code)


def test_base64_audio_part_is_decoded():
    audio = wav_bytes([silence(50)])
    body = (
        b'--b\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: audio/x-wav\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(audio) + b"\r\n--b--\r\n"
    )
    content_type = "multipart/form-data; boundary=b"
    upload = read_audio_upload(content_type=content_type, body=body, query_params={}, audio_field="audio")
    assert upload.audio == audio


def test_raw_upload_reads_params_from_the_query():
    query = {"callback_url": "http://x/"}
    upload = read_audio_upload(content_type="audio/x-wav", body=b"RIFF...", query_params=query, audio_field="audio")
    assert upload == AudioUpload(params={"callback_url": "http://x/"}, audio=b"RIFF...", content_type="audio/x-wav")
    assert "RIFF" not in repr(upload)


# --- the signature over a multipart body --------------------------------------------------


def platform_signed_url(url, body, *, issued_at=None, ttl_ms=60000, token=TOKEN):
    """What the platform does: append date, TTL and the body's SHA-256 to the URL, sign the URL alone."""
    issued = (issued_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = urlencode(
        {"twilio_date": issued, "twilio_ttl": str(ttl_ms), "bodySHA256": hashlib.sha256(body).hexdigest()}
    )
    signed = url + ("&" if urlsplit(url).query else "?") + extra
    return signed, RequestValidator(token).compute_signature(signed, {})


def is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# A WAV file is binary; a body that happens to be valid UTF-8 goes through RequestValidator's
# text path in signature.py: both paths must verify the same way.
@pytest.mark.parametrize(
    "audio, utf8",
    [(wav_bytes([tone([1000], 100, 0.5)]), False), (b"RIFF but ASCII only", True)],
    ids=["binary", "utf8"],
)
def test_multipart_bodies_verify_binary_or_not(audio, utf8):
    body, _ = encode_multipart({"callback_url": "http://x.test/cb"}, audio)
    assert is_utf8(body) == utf8
    url, signature = platform_signed_url("http://127.0.0.1:8101/voice-insights", body)
    now = datetime.now(UTC)
    verify_request(auth_token=TOKEN, url=url, signature=signature, now=now, body=body)
    # sign_request (the platform's side in signature.py) builds the same URL and signature.
    endpoint = "http://127.0.0.1:8101/voice-insights"
    helper = sign_request(TOKEN, endpoint, issued_at=now.replace(microsecond=0), ttl_ms=60000, body=body)
    assert (helper.url, helper.signature) == platform_signed_url(endpoint, body, issued_at=now)
    tampered = body.replace(b"x.test", b"y.test")
    with pytest.raises(RequestRejected) as raised:
        verify_request(auth_token=TOKEN, url=url, signature=signature, now=now, body=tampered)
    assert raised.value.code == "invalid_signature"


# --- over HTTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    srv = make_server("127.0.0.1", 0, auth_token=TOKEN)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(callbacks, "BACKOFF_SECONDS", (0.01, 0.02, 0.04))


BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode()


@pytest.fixture
def callback(httpserver):
    """The platform's callback endpoint: answers 200 to the vendor account's Basic credentials only."""
    expected = httpserver.expect_request("/callback/XR1", method="POST", headers={"Authorization": BASIC})
    expected.respond_with_data("", status=200)
    return httpserver


def new_sid():
    return "XR" + uuid.uuid4().hex


def params_for(httpserver, **overrides):
    params = {
        "callback_url": httpserver.url_for("/callback/XR1"),
        "media_sid": "RE" + "1" * 32,
        "duration": "2370",
        "channels": "1",
        "size": "0",
        "format": "audio/x-wav",
        "silence_threshold_db": "",
        "min_silence_ms": "",
        "detect_dtmf": "true",
        "detail": "summary",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def post_recording(
    server, body, content_type, *, query=None, sid=None, sign=True, url_body=None, token=TOKEN, headers=None
):
    """POST to /voice-insights signed as the platform does (over `url_body` when given, to tamper)."""
    url = server.url + "/voice-insights" + ("?" + urlencode(query) if query else "")
    all_headers = {
        "Content-Type": content_type,
        "X-Twilio-RequestSid": sid or new_sid(),
        "X-Twilio-VendorAccountSid": ACCOUNT_SID,
        "X-Twilio-AddOnSid": "XB" + "1" * 32,
        "X-Twilio-AddOnVersionSid": "XC" + "2" * 32,
        "X-Twilio-AddOnInstallSid": "XD" + "3" * 32,
        "X-Twilio-AddOnConfigurationSid": "XE" + "4" * 32,
        **(headers or {}),
    }
    signed_url, signature = platform_signed_url(url, body if url_body is None else url_body, token=token)
    if sign:
        all_headers["X-Twilio-Signature"] = signature
    return requests.post(signed_url, data=body, headers=all_headers, timeout=10)


def send_multipart(server, httpserver, audio, *, sid=None, **param_overrides):
    params = params_for(httpserver, **param_overrides)
    if audio is not None and "size" in params:
        params["size"] = str(len(audio))
    body, content_type = encode_multipart(params, audio, filename=f"{params.get('media_sid', 'RE0')}.wav")
    return post_recording(server, body, content_type, sid=sid)


def settle(server, httpserver, expected_calls):
    assert server.app.jobs.wait_idle(15), "the background work did not finish"
    assert len(httpserver.log) == expected_calls, [entry[0] for entry in httpserver.log]
    httpserver.check_assertions()
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def assert_accepted(response):
    assert response.status_code == 202
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"
    assert "Content-Type" not in response.headers


def test_signed_multipart_is_accepted_and_the_result_is_posted_back(server, callback):
    samples, onsets, spans = dtmf_recording("159#")
    response = send_multipart(server, callback, wav_bytes([samples]))
    assert_accepted(response)
    [result] = settle(server, callback, 1)
    request, _ = callback.log[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.authorization.username == ACCOUNT_SID and request.authorization.password == TOKEN
    assert result["media_sid"] == "RE" + "1" * 32
    assert [t["digit"] for t in result["dtmf"]] == ["1", "5", "9", "#"]
    assert result["duration_ms"] == result["analysed_ms"] == 2370
    assert set(result["loudness"]) == {"rms_dbfs", "peak_dbfs"}
    assert_segments(result, spans, 2370)
    assert 0 < result["speech_ratio"] < 1
    # The result meets the manifest's response validation schema.
    from jsonschema import Draft7Validator

    schema = json.loads(MANIFEST_PATH.read_text())["response_validation_schema"]
    assert list(Draft7Validator(schema).iter_errors(result)) == []


def test_raw_audio_body_with_params_in_the_query(server, callback):
    audio = wav_bytes([tone(DTMF["7"], 200, 0.4)])
    query = params_for(callback, detail="full")
    response = post_recording(server, audio, "audio/x-wav", query=query)
    assert_accepted(response)
    [result] = settle(server, callback, 1)
    assert [t["digit"] for t in result["dtmf"]] == ["7"]
    assert "frames" in result


def test_unsigned_request_is_refused_and_nothing_is_posted(server, callback):
    body, content_type = encode_multipart(params_for(callback), wav_bytes([silence(100)]))
    response = post_recording(server, body, content_type, sign=False)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"
    settle(server, callback, 0)


def test_wrong_token_is_refused(server, callback):
    body, content_type = encode_multipart(params_for(callback), wav_bytes([silence(100)]))
    response = post_recording(server, body, content_type, token="someone-elses-token")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_signature")
    settle(server, callback, 0)


def test_tampered_body_is_refused(server, callback):
    audio = wav_bytes([tone(DTMF["1"], 200, 0.4)])
    body, content_type = encode_multipart(params_for(callback), audio)
    tampered = body.replace(audio, wav_bytes([tone(DTMF["9"], 200, 0.4)]))
    assert tampered != body and len(tampered) == len(body)
    response = post_recording(server, tampered, content_type, url_body=body)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_signature")
    settle(server, callback, 0)


def test_expired_request_is_refused(server, callback):
    body, content_type = encode_multipart(params_for(callback), wav_bytes([silence(100)]))
    url, signature = platform_signed_url(
        server.url + "/voice-insights", body, issued_at=datetime.now(UTC) - timedelta(minutes=5), ttl_ms=60000
    )
    headers = {"Content-Type": content_type, "X-Twilio-Signature": signature, "X-Twilio-VendorAccountSid": ACCOUNT_SID}
    response = requests.post(url, data=body, headers=headers, timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "request_expired")
    settle(server, callback, 0)


def test_bad_audio_posts_the_error_object(server, callback):
    response = send_multipart(server, callback, b"ID3\x03 this is an mp3, or nothing at all")
    assert_accepted(response)
    [posted] = settle(server, callback, 1)
    assert set(posted) == {"error"}
    assert posted["error"]["code"] == "unreadable_audio" and posted["error"]["message"]


def test_invalid_setting_posts_the_error_object(server, callback):
    assert_accepted(send_multipart(server, callback, wav_bytes([silence(100)]), silence_threshold_db="loud"))
    [posted] = settle(server, callback, 1)
    assert posted["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    "overrides, audio, code",
    [
        ({"callback_url": None}, wav_bytes([silence(100)]), "missing_callback_url"),
        ({"callback_url": ""}, wav_bytes([silence(100)]), "missing_callback_url"),
        ({"callback_url": "ftp://example.com/cb"}, wav_bytes([silence(100)]), "invalid_callback_url"),
        ({}, None, "missing_audio"),
    ],
)
def test_requests_that_cannot_be_served_get_400(server, callback, overrides, audio, code):
    response = send_multipart(server, callback, audio, **overrides)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    settle(server, callback, 0)


def test_missing_vendor_account_header_gets_400(server, callback):
    body, content_type = encode_multipart(params_for(callback), wav_bytes([silence(100)]))
    response = post_recording(server, body, content_type, headers={"X-Twilio-VendorAccountSid": ""})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "missing_account_sid")


def test_other_content_types_get_415(server, callback):
    body = json.dumps(params_for(callback)).encode()
    response = post_recording(server, body, "application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (415, "unsupported_media_type")


def test_callback_answering_500_is_retried_until_it_succeeds(server, httpserver):
    credentials = {"Authorization": BASIC}
    for _ in range(2):
        failing = httpserver.expect_oneshot_request("/callback/XR1", method="POST", headers=credentials)
        failing.respond_with_data("x", status=500)
    httpserver.expect_request("/callback/XR1", method="POST", headers=credentials).respond_with_data("", status=200)
    assert_accepted(send_multipart(server, httpserver, wav_bytes([tone(DTMF["5"], 200, 0.4)])))
    first, second, third = settle(server, httpserver, 3)
    assert first == second == third and [t["digit"] for t in third["dtmf"]] == ["5"]
    assert [response.status_code for _, response in httpserver.log] == [500, 500, 200]


def test_callback_answering_410_is_not_retried(server, httpserver, caplog):
    caplog.set_level(logging.INFO, logger="publishers")
    httpserver.expect_request("/callback/XR1", method="POST").respond_with_data("gone", status=410)
    assert_accepted(send_multipart(server, httpserver, wav_bytes([silence(100)])))
    settle(server, httpserver, 1)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("publishers"))
    assert "refused" in ours and "HTTP 410" in ours
    # Neither the token nor the one-time callback URL's path.
    assert TOKEN not in ours and "/callback/XR1" not in ours


def test_same_request_sid_twice_starts_one_analysis(server, callback, caplog):
    caplog.set_level(logging.INFO, logger="publishers")
    sid = new_sid()
    audio = wav_bytes([tone(DTMF["9"], 200, 0.4)])
    assert_accepted(send_multipart(server, callback, audio, sid=sid))
    assert_accepted(send_multipart(server, callback, audio, sid=sid))
    settle(server, callback, 1)
    assert f"replayed request sid {sid}" in caplog.text
    # Replayed after the analysis finished: still 202, still no second callback.
    assert_accepted(send_multipart(server, callback, audio, sid=sid))
    settle(server, callback, 1)


def test_recordings_may_be_larger_than_the_other_routes_bodies(server, callback):
    audio = wav_bytes([silence(80_000)])  # 80 s: 1.28 MB, over the 1 MB of the synchronous routes
    assert len(audio) > 1024 * 1024
    assert_accepted(send_multipart(server, callback, audio))
    [result] = settle(server, callback, 1)
    assert result["duration_ms"] == 80_000
    assert server.app.body_limit("/voice-insights") > server.app.body_limit("/anagram")


def test_logs_never_show_the_token(server, callback, caplog):
    caplog.set_level(logging.DEBUG)
    assert_accepted(send_multipart(server, callback, wav_bytes([silence(100)])))
    settle(server, callback, 1)
    assert "delivered" in caplog.text
    assert TOKEN not in caplog.text
    assert base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode() not in caplog.text


# --- callback delivery and the worker pool, without the route ------------------------------


def test_post_result_gives_up_after_three_retries(httpserver):
    httpserver.expect_request("/cb").respond_with_data("down", status=503)
    delivery = callbacks.post_result(httpserver.url_for("/cb"), {"x": 1}, account_sid=ACCOUNT_SID, auth_token=TOKEN)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 4, 503)


def test_post_result_retries_connection_errors():
    with socket_that_refuses() as url:
        delivery = callbacks.post_result(url, {"x": 1}, account_sid=ACCOUNT_SID, auth_token=TOKEN)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 4, None)


def test_post_result_waits_the_backoff_between_attempts(httpserver, monkeypatch):
    monkeypatch.setattr(callbacks, "BACKOFF_SECONDS", (0.5, 1.0, 2.0))
    waits = []

    class Recorder(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            return False

    httpserver.expect_request("/cb").respond_with_data("down", status=502)
    callbacks.post_result(httpserver.url_for("/cb"), {}, account_sid=ACCOUNT_SID, auth_token=TOKEN, stop=Recorder())
    assert waits == [0.5, 1.0, 2.0]


def test_post_result_stops_retrying_when_the_server_stops(httpserver):
    stop = threading.Event()
    stop.set()
    httpserver.expect_request("/cb").respond_with_data("down", status=500)
    delivery = callbacks.post_result(
        httpserver.url_for("/cb"), {}, account_sid=ACCOUNT_SID, auth_token=TOKEN, stop=stop
    )
    assert delivery.attempts == 1


def test_redirects_are_not_followed(httpserver):
    httpserver.expect_request("/cb").respond_with_data("", status=302, headers={"Location": "http://elsewhere.test/"})
    delivery = callbacks.post_result(httpserver.url_for("/cb"), {}, account_sid=ACCOUNT_SID, auth_token=TOKEN)
    assert (delivery.delivered, delivery.attempts) == (False, 1)


class socket_that_refuses:
    """A loopback URL where nothing listens."""

    def __enter__(self):
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/cb"

    def __exit__(self, *exc):
        self._socket.close()


def signed_app_request(app, body, content_type, sid):
    url, signature = platform_signed_url("http://127.0.0.1:8101/voice-insights", body)
    headers = {
        "Content-Type": content_type,
        "X-Twilio-Signature": signature,
        "X-Twilio-RequestSid": sid,
        "X-Twilio-VendorAccountSid": ACCOUNT_SID,
    }
    target = url.removeprefix("http://127.0.0.1:8101")
    return app.handle(IncomingRequest("POST", target, headers, body, host="127.0.0.1:8101"))


def test_saturated_pool_answers_503_and_recovers(httpserver):
    httpserver.expect_request("/cb").respond_with_data("", status=200)
    release = threading.Event()
    started = []

    def slow_handler(upload):
        started.append(upload.params["media_sid"])
        release.wait(10)
        return {"duration_ms": 0, "segments": []}

    route = Route("POST", slow_handler, audio_field="audio")
    app = PublisherApp(auth_token=TOKEN, routes={"/voice-insights": route}, background_workers=1, background_queue=1)
    try:

        def request(media_sid, sid):
            fields = {"callback_url": httpserver.url_for("/cb"), "media_sid": media_sid}
            body, content_type = encode_multipart(fields, b"RIFF")
            return signed_app_request(app, body, content_type, sid)

        assert request("RE1", "XR1").status == 202  # running
        assert request("RE2", "XR2").status == 202  # queued
        busy = request("RE3", "XR3")
        assert busy.status == 503 and dict(busy.headers)["Retry-After"] == "1"
        assert json.loads(busy.body)["error"]["code"] == "busy"
        # A retry of an accepted request is answered from the cache, even when busy.
        assert request("RE1", "XR1").status == 202
        release.set()
        assert app.jobs.wait_idle(10)
        # The 503 was not stored: the platform's retry is now accepted.
        assert request("RE3", "XR3").status == 202
        assert app.jobs.wait_idle(10)
        assert started == ["RE1", "RE2", "RE3"]
        assert len(httpserver.log) == 3
    finally:
        release.set()
        app.close()


def test_concurrent_first_attempts_start_one_job(httpserver):
    httpserver.expect_request("/cb").respond_with_data("", status=200)
    computed = []
    gate = threading.Barrier(8)

    def handler(upload):
        computed.append(upload.params["media_sid"])
        return {"duration_ms": 0, "segments": []}

    app = PublisherApp(auth_token=TOKEN, routes={"/voice-insights": Route("POST", handler, audio_field="audio")})
    body, content_type = encode_multipart({"callback_url": httpserver.url_for("/cb"), "media_sid": "RE9"}, b"RIFF")
    statuses = []

    def attempt():
        gate.wait(5)
        statuses.append(signed_app_request(app, body, content_type, "XRsame").status)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert app.jobs.wait_idle(10)
    app.close()
    assert statuses == [202] * 8
    assert computed == ["RE9"]
    assert len(httpserver.log) == 1


def test_an_unexpected_failure_posts_an_internal_error(httpserver):
    httpserver.expect_request("/cb").respond_with_data("", status=200)

    def broken(upload):
        raise RuntimeError("bug")

    app = PublisherApp(auth_token=TOKEN, routes={"/voice-insights": Route("POST", broken, audio_field="audio")})
    body, content_type = encode_multipart({"callback_url": httpserver.url_for("/cb")}, b"RIFF")
    assert signed_app_request(app, body, content_type, "XRbroken").status == 202
    assert app.jobs.wait_idle(10)
    app.close()
    assert json.loads(httpserver.log[0][0].get_data())["error"]["code"] == "internal_error"


def test_closed_app_refuses_new_work():
    app = PublisherApp(auth_token=TOKEN)
    app.close()
    body, content_type = encode_multipart({"callback_url": "http://127.0.0.1:9/cb"}, wav_bytes([silence(10)]))
    assert signed_app_request(app, body, content_type, "XRclosed").status == 503


# --- the manifest --------------------------------------------------------------------------

TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def load_manifest():
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def test_manifest_passes_the_platform_validator():
    manifest = load_manifest()
    assert validate_manifest(manifest) == manifest  # nothing left for defaults to fill in


def test_manifest_matches_the_service():
    manifest = load_manifest()
    assert (manifest["unique_name"], manifest["friendly_name"]) == ("demo_voice_insights", "Voice Insights")
    assert (manifest["type"], manifest["extensions"]) == ("recording_analysis", ["recordings"])
    assert manifest["pricing"] == {"model": "per_minute", "price": "0.0100"}
    endpoint = manifest["endpoint"]
    route = ROUTES[urlsplit(endpoint["url"]).path]
    assert endpoint["url"] == "http://127.0.0.1:8101/voice-insights"
    assert (endpoint["method"], endpoint["format"]) == (route.method, "multipart")
    assert endpoint["audio_field"] == route.audio_field == voice_insights.AUDIO_FIELD
    assert endpoint["params"][route.callback_param] == "{{callback_url}}"
    # The docs' form: audio_field alone names the audio part, no param repeats {{audio_data}}.
    assert route.audio_field not in endpoint["params"]
    assert (endpoint["timeout_ms"], endpoint["retries"], endpoint["ttl_ms"]) == (10000, 2, 60000)
    assert manifest["response_validation_schema"]["required"] == ["duration_ms", "segments"]

    properties = manifest["configuration_schema"]["properties"]
    assert set(properties) == {"silence_threshold_db", "min_silence_ms", "detect_dtmf", "detail"}
    for spec in properties.values():
        assert spec["name"] and spec["_help"] and "default" in spec
    assert (properties["silence_threshold_db"]["minimum"], properties["silence_threshold_db"]["maximum"]) == (-90, 0)
    assert properties["detail"]["enum"] == ["summary", "full"]
    # The schema's defaults are the service's own, and every setting reaches the service.
    rendered = {name: str(spec["default"]).lower() for name, spec in properties.items()}  # True -> "true"
    defaults = voice_insights.options_from_params(rendered)
    assert defaults == voice_insights.AnalysisOptions()
    used = {field for template in endpoint["params"].values() for field in TEMPLATE.findall(template)}
    assert set(properties) <= used


def test_manifest_endpoint_invokes_the_service(server, callback):
    """Render the params as the platform does and send them, the audio in the audio_field part."""
    manifest = load_manifest()
    endpoint = manifest["endpoint"]
    samples, _, _ = dtmf_recording("159#")
    audio = wav_bytes([samples])
    fields = {
        **{name: spec["default"] for name, spec in manifest["configuration_schema"]["properties"].items()},
        "callback_url": callback.url_for("/callback/XR1"),
        "media_sid": "RE" + "f" * 32,
        "duration": 2370,
        "channels": 1,
        "size": len(audio),
        "format": "audio/x-wav",
    }

    def text(value):
        return "true" if value is True else "false" if value is False else str(value)

    params = {
        name: TEMPLATE.sub(lambda m: text(fields[m.group(1)]), template)
        for name, template in endpoint["params"].items()
        if name != endpoint["audio_field"]
    }
    filename = f"{fields['media_sid']}.wav"
    body, content_type = encode_multipart(params, audio, audio_field=endpoint["audio_field"], filename=filename)
    assert_accepted(post_recording(server, body, content_type))
    [result] = settle(server, callback, 1)
    assert result["media_sid"] == "RE" + "f" * 32
    assert [t["digit"] for t in result["dtmf"]] == ["1", "5", "9", "#"]
