"""Signal processing for the programme stage, block-wise with numpy float32.

In: 48 kHz mono float32 blocks (with margins where a look-ahead needs context). Out: gains,
limited blocks, true-peak estimates. Everything here is offline, so "look-ahead" simply means
reading a few milliseconds past the block; results do not depend on where blocks are cut.
"""

from __future__ import annotations

import math

import numpy as np

from broadcaster.programme.meter import FRAME

# 4x oversampling for true peak: windowed-sinc taps for the fractional offsets 1/4, 2/4, 3/4.
_TAPS_PER_SIDE = 16
_OFFSETS = np.array([0.25, 0.5, 0.75])
_k = np.arange(-_TAPS_PER_SIDE + 1, _TAPS_PER_SIDE + 1)            # sample offsets -15..16
_x = _OFFSETS[:, None] - _k[None, :]                               # distance to each tap
_INTERP = (np.sinc(_x) * np.kaiser(2 * _TAPS_PER_SIDE, 8.0)[None, :]
           ).astype(np.float32)                                    # (3, 32)
_INTERP /= _INTERP.sum(axis=1, keepdims=True)
# Both intervals beside a sample, (i-1, i) and (i, i+1), from one 33-sample window [i-16, i+16]:
# one gather and one product per block instead of two.
_BOTH_SIDES = np.zeros((2 * _TAPS_PER_SIDE + 1, 6), dtype=np.float32)
_BOTH_SIDES[:-1, :3] = _INTERP.T
_BOTH_SIDES[1:, 3:] = _INTERP.T
_WINDOW = np.arange(-_TAPS_PER_SIDE, _TAPS_PER_SIDE + 1)
TRUE_PEAK_MARGIN = _TAPS_PER_SIDE + 1   # samples of context the interpolation needs each side

# The limiter's gain moves in steps of 16 samples (1/3 ms): fine enough to be inaudible, and it
# keeps the look-ahead arithmetic on 1/16 of the samples.
LIMITER_STEP = 16
LIMITER_HALF_WINDOW = 15                # steps: 5 ms, so the gain ramps over ~10 ms per peak
LIMITER_MARGIN = 34 * LIMITER_STEP      # >= 2 half windows + one step + TRUE_PEAK_MARGIN


def db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)


def _local_peaks(magnitude: np.ndarray, threshold: float) -> np.ndarray:
    """Indices (away from the edges) of local maxima of `magnitude` above `threshold`.

    Few samples pass the threshold, so it is applied first and neighbours compared only there.
    """
    inner = magnitude[TRUE_PEAK_MARGIN:len(magnitude) - TRUE_PEAK_MARGIN]
    hits = np.flatnonzero(inner > threshold) + TRUE_PEAK_MARGIN
    values = magnitude[hits]
    return hits[(values >= magnitude[hits - 1]) & (values >= magnitude[hits + 1])]


