"""Reading what a recording is from its own bytes (WAV): duration, channels, rate, size.

The duration bills per-minute add-ons and bounds the publisher's deadline, so it comes from
the audio actually received (data bytes / (rate x channels x sample width)), never from the
header's claims: a data chunk that says 2 bytes while a minute of audio follows is refused,
as is any value out of range. Only the headers are read (seek past the audio), and the walk
through the chunks is bounded, so a hostile file costs a few small reads.
"""

import struct
from dataclasses import dataclass

from marketplace.errors import InvalidParameter

WAV_MIMETYPE = "audio/x-wav"

# What the platform accepts: telephony and studio audio, nothing the arithmetic could choke on.
MIN_RATE, MAX_RATE = 1000, 384000
MAX_CHANNELS = 8
SAMPLE_BITS = {
    1: (8, 16, 24, 32),
    3: (32, 64),
    6: (8,),
    7: (8,),
    0xFFFE: (8, 16, 24, 32),
}  # PCM, float, A-law, mu-law, extensible
FMT_SIZES = (16, 18, 40)
MAX_CHUNKS = 64  # before the audio; real files have two to five
# A header may be off by a padding byte or a partial frame; more than this is a contradiction.
TOLERANCE_BYTES = 64
# Chunks other than the format and the audio (LIST, JUNK...): metadata, not a place for audio.
MAX_METADATA_BYTES = 256 * 1024


@dataclass(frozen=True)
class AudioInfo:
    duration_ms: int
    channels: int
    sample_rate: int
    size: int
    mimetype: str = WAV_MIMETYPE


class _Refused(Exception):
    pass


def read_wav(fileobj, *, param="Audio"):
    """The WAV's facts, or InvalidParameter saying why it cannot be read or is refused."""
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    try:
        info = _measure(fileobj, size)
    except _Refused as problem:
        raise InvalidParameter(f"Parameter '{param}' is not a readable WAV file: {problem}", param=param)
    finally:
        fileobj.seek(0)
    if info.duration_ms == 0:
        raise InvalidParameter(f"Parameter '{param}' holds no audio (0 frames)", param=param)
    return info


def _read(fileobj, count, what):
    data = fileobj.read(count)
    if len(data) != count:
        raise _Refused(f"the file ends inside its {what}")
    return data


def _measure(fileobj, size):
    riff, riff_size, wave = struct.unpack("<4sI4s", _read(fileobj, 12, "RIFF header"))
    if riff != b"RIFF" or wave != b"WAVE":
        raise _Refused("it does not start with a RIFF/WAVE header")
    if riff_size + 8 - size > TOLERANCE_BYTES:
        raise _Refused(f"the file is cut short: its RIFF header claims {riff_size + 8} bytes but the file has {size}")
    if size - (riff_size + 8) > TOLERANCE_BYTES:
        raise _Refused(f"its RIFF header claims {riff_size + 8} bytes but the file has {size}")
    fmt = None
    position = 12
    metadata = 0
    for _ in range(MAX_CHUNKS):
        chunk_id, chunk_size = struct.unpack("<4sI", _read(fileobj, 8, "chunk headers"))
        body = position + 8
        if chunk_id == b"fmt ":
            fmt = _format(fileobj, chunk_size)
        elif chunk_id == b"data":
            if fmt is None:
                raise _Refused("its audio comes before its format (no fmt chunk)")
            return _audio(fileobj, fmt, body, chunk_size, size, metadata)
        elif body + chunk_size > size:
            raise _Refused(f"its '{_printable(chunk_id)}' chunk claims {chunk_size} bytes past the end of the file")
        else:
            metadata += 8 + chunk_size
        position = body + chunk_size + (chunk_size & 1)  # chunks are padded to an even size
        fileobj.seek(position)
    raise _Refused(f"no audio within its first {MAX_CHUNKS} chunks")


def _format(fileobj, chunk_size):
    if chunk_size not in FMT_SIZES:
        raise _Refused(f"its fmt chunk is {chunk_size} bytes (16, 18 or 40 expected)")
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", _read(fileobj, 16, "fmt chunk"))
    _read(fileobj, chunk_size - 16 + (chunk_size & 1), "fmt chunk")
    if tag not in SAMPLE_BITS:
        raise _Refused(f"its audio format {tag} is not PCM, IEEE float, A-law or mu-law")
    if not 1 <= channels <= MAX_CHANNELS:
        raise _Refused(f"it has {channels} channels (1 to {MAX_CHANNELS} accepted)")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise _Refused(f"its sample rate is {rate} Hz ({MIN_RATE} to {MAX_RATE} accepted)")
    if bits not in SAMPLE_BITS[tag]:
        raise _Refused(f"{bits}-bit samples do not fit its format ({', '.join(map(str, SAMPLE_BITS[tag]))} bits)")
    frame = channels * bits // 8
    if block_align != frame or byte_rate != rate * frame:
        raise _Refused(
            f"its block align {block_align} and byte rate {byte_rate} contradict {channels} channel(s)"
            f" of {bits}-bit samples at {rate} Hz ({frame} and {rate * frame})"
        )
    return rate, channels, frame


def _audio(fileobj, fmt, start, claimed, size, metadata):
    """Duration from the bytes that are there; the header's claim only has to agree."""
    rate, channels, frame = fmt
    trailing = _trailing_chunks(fileobj, start + claimed + (claimed & 1), size)
    if metadata + trailing > MAX_METADATA_BYTES:
        raise _Refused(
            f"it carries {metadata + trailing} bytes of chunks besides its audio ({MAX_METADATA_BYTES} at most)"
        )
    received = max(size - start - trailing, 0)
    if abs(received - claimed) > TOLERANCE_BYTES:
        raise _Refused(
            f"its data chunk claims {claimed} bytes of audio but {received} bytes follow"
            f" ({_seconds(claimed, rate, frame)} s claimed, {_seconds(received, rate, frame)} s received)"
        )
    frames = received // frame
    return AudioInfo(duration_ms=frames * 1000 // rate, channels=channels, sample_rate=rate, size=size)


def _trailing_chunks(fileobj, position, size):
    """Bytes of well-formed chunks (LIST, id3...) from `position` (after the claimed audio)
    to the very end of the file; 0 when what follows is not such chunks (then it is audio)."""
    start = position
    for _ in range(MAX_CHUNKS):
        if position >= size:
            return size - start if position == size else 0
        if size - position < 8:
            return 0
        fileobj.seek(position)
        chunk_id, chunk_size = struct.unpack("<4sI", fileobj.read(8))
        if not _is_chunk_id(chunk_id):
            return 0
        position += 8 + chunk_size + (chunk_size & 1)
    return 0


def _is_chunk_id(chunk_id):
    return all(32 <= byte < 127 for byte in chunk_id) and chunk_id.strip() != b""


def _printable(chunk_id):
    return chunk_id.decode("ascii", "replace") if _is_chunk_id(chunk_id) else chunk_id.hex()


def _seconds(count, rate, frame):
    ms = max(count, 0) // frame * 1000 // rate
    return f"{ms // 1000}.{ms % 1000:03d}"
