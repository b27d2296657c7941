"""Real, short media for the demo, made here rather than downloaded: a recording of a call (a
ringback tone, then a spoken-like warble) as a WAV file, and a formal notice letter as a PDF."""

from __future__ import annotations

import io
import math
import random
import struct
import wave

_RATE = 8000  # Hz: telephone quality


def recording(seconds: float = 4.0, seed: int = 1) -> bytes:
    """A mono 16-bit WAV: two rings of the French ringback tone (440 Hz), then a second and a
    half of a voice-like sound (a pitch gliding around 180 Hz with its harmonics)."""
    rng = random.Random(seed)
    samples: list[int] = []
    for n in range(int(seconds * _RATE)):
        t = n / _RATE
        if t < 2.5:
            on = (t % 1.25) < 0.75
            value = 0.3 * math.sin(2 * math.pi * 440 * t) if on else 0.0
        else:
            pitch = 180 + 30 * math.sin(2 * math.pi * 3 * t)
            phase = 2 * math.pi * pitch * t
            value = 0.25 * sum(math.sin(k * phase) / k for k in (1, 2, 3))
            value *= 0.6 + 0.4 * math.sin(2 * math.pi * 5 * t)
            value += rng.uniform(-0.02, 0.02)
        samples.append(int(max(-1.0, min(1.0, value)) * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


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