def intersample_peaks(block: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Largest 4x-oversampled magnitude within one sample either side of each index."""
    if indices.size == 0:
        return np.empty(0, dtype=np.float32)
    window = block[indices[:, None] + _WINDOW[None, :]]            # (K, 33)
    values = np.abs(window @ _BOTH_SIDES).max(axis=1)              # (K, 6) -> (K,)
    return np.maximum(np.abs(block[indices]), values)


def true_peak(block: np.ndarray, margin: int = 0) -> float:
    """Linear true peak of `block[margin:len-margin]` (context outside is only read)."""
    magnitude = np.abs(block)
    core = magnitude[margin:len(magnitude) - margin]
    if core.size == 0:
        return 0.0
    sample_peak = float(core.max())
    if sample_peak == 0.0:
        return 0.0
    # Inter-sample peaks sit next to the largest samples: interpolate only around those.
    padded = np.pad(block, TRUE_PEAK_MARGIN) if margin < TRUE_PEAK_MARGIN else block
    offset = TRUE_PEAK_MARGIN if margin < TRUE_PEAK_MARGIN else 0
    peaks = _local_peaks(np.abs(padded), sample_peak * db_to_gain(-3.0))
    lo, hi = margin + offset, len(block) - margin + offset
    peaks = peaks[(peaks >= lo) & (peaks < hi)]
    return max(sample_peak, float(intersample_peaks(padded, peaks).max(initial=0.0)))


def _sliding_min(values: np.ndarray, width: int) -> np.ndarray:
    """min(values[i:i+width]) for every full window, by doubling spans (O(n log width)).

    A handful of whole-array minimums: on blocks of a few thousand values this beats the
    O(n) van Herk scheme, whose row-wise accumulations cost more in numpy than they save.
    """
    if len(values) < width:
        return values[:0]
    result, span = values, 1                 # result[i] = min(values[i:i+span])
    while 2 * span <= width:
        result = np.minimum(result[:-span], result[span:])
        span *= 2
    count = len(values) - width + 1
    if span < width:
        result = np.minimum(result[:count], result[width - span:width - span + count])
    return result


def limiter_gain(block: np.ndarray, ceiling: float) -> tuple[np.ndarray | None, float]:
    """Gain for `block[LIMITER_MARGIN:-LIMITER_MARGIN]` that keeps its true peak under `ceiling`.

    Look-ahead peak limiter on 4x-oversampled peaks: each peak's required gain is held for
    +-5 ms (sliding minimum) and then averaged over the same span, so the gain is already down
    when the peak arrives and comes back up smoothly, without clicks or overshoot.
    Returns (gain, or None when no gain is needed; the core's true peak after the gain, or 0.0
    when no peak came within 4 dB of the ceiling and the caller must measure it itself).
    """
    core_len = len(block) - 2 * LIMITER_MARGIN
    magnitude = np.abs(block)
    candidates = _local_peaks(magnitude, ceiling * db_to_gain(-4.0))
    candidates = candidates[(candidates >= LIMITER_MARGIN) & (candidates < LIMITER_MARGIN + core_len)
                            | (magnitude[candidates] > ceiling)]
    if candidates.size == 0:
        return None, 0.0
    peaks = intersample_peaks(block, candidates)
    over = peaks > ceiling
    in_core = (candidates >= LIMITER_MARGIN) & (candidates < LIMITER_MARGIN + core_len)
    if not over.any():
        return None, float(peaks[in_core].max(initial=0.0))
    # Required gain per 16-sample step, then held for +-5 ms and averaged over the same span:
    # at a peak's step every value averaged is at most its requirement, so the peak fits.
    # Both stages pad with unity gain; the arrays are laid out padded from the start.
    half = LIMITER_HALF_WINDOW
    width = 2 * half + 1
    steps = len(block) // LIMITER_STEP
    required = np.ones(steps + 2 * half, dtype=np.float64)
    np.minimum.at(required, candidates[over] // LIMITER_STEP + half, ceiling / peaks[over])
    held = np.ones(1 + steps + 2 * half, dtype=np.float64)    # [0] | ones | held | ones
    held[0] = 0.0
    held[1 + half:1 + half + steps] = _sliding_min(required, width)
    cumulative = np.cumsum(held)
    first, count = LIMITER_MARGIN // LIMITER_STEP, core_len // LIMITER_STEP
    smoothed = (cumulative[first + width:first + width + count]
                - cumulative[first:first + count]) / width
    gain = np.repeat(smoothed.astype(np.float32), LIMITER_STEP)
    core = candidates[in_core]
    after = peaks[in_core] * gain[core - LIMITER_MARGIN]
    return gain, float(after.max(initial=0.0))


def compressor_gains(frame_power: np.ndarray, threshold_db: float, ratio: float,
                     window_frames: int = 15) -> np.ndarray:
    """Per-frame linear gains of a gentle RMS compressor (offline, so it may look ahead).

    Frame levels above `threshold_db` (dBFS RMS over 30 ms) are reduced by `1 - 1/ratio` of
    their excess; the reduction is held and averaged over `window_frames` (150 ms) so the gain
    moves slowly, the way a broadcast compressor with ~150 ms release sounds.
    """
    if len(frame_power) == 0:
        return np.ones(0, dtype=np.float32)
    smoothed_power = np.convolve(frame_power, np.ones(3) / 3, mode="same")
    with np.errstate(divide="ignore"):
        level = 10 * np.log10(np.maximum(smoothed_power, 1e-12))
    reduction = np.maximum(level - threshold_db, 0.0) * (1.0 - 1.0 / ratio)
    half = window_frames // 2
    padded = np.pad(reduction, half, mode="edge")
    held = -_sliding_min(-padded, window_frames)
    padded = np.pad(held, half, mode="edge")
    averaged = np.convolve(padded, np.ones(window_frames) / window_frames, mode="valid")
    return (10.0 ** (-averaged / 20.0)).astype(np.float32)


_FRAME_RAMP = np.arange(FRAME, dtype=np.float32) / FRAME


def frame_gain_ramp(frame_gains: np.ndarray, first_frame: int, frame_count: int) -> np.ndarray:
    """Per-sample gains for frames [first_frame, first_frame + frame_count), linearly ramped.

    Each frame ramps from its own gain to the next frame's, so the gain has no 10 ms steps.
    Frames outside the element keep the nearest edge gain.
    """
    last = len(frame_gains) - 1
    index = np.clip(np.arange(first_frame, first_frame + frame_count), 0, last)
    start = frame_gains[index]
    ramp = np.multiply.outer(frame_gains[np.minimum(index + 1, last)] - start, _FRAME_RAMP)
    ramp += start[:, None]
    return ramp.ravel()


def fade_curve(samples: int) -> np.ndarray:
    """Raised-cosine fade-in of `samples` length (reverse it to fade out)."""
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, samples))).astype(np.float32)
