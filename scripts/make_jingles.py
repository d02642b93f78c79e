"""Synthesize the station's stock jingles: audio/jingles/{intro,outro,alert}.wav.

Where it sits: a one-off build step. The lead's schedule.yaml names these files as the station's
"intro", "outro" and "alert" jingles; the programme stage frames every bulletin with them.
Out: 48 kHz mono 16-bit WAVs, 2-5 s each, made from pure tones with numpy only, so they are
licence-clean and byte-identical on every run (no randomness, no timestamps in the files).

Usage: .venv/bin/python scripts/make_jingles.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np

RATE = 48_000
PEAK = 10 ** (-3 / 20)      # -3 dBFS; the programme stage levels every element anyway

# A major triad and its octave: C5 E5 G5 C6. Fundamentals sit well above the horn's ~200 Hz
# cut-off, so the chime survives the "horn" voicing untouched.
C5, E5, G5, C6 = 523.25, 659.26, 783.99, 1046.50


def bell(freq: float, seconds: float, decay: float = 2.2) -> np.ndarray:
    """One soft chime note: a few inharmonic-free partials, 12 ms attack, exponential decay.

    The raised-cosine attack keeps the onset from clicking; the partials fade faster than the
    fundamental, the way a struck bar mellows.
    """
    t = np.arange(int(seconds * RATE)) / RATE
    partials = ((1.0, 1.0, 1.0), (2.0, 0.35, 1.8), (3.0, 0.12, 2.6))
    note = sum(amp * np.exp(-decay * speed * t) * np.sin(2 * np.pi * freq * mult * t)
               for mult, amp, speed in partials)
    attack = int(0.012 * RATE)
    note[:attack] *= 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, attack))
    return note


def chime(notes: list[float], spacing: float, tail: float) -> np.ndarray:
    """Notes struck `spacing` seconds apart, each left ringing; the last rings for `tail` s."""
    total = spacing * (len(notes) - 1) + tail
    out = np.zeros(int(total * RATE))
    for i, freq in enumerate(notes):
        note = bell(freq, total - i * spacing, decay=1.6 if i == len(notes) - 1 else 2.4)
        start = int(i * spacing * RATE)
        out[start:start + len(note)] += note
    return out


def two_tone(high: float, low: float, tone: float, cycles: int) -> np.ndarray:
    """Alternating high/low tones (a "hi-lo" attention signal), each with 15 ms ramps."""
    n = int(tone * RATE)
    t = np.arange(n) / RATE
    ramp = int(0.015 * RATE)
    envelope = np.ones(n)
    envelope[:ramp] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
    envelope[-ramp:] = envelope[:ramp][::-1]
    gap = np.zeros(int(0.04 * RATE))
    pieces = []
    for _ in range(cycles):
        for freq in (high, low):
            # Fundamental plus a soft third harmonic: rounder than a sine, still penetrating.
            wave_ = np.sin(2 * np.pi * freq * t) + 0.25 * np.sin(2 * np.pi * 3 * freq * t)
            pieces += [wave_ * envelope, gap]
    return np.concatenate(pieces)


def finish(signal: np.ndarray, fade: float = 0.05) -> np.ndarray:
    """Fade the ends, scale to PEAK, pad 50 ms of silence, and quantize to int16."""
    n = int(fade * RATE)
    signal = signal.copy()
    signal[-n:] *= np.linspace(1.0, 0.0, n)
    signal *= PEAK / np.max(np.abs(signal))
    pad = np.zeros(int(0.05 * RATE))
    signal = np.concatenate([signal, pad])
    return np.round(signal * 32767).astype("<i2")


def jingles() -> dict[str, np.ndarray]:
    return {
        "intro": finish(chime([C5, E5, G5, C6], spacing=0.32, tail=2.2)),
        "outro": finish(chime([C6, G5, E5, C5], spacing=0.38, tail=2.0)),
        "alert": finish(two_tone(960.0, 720.0, tone=0.36, cycles=4)),
    }


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "audio" / "jingles"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, samples in jingles().items():
        path = out_dir / f"{name}.wav"
        write_wav(path, samples)
        print(f"{path}: {len(samples) / RATE:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
