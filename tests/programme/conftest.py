"""Fixtures of the programme tests: schedules built from the model, the shared FakeSpeaker, and
helpers that read rendered WAVs back and find what is in them.

The meter the tests trust is ffmpeg's ebur128 (`broadcaster.programme.measure`), never the
builder's own arithmetic.
"""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from broadcaster.schedule.model import Bulletin, ProgrammeSettings, Schedule, Slot, Station
from tests.fakes.speech import FakeSpeaker

ROOT = Path(__file__).resolve().parents[2]
JINGLES = {name: ROOT / "audio" / "jingles" / f"{name}.wav" for name in ("intro", "outro", "alert")}
RATE = 48_000


def make_schedule(folder: Path, bulletins: list[Bulletin], *, jingles: dict[str, Path] | None = None,
                  **station_fields) -> Schedule:
    station = Station(name="Test", timezone=ZoneInfo("Asia/Ho_Chi_Minh"), state_dir=folder / "var",
                      jingles=dict(JINGLES if jingles is None else jingles), **station_fields)
    slot = Slot(name="Bản tin sáng", at=(), play=tuple(b.id for b in bulletins))
    return Schedule(path=folder / "schedule.yaml", station=station,
                    bulletins={b.id: b for b in bulletins}, slots=(slot,))


@pytest.fixture
def speaker(tmp_path) -> FakeSpeaker:
    # 40 ms per character: a 60-character text reads for 2.4 s.
    return FakeSpeaker(tmp_path / "speech", seconds_per_char=0.04)


@pytest.fixture
def settings() -> ProgrammeSettings:
    return ProgrammeSettings()


def read_wav(path: Path) -> tuple[np.ndarray, wave._wave_params]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        data = np.frombuffer(wav.readframes(params.nframes), dtype="<i2")
    return data.astype(np.float32) / 32768.0, params


def runs(samples: np.ndarray, min_gap: float = 0.25) -> list[tuple[float, float]]:
    """(start, end) seconds of the sounding stretches, split at silences of `min_gap` or more."""
    frame = RATE // 100
    usable = len(samples) - len(samples) % frame
    rms = np.sqrt(np.mean(np.square(samples[:usable].reshape(-1, frame)), axis=1))
    loud = rms > 10 ** (-50 / 20)
    found: list[list[int]] = []
    for index in np.flatnonzero(loud):
        if found and index - found[-1][1] <= min_gap * 100:
            found[-1][1] = index + 1
        else:
            found.append([index, index + 1])
    return [(start / 100, end / 100) for start, end in found]


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Similarity of two sounds' spectrograms (1.0 = same notes in the same order).

    Magnitudes only: the horn high-pass shifts phases, which would defeat a waveform match.
    """
    n = min(len(a), len(b))
    window = np.hanning(2048)

    def spectrogram(x: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(x[:n], 2048)[::1024]
        return np.log10(np.abs(np.fft.rfft(frames * window, axis=1))[:, :400] + 1e-3).ravel()

    return float(np.corrcoef(spectrogram(a), spectrogram(b))[0, 1])


def replace(bulletin: Bulletin, **changes) -> Bulletin:
    return dataclasses.replace(bulletin, **changes)
