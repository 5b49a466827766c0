"""Voice Insights: loudness, speech/silence segments and DTMF digits of a recording (asynchronous).

A recording-analysis add-on: the platform uploads the audio (a PCM WAV file), the server answers
202 at once and runs `handle_request` on a worker thread, then posts its result to the callback
URL (see `server` and `callbacks`). Everything is computed from the samples, in pure Python:

- the channels are summed to one (a full-scale sample of the sum is `channels` times larger);
- loudness: RMS and peak in dBFS, where a full-scale sine has an RMS of -3.01 dBFS and digital
  silence reads MIN_DBFS;
- segments: 20 ms frames are speech when their RMS is above `silence_threshold_db` (absolute
  dBFS); a pause between speech shorter than `min_silence_ms` counts as speech; runs of the same
  kind are merged. Leading and trailing silence is reported whatever its length;
- DTMF: the Goertzel algorithm measures the eight DTMF frequencies in half-overlapping blocks of
  25.6 ms (205 samples at 8 kHz, 39 Hz resolution; faster audio is first averaged down to about
  8 kHz). A block holds a digit when one row and one column tone carry most of its energy, each
  clearly above the rest of its group and within DTMF_MAX_TWIST_DB of each other; a digit is
  reported once it lasts DTMF_MIN_BLOCKS blocks (about 40 ms), at the start of its first block.

Only the first `max_analysed_ms` of a recording are analysed (DEFAULT_MAX_ANALYSED_MS);
`analysed_ms` and `truncated` in the result say how much was.
"""

import io
import math
import struct
import sys
import wave
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import add, mul
from typing import Any

from publishers.inputs import PublisherError, parse_bool, parse_choice, parse_float, parse_int
from publishers.uploads import AudioUpload

# The multipart part carrying the audio: the manifest's endpoint.audio_field.
AUDIO_FIELD = "audio"
FRAME_MS = 20
DEFAULT_MAX_ANALYSED_MS = 10 * 60 * 1000
MIN_DBFS = -120.0
DETAILS = ("summary", "full")
SUPPORTED_SAMPLE_WIDTHS = (1, 2)

DTMF_ROW_HZ = (697, 770, 852, 941)
DTMF_COLUMN_HZ = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
DTMF_BLOCK_SECONDS = 0.0256
DTMF_MIN_BLOCKS = 2
# Audio sampled at twice this rate or more is averaged down to near it for DTMF detection.
DTMF_RATE = 8000
# Blocks quieter than this (RMS) are not examined.
DTMF_MIN_DBFS = -50.0
# Share of a block's energy the two tones must carry together (a clean dual tone carries ~1.0).
DTMF_MIN_TONE_SHARE = 0.6
DTMF_MAX_TWIST_DB = 10.0
# The strongest tone of a group must carry this many times the power of the group's second.
DTMF_MIN_GROUP_MARGIN = 4.0

_RIFF_MAGIC = b"RIFF"
_WAVE_MAGIC = b"WAVE"
_SIGNED_BYTES = bytes((value - 128) & 0xFF for value in range(256))  # unsigned 8-bit PCM -> signed


class UnreadableAudio(PublisherError):
    def __init__(self, message: str):
        super().__init__("unreadable_audio", message)


@dataclass(frozen=True)
class AnalysisOptions:
    silence_threshold_db: float = -40.0
    min_silence_ms: int = 300
    detect_dtmf: bool = True
    detail: str = "summary"
    max_analysed_ms: int = DEFAULT_MAX_ANALYSED_MS


@dataclass(frozen=True)
class Audio:
    """Decoded audio: the channels summed into one sequence of integer samples."""

    samples: Sequence[int]
    # The magnitude of a full-scale sample in `samples` (e.g. 32768 * 2 for 16-bit stereo).
    full_scale: int
    sample_rate: int
    channels: int
    sample_width: int
    # The whole recording's duration, which may be longer than what was decoded.
    duration_ms: int

    @property
    def decoded_ms(self) -> int:
        return samples_to_ms(len(self.samples), self.sample_rate)


@dataclass(frozen=True)
class DtmfTone:
    digit: str
    start_ms: int
    end_ms: int


def samples_to_ms(count: int, rate: int) -> int:
    return round(count * 1000 / rate)


