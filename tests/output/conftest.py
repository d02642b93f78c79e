"""Programme WAVs for the output tests: deterministic, 48 kHz mono 16-bit like the programme stage's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from broadcaster.wav import write as write_wav

RATE = 48_000


def programme(seconds: float, seed: int = 1) -> np.ndarray:
    """A speech-like test signal: a few tones under noise, enveloped, as int16; never silent at the start."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    t = np.arange(frames) / RATE
    signal = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 1330 * t + 1.0)
    signal += 0.05 * rng.standard_normal(frames)
    signal *= 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2
    samples = np.round(np.clip(signal, -1, 1) * 32767).astype(np.int16)
    samples[0] = 1000    # a loud first sample: its arrival marks the start
    return samples


@pytest.fixture
def make_wav(tmp_path: Path):
    """make_wav(seconds, seed=1) -> (path, int16 samples) of a fresh programme WAV."""
    def make(seconds: float, seed: int = 1) -> tuple[Path, np.ndarray]:
        samples = programme(seconds, seed)
        path = tmp_path / f"programme-{seed}-{seconds}.wav"
        write_wav(path, samples, RATE)
        return path, samples
    return make
