"""Writes docs/samples/call.wav, the README's sample recording, byte for byte the same each run:
8 kHz 16-bit mono, about 4 s: a second of speech-like sound, then the keypad digits 1 5 9 #
as DTMF tones, with silences between. `python docs/samples/make_call_wav.py` rewrites it."""

import math
import struct
import wave
from pathlib import Path

RATE = 8000
ROWS, COLUMNS, KEYS = (697, 770, 852, 941), (1209, 1336, 1477, 1633), ("123A", "456B", "789C", "*0#D")
DIGITS = "159#"


def silence(ms):
    return [0.0] * (RATE * ms // 1000)


def dtmf(digit, ms=150):
    row = next(i for i, keys in enumerate(KEYS) if digit in keys)
    low, high = ROWS[row], COLUMNS[KEYS[row].index(digit)]
    return [
        0.35 * (math.sin(2 * math.pi * low * n / RATE) + math.sin(2 * math.pi * high * n / RATE))
        for n in range(RATE * ms // 1000)
    ]


def speechlike(ms):
    """A voice-band vowel: a 140 Hz fundamental with formant-ish harmonics, its loudness moving
    like syllables (4 per second). Not DTMF, so no digit is heard in it."""
    out = []
    for n in range(RATE * ms // 1000):
        t = n / RATE
        envelope = 0.5 * (1 - math.cos(2 * math.pi * 4 * t))
        voice = sum(amp * math.sin(2 * math.pi * 140 * k * t) for k, amp in ((1, 0.5), (4, 0.3), (8, 0.2), (17, 0.1)))
        out.append(0.45 * envelope * voice)
    return out


def samples():
    out = silence(400) + speechlike(1000) + silence(500)
    for digit in DIGITS:
        out += dtmf(digit) + silence(350)
    return out + silence(300)


def write(path):
    pcm = b"".join(struct.pack("<h", round(max(-1.0, min(1.0, s)) * 32767)) for s in samples())
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)


if __name__ == "__main__":
    write(Path(__file__).with_name("call.wav"))
