"""Making recordings and recording add-ons for tests."""

import io
import math
import struct
import wave

from addons.tests.factories import make_manifest


def wav_bytes(seconds=2.0, rate=8000, channels=1, frequency=440.0):
    """A real WAV: a sine tone, 16-bit PCM."""
    frames = int(seconds * rate)
    samples = (int(12000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(frames))
    pcm = b"".join(struct.pack("<h", s) * channels for s in samples)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def recording_manifest(url, unique_name="transcriber", **endpoint_overrides):
    endpoint = {
        "url": url,
        "method": "POST",
        "format": "multipart",
        "audio_field": "audio",
        "params": {
            "audio": "{{audio_data}}",
            "callback_url": "{{callback_url}}",
            "media_sid": "{{media_sid}}",
            "duration": "{{duration}}",
            "channels": "{{channels}}",
            "size": "{{size}}",
            "format": "{{format}}",
            "lang": "{{language}}",
        },
        "auth": {"type": "none"},
        "headers": {},
        "timeout_ms": 2000,
        "retries": 2,
        "ttl_ms": 5000,
        **endpoint_overrides,
    }
    return make_manifest(
        unique_name=unique_name,
        type="recording_analysis",
        extensions=["recordings"],
        pricing={"model": "per_minute", "price": "0.0100"},
        configuration_schema={
            "type": "object",
            "properties": {"language": {"type": "string", "name": "Language", "enum": ["en", "es"], "default": "en"}},
        },
        response_validation_schema={"type": "object", "required": ["transcript"]},
        endpoint=endpoint,
    )
