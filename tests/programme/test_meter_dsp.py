"""The builder's own meter and limiter, checked against ffmpeg and brute force."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest

from broadcaster.errors import ProgrammeError
from broadcaster.programme import dsp, element, measure
from broadcaster.programme.element import _decode
from broadcaster.programme.meter import integrated

RATE = 48_000


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def syllables(seconds: float, level_db: float, seed: int) -> np.ndarray:
    """Speech-like noise: bursts of band-limited noise at about four syllables a second."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = np.convolve(rng.standard_normal(n), np.hanning(24) / 12, mode="same")
    t = np.arange(n) / RATE
    envelope = np.clip(np.sin(2 * np.pi * 3.7 * t + rng.uniform(0, 6)), 0, None) ** 1.5
    signal = noise * envelope
    return signal / np.sqrt(np.mean(signal ** 2)) * 10 ** (level_db / 20)


def test_measure_reads_ffmpeg_summary_for_a_calibrated_tone(tmp_path):
    # BS.1770 calibration: a 997 Hz sine at -20 dBFS peak reads -23.0 LUFS (3 dB under its peak).
    t = np.arange(5 * RATE) / RATE
    path = write_wav(tmp_path / "tone.wav", 0.1 * np.sin(2 * np.pi * 997 * t))
    metered = measure(path)
    assert metered.integrated == pytest.approx(-23.0, abs=0.1)
    assert metered.true_peak == pytest.approx(-20.0, abs=0.1)


def test_measure_reports_unreadable_files(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    with pytest.raises(ProgrammeError, match="bad.wav"):
        measure(bad)


SIGNALS = {
    "speech-like": lambda: syllables(20, -20, 1),
    "quiet-and-loud": lambda: np.concatenate([syllables(10, -35, 2), syllables(10, -15, 3)]),
    "with-silences": lambda: np.concatenate([syllables(4, -18, 4), np.zeros(3 * RATE),
                                             syllables(6, -25, 5), np.zeros(RATE)]),
    "low-tone-and-hiss": lambda: (0.3 * np.sin(2 * np.pi * 50 * np.arange(8 * RATE) / RATE)
                                  + syllables(8, -30, 6)),
}


@pytest.mark.parametrize("name", SIGNALS)
def test_gated_loudness_from_frame_energies_matches_ffmpeg(tmp_path, name):
    path = write_wav(tmp_path / f"{name}.wav", SIGNALS[name]())
    _, _, k_power = _decode(path, "flat", tmp_path / "scratch.f32")
    assert integrated(k_power) == pytest.approx(measure(path).integrated, abs=0.1)


def test_silence_has_no_loudness():
    assert integrated(np.zeros(500)) == -math.inf


def reference_true_peak(samples: np.ndarray) -> float:
    """8x oversampled peak by FFT zero-padding: slow, exact for periodic test signals."""
    spectrum = np.fft.rfft(samples)
    return float(np.abs(np.fft.irfft(spectrum, n=8 * len(samples))).max() * 8)


def test_true_peak_finds_intersample_overs():
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: samples at 0.707.
    n = np.arange(4800)
    samples = np.sin(np.pi / 2 * n + np.pi / 4).astype(np.float32)
    assert np.abs(samples).max() == pytest.approx(0.7071, abs=1e-3)
    assert dsp.true_peak(samples) == pytest.approx(reference_true_peak(samples), abs=0.02)


def test_sliding_min_matches_brute_force():
    values = np.random.default_rng(0).random(1000).astype(np.float32)
    width = 37
    expected = np.array([values[i:i + width].min() for i in range(len(values) - width + 1)])
    assert np.array_equal(dsp._sliding_min(values, width), expected)


def test_limiter_holds_true_peak_under_ceiling_without_touching_quiet_parts():
    signal = syllables(6, -14, 8).astype(np.float32)
    signal[RATE: RATE + 2000] += np.sin(np.pi / 2 * np.arange(2000) + np.pi / 4) * 1.5   # overs
    ceiling = dsp.db_to_gain(-1.25)
    margin = dsp.LIMITER_MARGIN
    gain, reported = dsp.limiter_gain(np.pad(signal, margin), ceiling)
    limited = signal * gain
    assert dsp.true_peak(signal) > 1.0
    assert reference_true_peak(limited) <= ceiling * 1.01
    assert reported == pytest.approx(reference_true_peak(limited), rel=0.02)
    assert gain.min() < 0.6
    # Far from any peak above the ceiling the gain is exactly one.
    quiet = np.abs(signal) < ceiling * 10 ** (-4 / 20)
    far = np.convolve(~quiet, np.ones(2 * margin + 1), mode="same") == 0
    assert far.any() and np.all(gain[far] == 1.0)


def test_limiter_leaves_quiet_audio_alone():
    quiet = syllables(3, -30, 9).astype(np.float32)
    assert dsp.limiter_gain(np.pad(quiet, dsp.LIMITER_MARGIN), dsp.db_to_gain(-1.25)) == (None, 0.0)


def test_compressor_reduces_only_loud_frames():
    power = np.array([1e-4] * 50 + [1.0] * 50 + [1e-4] * 50)   # -40 dB, 0 dB, -40 dB
    gains = dsp.compressor_gains(power, threshold_db=-20.0, ratio=2.5)
    db = 20 * np.log10(gains)
    assert db[:20] == pytest.approx(0.0, abs=1e-6)
    assert db[60:90] == pytest.approx(-20 * (1 - 1 / 2.5), abs=0.01)
    assert db[-20:] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.abs(np.diff(db)) < 2.0)                  # moves smoothly, never a jump


def test_limiter_loss_is_probed_so_one_full_render_lands_on_the_level(tmp_path, monkeypatch):
    # Loud speech-like noise loses ~0.2 LU in the limiter. A dry probe on every fourth block
    # measures that loss first, so the render that writes the audio runs only once.
    path = write_wav(tmp_path / "loud.wav", syllables(30, -14, 4))
    decoded = element.decode(path, tmp_path / "loud.f32", target=-14.7, voicing="flat")
    assert element._limiter_loss(decoded, decoded.gains) > 0.1
    writes = []
    render = element._render
    monkeypatch.setattr(element, "_render",
                        lambda scratch, out, *args, **kw: writes.append(out is not None)
                        or render(scratch, out, *args, **kw))
    with open(tmp_path / "out.raw", "wb+") as out:
        out.truncate(2 * decoded.samples)
        aired = element.render(decoded, out.fileno(), [0])
    assert writes == [False, True]
    assert aired.loudness == pytest.approx(-14.7, abs=element.LEVEL_TOLERANCE_LU)
    assert aired.true_peak <= dsp.db_to_gain(element.LIMITER_CEILING_DBTP) * 1.01
