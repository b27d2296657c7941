"""Real, short media for the demo, made here rather than downloaded: recordings of calls (a
ringback tone, then a spoken-like warble) as WAV files, and a formal notice letter as a PDF."""

from __future__ import annotations

import functools
import io
import math
import random
import struct
import wave

_RATE = 8000  # Hz: telephone quality
_RINGBACK_SECONDS = 2.5

# The lengths of the demo's recordings: each recorded followup of the book lasts exactly as long
# as the recording it carries, so the book only picks its call durations among these.
RECORDING_SECONDS = (11, 16, 22, 27, 33, 40)
LETTER_FILE = "letter.pdf"
LETTER_TITLE = "Mise en demeure de payer"
LETTER_LINES = [
    "Madame, Monsieur,",
    "",
    "Malgre nos precedentes relances, la somme due reste impayee a ce jour.",
    "Nous vous mettons en demeure de la regler sous huit jours a compter de ce courrier.",
    "A defaut, nous serons contraints d'engager une procedure de recouvrement.",
    "",
    "Veuillez agreer, Madame, Monsieur, nos salutations distinguees.",
]


def recording_file(seconds: int) -> str:
    return f"recording-{seconds}s.wav"


def demo_files() -> dict[str, bytes]:
    """Every file the demo book refers to, by the name the book gives it."""
    files = {recording_file(s): recording(seconds=s, seed=s) for s in RECORDING_SECONDS}
    files[LETTER_FILE] = letter(LETTER_TITLE, LETTER_LINES)
    return files


def recording(seconds: float = 4.0, seed: int = 1) -> bytes:
    """A mono 16-bit WAV of exactly `seconds`: two rings of the French ringback tone (440 Hz),
    then voice-like words (a pitch gliding around 180 Hz with its harmonics) between pauses."""
    rng = random.Random(seed)
    size = 2 * int(seconds * _RATE)
    pcm = bytearray(_ringback())
    words = _words()
    # The words are made once and reassembled: a 40 s recording then costs a copy, not 320,000
    # samples of trigonometry.
    while len(pcm) < size:
        pcm += rng.choice(words)
        pcm += bytes(2 * int(rng.uniform(0.06, 0.45) * _RATE))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(bytes(pcm[:size]))
    return buffer.getvalue()


@functools.cache
def _ringback() -> bytes:
    samples = []
    for n in range(int(_RINGBACK_SECONDS * _RATE)):
        t = n / _RATE
        on = (t % 1.25) < 0.75
        samples.append(0.3 * math.sin(2 * math.pi * 440 * t) if on else 0.0)
    return _pcm(samples)


@functools.cache
def _words() -> tuple[bytes, ...]:
    rng = random.Random(0)
    return tuple(
        _word(rng, seconds=rng.uniform(0.15, 0.6), pitch=rng.uniform(150, 220)) for _ in range(8)
    )


def _word(rng: random.Random, seconds: float, pitch: float) -> bytes:
    samples = []
    count = int(seconds * _RATE)
    for n in range(count):
        t = n / _RATE
        glide = pitch + 30 * math.sin(2 * math.pi * 3 * t)
        phase = 2 * math.pi * glide * t
        value = 0.25 * sum(math.sin(k * phase) / k for k in (1, 2, 3))
        value *= 0.6 + 0.4 * math.sin(2 * math.pi * 5 * t)
        value *= math.sin(math.pi * n / count)  # fade in and out: no click between words
        samples.append(value + rng.uniform(-0.02, 0.02))
    return _pcm(samples)


def _pcm(samples: list[float]) -> bytes:
    clipped = [int(max(-1.0, min(1.0, value)) * 32767) for value in samples]
    return struct.pack(f"<{len(clipped)}h", *clipped)


def letter(title: str, lines: list[str]) -> bytes:
    """A one-page PDF (Helvetica, A4) with a title and lines of text."""
    text = ["BT", "/F1 16 Tf", "72 770 Td", f"({_escaped(title)}) Tj", "/F1 11 Tf", "0 -30 Td"]
    for line in lines:
        text += [f"({_escaped(line)}) Tj", "0 -16 Td"]
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
