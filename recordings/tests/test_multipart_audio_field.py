"""A multipart recording endpoint written as docs/manifest.md prints it (audio_field, no param
naming {{audio_data}}) sends the audio; a param that also names it sends it once."""

import json

import pytest

from addons.manifest import validate_manifest
from marketplace.errors import InvalidManifest
from tests.docs_markdown import block_containing
from tests.recording_helpers import recording_manifest, wav_bytes


def docs_endpoint():
    """The recording endpoint example of docs/manifest.md, exactly as printed."""
    block = block_containing("docs/manifest.md", '"audio_field"', language="json")
    return json.loads("{" + block + "}")["endpoint"]


def test_the_docs_example_has_no_audio_data_param():
    endpoint = docs_endpoint()
    assert endpoint["format"] == "multipart" and endpoint["audio_field"] == "audio"
    assert "{{audio_data}}" not in json.dumps(endpoint)


def test_the_docs_endpoint_sends_the_audio_in_the_audio_field_part(
    db, customer, publisher_server, recording_add_on, upload
):
    server = publisher_server((202, ""))
    endpoint = docs_endpoint()
    del endpoint["url"]  # only the address changes: ours is a loopback publisher
    recording_add_on(server.url, unique_name="docs_transcriber", **endpoint)
    audio = wav_bytes(1.5)
    assert upload(audio).status_code == 201

    parts = server.form()
    assert sorted(parts) == ["audio", "callback", "mime", "ms"]
    head, content = parts["audio"]
    assert content == audio
    assert head.get_filename().startswith("RE") and head.get_content_type() == "audio/x-wav"
    assert parts["mime"][1] == b"audio/x-wav" and parts["ms"][1] == b"1500"
    assert parts["callback"][1].startswith(b"http")
    assert server.requests[-1].headers["Authorization"] == "Bearer sk_live_123"


def test_a_param_also_naming_the_audio_sends_it_once(db, customer, publisher_server, recording_add_on, upload):
    server = publisher_server((202, ""))
    recording_add_on(server.url)  # recording_manifest's params repeat "audio": "{{audio_data}}"
    audio = wav_bytes(1.0)
    assert upload(audio).status_code == 201
    body = server.requests[-1].get_data()
    assert body.count(b'name="audio"') == 1 and parts_audio(server) == audio


def parts_audio(server):
    return server.form()["audio"][1]


def test_a_param_named_like_audio_field_must_be_the_audio():
    manifest = recording_manifest("https://transcribe.example/jobs")
    manifest["endpoint"]["params"]["audio"] = "{{media_sid}}"
    with pytest.raises(InvalidManifest) as caught:
        validate_manifest(manifest)
    assert [(p["path"], p["message"]) for p in caught.value.details] == [
        (
            "$.endpoint.params.audio",
            "param 'audio' is the audio part (audio_field): leave it out, or give it the value {{audio_data}}",
        )
    ]
