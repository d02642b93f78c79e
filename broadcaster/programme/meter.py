"""Loudness metering for the programme stage (ITU-R BS.1770 / EBU R128).

Two meters live here:
- `measure(path)` runs ffmpeg's `ebur128` filter on a finished file: an independent meter that the
  tests and `broadcaster render` trust. In: an audio file. Out: `Loudness` (integrated LUFS, true
  peak dBTP).
- `integrated(frames)` applies the BS.1770 gating to K-weighted mean-square energies of 10 ms
  frames. The builder carries those energies alongside the audio it assembles, so it knows the
  programme's loudness without a second pass over the hour. Tests check it against `measure`.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcaster import i18n
from broadcaster.errors import ProgrammeError

RATE = 48_000
FRAME = 480                 # 10 ms at 48 kHz: the unit of every energy the builder keeps
FRAMES_PER_BLOCK = 40       # 400 ms gating block
FRAMES_PER_HOP = 10         # 75 % overlap

# BS.1770-4 K-weighting at 48 kHz: the "head" high shelf, then the RLB high-pass.
K_SHELF = ((1.53512485958697, -2.69169618940638, 1.19839281085285),
           (1.0, -1.69065929318241, 0.73248077421585))
K_HIGHPASS = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))

i18n.register({
    "programme.meter_failed": (
        "Không đo được độ lớn âm thanh của {path}: {detail}",
        "Could not measure the loudness of {path}: {detail}",
    ),
    "programme.ffmpeg_missing": (
        "Không tìm thấy ffmpeg. Cài đặt gói ffmpeg (apt install ffmpeg) rồi thử lại.",
        "ffmpeg was not found. Install the ffmpeg package (apt install ffmpeg) and try again.",
    ),
})


@dataclass(frozen=True)
class Loudness:
    integrated: float       # LUFS; -inf for silence
    true_peak: float        # dBTP; -inf for silence


def ffmpeg_biquad(coefficients: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    """The ffmpeg `biquad` filter string for ((b0, b1, b2), (a0, a1, a2))."""
    (b0, b1, b2), (a0, a1, a2) = coefficients
    return f"biquad=b0={b0!r}:b1={b1!r}:b2={b2!r}:a0={a0!r}:a1={a1!r}:a2={a2!r}"


K_WEIGHTING_FILTER = ffmpeg_biquad(K_SHELF) + "," + ffmpeg_biquad(K_HIGHPASS)

_SUMMARY_VALUE = re.compile(r"^\s*(I|Peak):\s+(-?inf|-?\d+(?:\.\d+)?)\s+(LUFS|dBFS)", re.MULTILINE)


def measure(path: Path) -> Loudness:
    """Meter `path` with ffmpeg's ebur128 filter (integrated loudness and 4x true peak)."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
               "-af", "ebur128=peak=true", "-f", "null", "-"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ProgrammeError(i18n.tr("programme.ffmpeg_missing")) from exc
    summary = result.stderr.rpartition("Summary:")[2]
    if result.returncode != 0 or not summary:
        detail = (result.stderr.strip().splitlines() or ["?"])[-1]
        raise ProgrammeError(i18n.tr("programme.meter_failed", path=path, detail=detail))
    values = {key: float(value) for key, value, _ in _SUMMARY_VALUE.findall(summary)}
    if "I" not in values or "Peak" not in values:
        raise ProgrammeError(i18n.tr("programme.meter_failed", path=path, detail=summary.strip()))
    return Loudness(integrated=values["I"], true_peak=values["Peak"])


def integrated(frames: np.ndarray) -> float:
    """BS.1770 gated integrated loudness (LUFS) from K-weighted mean squares of 10 ms frames.

    Blocks of 400 ms every 100 ms; absolute gate -70 LUFS, then relative gate 10 LU below the
    mean of the blocks that passed. Returns -inf when nothing passes (silence).
    """
    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) < FRAMES_PER_BLOCK:
        return -math.inf
    cumulative = np.concatenate([[0.0], np.cumsum(frames)])
    starts = np.arange(0, len(frames) - FRAMES_PER_BLOCK + 1, FRAMES_PER_HOP)
    blocks = (cumulative[starts + FRAMES_PER_BLOCK] - cumulative[starts]) / FRAMES_PER_BLOCK
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(blocks)
    passed = blocks[levels > -70.0]
    if len(passed) == 0:
        return -math.inf
    relative_gate = -0.691 + 10 * math.log10(passed.mean()) - 10.0
    with np.errstate(divide="ignore"):
        passed = passed[-0.691 + 10 * np.log10(passed) > relative_gate]
    return -0.691 + 10 * math.log10(passed.mean())


def short_term(frames: np.ndarray) -> float:
    """Loudness of a clip of any length: gated when it spans a block, else plain mean energy.

    A spoken "Xin nhắc lại" can be shorter than one 400 ms gating block; it still has to be
    levelled like everything else.
    """
    loudness = integrated(frames)
    if math.isfinite(loudness) or len(frames) == 0:
        return loudness
    mean = float(np.mean(frames))
    return -0.691 + 10 * math.log10(mean) if mean > 0 else -math.inf
