"""Reading what a recording is from its own bytes (WAV): duration, channels, rate, size."""

import wave
from dataclasses import dataclass

from marketplace.errors import InvalidParameter

WAV_MIMETYPE = "audio/x-wav"


@dataclass(frozen=True)
class AudioInfo:
    duration_ms: int
    channels: int
    sample_rate: int
    size: int
    mimetype: str = WAV_MIMETYPE


def read_wav(fileobj, *, param="Audio"):
    """The WAV's facts, or InvalidParameter saying why it cannot be read."""
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    try:
        with wave.open(fileobj, "rb") as audio:
            frames, rate, channels = audio.getnframes(), audio.getframerate(), audio.getnchannels()
    except (wave.Error, EOFError) as error:
        raise InvalidParameter(f"Parameter '{param}' is not a readable WAV file: {error}", param=param)
    finally:
        fileobj.seek(0)
    if frames == 0 or rate == 0:
        raise InvalidParameter(f"Parameter '{param}' holds no audio (0 frames)", param=param)
    return AudioInfo(duration_ms=frames * 1000 // rate, channels=channels, sample_rate=rate, size=size)