def decode_wav(data: bytes, *, max_ms: int = DEFAULT_MAX_ANALYSED_MS) -> Audio:
    """The first `max_ms` of an 8- or 16-bit PCM WAV file, or UnreadableAudio."""
    if data[:4] != _RIFF_MAGIC or data[8:12] != _WAVE_MAGIC:
        raise UnreadableAudio("not a WAV file: only PCM WAV (audio/x-wav) recordings can be analysed")
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            channels, width, rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
            declared = reader.getnframes()
            if channels < 1 or rate < 1:
                raise UnreadableAudio(f"the WAV header is invalid ({channels} channels at {rate} Hz)")
            if width not in SUPPORTED_SAMPLE_WIDTHS:
                raise UnreadableAudio(f"{8 * width}-bit samples are not supported: only 8- and 16-bit PCM")
            wanted = min(declared, rate * max_ms // 1000)
            raw = reader.readframes(wanted)
    except (wave.Error, EOFError, struct.error, ValueError) as error:
        raise UnreadableAudio(f"not a readable PCM WAV file: {error}") from None
    frame_size = width * channels
    count = len(raw) // frame_size
    raw = raw[: count * frame_size]
    if width == 2:
        values = array("h")
        values.frombytes(raw)
        if sys.byteorder == "big":
            values.byteswap()  # WAV is little-endian
        full_scale = 32768
    else:
        values = array("b", raw.translate(_SIGNED_BYTES))
        full_scale = 128
    samples: Sequence[int] = values
    if channels > 1:
        samples = values[0::channels]
        for channel in range(1, channels):
            samples = list(map(add, samples, values[channel::channels]))
    # A file shorter than its header says ends where its data ends.
    total = declared if count == wanted else count
    return Audio(
        samples=samples,
        full_scale=full_scale * channels,
        sample_rate=rate,
        channels=channels,
        sample_width=width,
        duration_ms=samples_to_ms(total, rate),
    )


def to_dbfs(energy: float, count: int, full_scale: int) -> float:
    """RMS level in dBFS of `count` samples whose squares sum to `energy`."""
    if count == 0 or energy <= 0:
        return MIN_DBFS
    return max(MIN_DBFS, 10 * math.log10(energy / count / (full_scale * full_scale)))


def frame_energies(samples: Sequence[int], frame_length: int) -> list[int]:
    """Sum of squares of each frame (the last one may be shorter)."""
    return [
        sum(map(mul, chunk, chunk))
        for chunk in (samples[start : start + frame_length] for start in range(0, len(samples), frame_length))
    ]


@dataclass
class _Run:
    kind: str
    first: int  # frame index
    end: int  # frame index, exclusive


def segment_frames(levels: Sequence[float], *, frame_ms: float, threshold_db: float, min_silence_ms: int) -> list[_Run]:
    """Runs of speech and silence frames, pauses shorter than `min_silence_ms` filled in."""
    runs: list[_Run] = []
    for index, level in enumerate(levels):
        kind = "speech" if level > threshold_db else "silence"
        if runs and runs[-1].kind == kind:
            runs[-1].end = index + 1
        else:
            runs.append(_Run(kind, index, index + 1))
    merged: list[_Run] = []
    for index, run in enumerate(runs):
        kind = run.kind
        is_pause = 0 < index < len(runs) - 1
        if kind == "silence" and is_pause and (run.end - run.first) * frame_ms < min_silence_ms:
            kind = "speech"
        if merged and merged[-1].kind == kind:
            merged[-1].end = run.end
        else:
            merged.append(_Run(kind, run.first, run.end))
    return merged


def goertzel_power(samples: Sequence[float], coefficient: float) -> float:
    """|X(f)|² of the block at the frequency whose coefficient is 2·cos(2πf/rate) (Goertzel)."""
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coefficient * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def _strongest(shares: list[float]) -> tuple[int, float, float]:
    """Index and share of the strongest tone of a group, and the second strongest share."""
    order = sorted(range(len(shares)), key=shares.__getitem__, reverse=True)
    return order[0], shares[order[0]], shares[order[1]]


def dtmf_digit(block: Sequence[float], energy: float, coefficients: Sequence[float]) -> str | None:
    """The DTMF digit a block holds, or None. `coefficients`: Goertzel's, rows then columns."""
    # A tone of amplitude A over the whole block: |X|² = (A·N/2)², energy A²·N/2, so this
    # scale turns |X|² into the share of the block's energy the tone carries.
    scale = 2.0 / (len(block) * energy)
    rows = [goertzel_power(block, c) * scale for c in coefficients[:4]]
    row, row_share, row_second = _strongest(rows)
    # The weaker tone carries at least this share when the block passes the tests below.
    least_share = DTMF_MIN_TONE_SHARE / (1 + 10 ** (DTMF_MAX_TWIST_DB / 10))
    if row_share < least_share or row_share < DTMF_MIN_GROUP_MARGIN * row_second:
        return None  # not a DTMF block: spare the column tones' work
    columns = [goertzel_power(block, c) * scale for c in coefficients[4:]]
    column, column_share, column_second = _strongest(columns)
    if column_share < least_share or column_share < DTMF_MIN_GROUP_MARGIN * column_second:
        return None
    if row_share + column_share < DTMF_MIN_TONE_SHARE:
        return None
    if abs(10 * math.log10(row_share / column_share)) > DTMF_MAX_TWIST_DB:
        return None
    return DTMF_KEYS[row][column]


def detect_dtmf(samples: Sequence[int], sample_rate: int, full_scale: int) -> list[DtmfTone]:
    """The DTMF digits in the audio, in order."""
    factor = max(1, sample_rate // DTMF_RATE)
    if factor > 1:  # average groups of `factor` samples: a crude low-pass, enough below 1.7 kHz
        samples = [sum(samples[i : i + factor]) for i in range(0, len(samples) - factor + 1, factor)]
        full_scale *= factor
    rate = sample_rate / factor
    block_length = max(16, round(rate * DTMF_BLOCK_SECONDS))
    hop = block_length // 2
    coefficients = [2 * math.cos(2 * math.pi * hz / rate) for hz in DTMF_ROW_HZ + DTMF_COLUMN_HZ]
    floor = block_length * (full_scale * 10 ** (DTMF_MIN_DBFS / 20)) ** 2

    def to_ms(position: int) -> int:
        return samples_to_ms(position * factor, sample_rate)

    tones: list[DtmfTone] = []
    current, first, last_end, blocks = None, 0, 0, 0

    def close_run() -> None:
        if current is not None and blocks >= DTMF_MIN_BLOCKS:
            tones.append(DtmfTone(current, to_ms(first), to_ms(last_end)))

    for start in range(0, len(samples) - block_length + 1, hop):
        block = samples[start : start + block_length]
        energy = sum(map(mul, block, block))
        digit = dtmf_digit(block, energy, coefficients) if energy >= floor else None
        if digit is not None and digit == current:
            blocks += 1
            last_end = start + block_length
            continue
        close_run()
        current, first, last_end, blocks = digit, start, start + block_length, 1
    close_run()
    return tones


def analyse(audio: Audio, options: AnalysisOptions = AnalysisOptions()) -> dict:
    """The analysis result (without media_sid) of decoded audio."""
    samples, rate, full_scale = audio.samples, audio.sample_rate, audio.full_scale
    count = len(samples)
    frame_length = max(1, round(rate * FRAME_MS / 1000))
    energies = frame_energies(samples, frame_length)
    levels = [
        to_dbfs(energy, min(frame_length, count - i * frame_length), full_scale) for i, energy in enumerate(energies)
    ]
    peak = max(max(samples), -min(samples)) if count else 0
    full = options.detail == "full"

    def position_ms(frame: int) -> int:
        return samples_to_ms(min(frame * frame_length, count), rate)

    segments, speech_samples = [], 0
    runs = segment_frames(
        levels,
        frame_ms=frame_length * 1000 / rate,
        threshold_db=options.silence_threshold_db,
        min_silence_ms=options.min_silence_ms,
    )
    for run in runs:
        segment: dict[str, Any] = {"start_ms": position_ms(run.first), "end_ms": position_ms(run.end), "kind": run.kind}
        run_samples = min(run.end * frame_length, count) - run.first * frame_length
        if run.kind == "speech":
            speech_samples += run_samples
        if full:
            segment["rms_dbfs"] = _rounded(to_dbfs(sum(energies[run.first : run.end]), run_samples, full_scale))
        segments.append(segment)

    result: dict[str, Any] = {
        "duration_ms": audio.duration_ms,
        "sample_rate": rate,
        "channels": audio.channels,
        "analysed_ms": audio.decoded_ms,
        "truncated": audio.decoded_ms < audio.duration_ms,
        "loudness": {
            "rms_dbfs": _rounded(to_dbfs(sum(energies), count, full_scale)),
            "peak_dbfs": _rounded(max(MIN_DBFS, 20 * math.log10(peak / full_scale)) if peak else MIN_DBFS),
        },
        "segments": segments,
        "speech_ratio": round(speech_samples / count, 4) if count else 0.0,
    }
    if options.detect_dtmf:
        tones = detect_dtmf(samples, rate, full_scale)
        result["dtmf"] = [
            {"digit": tone.digit, "start_ms": tone.start_ms, **({"end_ms": tone.end_ms} if full else {})}
            for tone in tones
        ]
    if full:
        result["frames"] = {"frame_ms": FRAME_MS, "rms_dbfs": [_rounded(level, 1) for level in levels]}
    return result


def _rounded(value: float, digits: int = 2) -> float:
    return round(value, digits) + 0.0  # + 0.0: no "-0.0"


def options_from_params(params: Mapping[str, Any]) -> AnalysisOptions:
    return AnalysisOptions(
        silence_threshold_db=parse_float(
            params.get("silence_threshold_db"), name="silence_threshold_db", default=-40.0, minimum=-90.0, maximum=0.0
        ),
        min_silence_ms=parse_int(
            params.get("min_silence_ms"), name="min_silence_ms", default=300, minimum=0, maximum=10_000
        ),
        detect_dtmf=parse_bool(params.get("detect_dtmf"), name="detect_dtmf", default=True),
        detail=parse_choice(params.get("detail"), name="detail", default="summary", choices=DETAILS),
    )


def handle_request(upload: AudioUpload) -> dict:
    """The result to post back for an uploaded recording (runs on a worker thread)."""
    options = options_from_params(upload.params)
    audio = decode_wav(upload.audio, max_ms=options.max_analysed_ms)
    media_sid = upload.params.get("media_sid", "").strip() or None
    return {"media_sid": media_sid, **analyse(audio, options)}
