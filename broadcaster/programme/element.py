"""One programme element (a jingle, a reading, a recording, a tone) made ready to air.

Where it sits: the builder asks for each distinct audio file once; repeats reuse the result.
In: any file ffmpeg decodes, the voicing and the loudness target. Out: the element as 16-bit
48 kHz PCM, voiced, levelled to the target, limited under the true-peak ceiling and faded at both
ends, written straight into the programme file at each place it airs; and an `Element` holding
its K-weighted 10 ms frame energies and true peak.

Two streaming passes keep memory flat however long the file is:
1. ffmpeg decodes, resamples to 48 kHz mono, applies the horn high-pass, and emits a second
   channel holding the same audio K-weighted (BS.1770). Python stores channel 0 as float32 in a
   scratch file and keeps only the 10 ms energies of both channels.
2. From those energies alone: the compressor's gains, the gain to the loudness target. Then the
   scratch file is read block by block, gained, limited, faded and written as PCM. The limiter's
   effect on the energies is tracked, and the make-up gain corrected if it cost loudness (first
   estimated by a dry run over a quarter of the blocks, so a second full render is rare).
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcaster import i18n
from broadcaster.childerr import StderrTail
from broadcaster.constants import HORN, HORN_HIGHPASS_HZ
from broadcaster.errors import ProgrammeError
from broadcaster.programme import dsp
from broadcaster.programme.meter import FRAME, K_WEIGHTING_FILTER, RATE
from broadcaster.programme.meter import short_term as integrated

log = logging.getLogger(__name__)

BLOCK_FRAMES = 256                  # 2.56 s blocks: big enough for numpy, small for memory
HORN_THRESHOLD_BELOW_TARGET = 6.0   # dB: compression starts this far under the target
HORN_RATIO = 2.5
FADE_SECONDS = 0.010                # at every join, so nothing clicks
CEILING_DBTP = -1.0                 # EBU R128 true-peak ceiling for the programme
LIMITER_CEILING_DBTP = CEILING_DBTP - 0.25   # margin: 4x interpolation differs between meters
LEVEL_TOLERANCE_LU = 0.2
PROBE_STRIDE = 4                    # blocks: a quarter of an element predicts its limiter loss

i18n.register({
    "programme.decode_failed": (
        "Không đọc được tệp âm thanh {path}: {detail}",
        "Could not decode the audio file {path}: {detail}",
    ),
    "programme.audio_missing": (
        "Không tìm thấy tệp âm thanh {path}.",
        "The audio file {path} does not exist.",
    ),
    "programme.silent": (
        "Tệp âm thanh {path} im lặng hoặc quá ngắn; không thể phát.",
        "The audio file {path} is silent or too short to air.",
    ),
})


@dataclass(frozen=True)
class Element:
    samples: int                    # always a whole number of 10 ms frames
    frame_energy: np.ndarray        # K-weighted mean square per 10 ms frame, as aired
    true_peak: float                # linear
    loudness: float                 # LUFS after levelling and limiting

    @property
    def duration(self) -> float:
        return self.samples / RATE


def _decode_command(source: Path, voicing: str) -> list[str]:
    voice = [f"highpass=f={HORN_HIGHPASS_HZ}:poles=2"] * 2 if voicing == HORN else []
    chain = ",".join(["aresample=48000", "aformat=sample_fmts=flt:channel_layouts=mono", *voice])
    # Filters may pick double precision; amerge needs both branches in one format.
    flt = "aformat=sample_fmts=flt:channel_layouts=mono"
    graph = (f"[0:a]{chain},asplit[voiced][meter];[voiced]{flt}[air];"
             f"[meter]{K_WEIGHTING_FILTER},{flt}[k];[air][k]amerge=inputs=2[out]")
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(source),
            "-filter_complex", graph, "-map", "[out]", "-f", "f32le", "-ar", str(RATE), "pipe:1"]


def _frame_power(channel: np.ndarray) -> np.ndarray:
    """Mean square of each 10 ms frame of a contiguous float32 channel."""
    framed = channel.reshape(-1, FRAME)
    return np.einsum("fs,fs->f", framed, framed) / FRAME


def _decode(source: Path, voicing: str, scratch: Path) -> tuple[int, np.ndarray, np.ndarray]:
    """Pass 1: decode `source` into `scratch` (float32); return samples and frame energies."""
    # ffmpeg's output is read straight into one reused buffer, and each channel is made
    # contiguous once: per-channel sums are several times faster than a strided einsum.
    buffer = np.empty((BLOCK_FRAMES * FRAME, 2), dtype=np.float32)
    view = memoryview(buffer).cast("B")
    air_power: list[np.ndarray] = []
    k_power: list[np.ndarray] = []
    samples = 0
    try:
        process = subprocess.Popen(_decode_command(source, voicing), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise ProgrammeError(i18n.tr("programme.ffmpeg_missing")) from exc
    errors = StderrTail(process.stderr, name="decode-stderr")     # unread, it would stop the decoding
    try:
        with open(scratch, "wb") as out:
            while read := process.stdout.readinto(view):
                pairs = buffer[:read // 8]
                tail = (-len(pairs)) % FRAME
                if tail:        # only the last block can be ragged: pad to whole frames
                    pairs = np.concatenate([pairs, np.zeros((tail, 2), np.float32)])
                air = np.ascontiguousarray(pairs[:, 0])
                air.tofile(out)
                air_power.append(_frame_power(air))
                k_power.append(_frame_power(np.ascontiguousarray(pairs[:, 1])))
                samples += len(air)
    finally:
        process.stdout.close()
        returncode = process.wait()
        detail = errors.last_line()
        process.stderr.close()
    if returncode != 0:
        detail = detail or f"ffmpeg exit {returncode}"
        raise ProgrammeError(i18n.tr("programme.decode_failed", path=source, detail=detail))
    if not air_power:
        return 0, np.zeros(0), np.zeros(0)
    return samples, np.concatenate(air_power), np.concatenate(k_power).astype(np.float64)


@dataclass(frozen=True)
class Decoded:
    """An element after pass 1: voiced audio in a scratch file, gains that level it to target."""

    source: Path
    scratch: Path                   # float32 48 kHz mono, voiced, not yet levelled
    samples: int
    k_power: np.ndarray             # K-weighted mean square per 10 ms frame, before gains
    gains: np.ndarray               # per-frame linear gain: compressor and level to target

    def energy(self, offset_db: float = 0.0) -> np.ndarray:
        """Predicted K-weighted frame energies once gained (and shifted by `offset_db`)."""
        return self.k_power * (self.gains.astype(np.float64) * dsp.db_to_gain(offset_db)) ** 2


def decode(source: Path, scratch: Path, *, target: float, voicing: str) -> Decoded:
    """Pass 1: decode and voice `source`, and work out the gains that bring it to `target`.

    Raises ProgrammeError when the file is missing, cannot be decoded, or holds only silence.
    """
    if not source.is_file():
        raise ProgrammeError(i18n.tr("programme.audio_missing", path=source))
    samples, air_power, k_power = _decode(source, voicing, scratch)
    loudness = integrated(k_power)
    if not math.isfinite(loudness):
        scratch.unlink(missing_ok=True)
        raise ProgrammeError(i18n.tr("programme.silent", path=source))
    gains = np.full(len(air_power), dsp.db_to_gain(target - loudness), dtype=np.float32)
    if voicing == HORN:
        gains = gains * dsp.compressor_gains(air_power * gains ** 2,
                                             target - HORN_THRESHOLD_BELOW_TARGET, HORN_RATIO)
        gains *= np.float32(dsp.db_to_gain(
            target - integrated(k_power * gains.astype(np.float64) ** 2)))
    return Decoded(source=source, scratch=scratch, samples=samples, k_power=k_power, gains=gains)


def render(decoded: Decoded, out: int, positions: Sequence[int], *,
           offset_db: float = 0.0) -> Element:
    """Pass 2: gain (shifted by `offset_db`), limit and fade `decoded` as 16-bit PCM into the
    open file descriptor `out`, at each byte offset in `positions` (one per time it airs).

    A peaky element (a chime) can lose loudness in the limiter; it is then pushed up and
    rendered again, so jingles never end up quieter than the voice. The loss is first
    estimated on a sample of blocks, so a loud reading usually needs a single full render.
    """
    gains = decoded.gains * np.float32(dsp.db_to_gain(offset_db))
    wanted = integrated(decoded.energy(offset_db))
    gains = gains * np.float32(dsp.db_to_gain(_limiter_loss(decoded, gains)))
    for attempt in range(3):
        energy, peak = _render(decoded.scratch, out, positions, decoded.samples, gains,
                               decoded.k_power)
        achieved = integrated(energy)
        if abs(achieved - wanted) <= LEVEL_TOLERANCE_LU:
            break
        log.debug("%s: %.2f LUFS after limiting, wanted %.2f (attempt %s)", decoded.source,
                  achieved, wanted, attempt + 1)
        gains = gains * np.float32(dsp.db_to_gain(wanted - achieved))
    return Element(samples=decoded.samples, frame_energy=energy, true_peak=peak,
                   loudness=achieved)


def _limiter_loss(decoded: Decoded, gains: np.ndarray) -> float:
    """Loudness (LU) the limiter takes off at `gains`, measured without writing on every
    `PROBE_STRIDE`-th block; 0.0 when those blocks are silent."""
    energy, _ = _render(decoded.scratch, None, (), decoded.samples, gains, decoded.k_power,
                        stride=PROBE_STRIDE)
    probed = ~np.isnan(energy)
    loss = (integrated(decoded.k_power[probed] * gains[probed].astype(np.float64) ** 2)
            - integrated(energy[probed]))
    return loss if math.isfinite(loss) else 0.0


def _render(scratch: Path, out: int | None, positions: Sequence[int], samples: int,
            frame_gains: np.ndarray, k_power: np.ndarray,
            stride: int = 1) -> tuple[np.ndarray, float]:
    """Pass 2: gain, limit and fade the scratch audio into `out`; return energies and peak.

    With `out` None nothing is written; with `stride` > 1 only every stride-th block is
    processed, and the energies of the others are NaN.
    """
    ceiling = dsp.db_to_gain(LIMITER_CEILING_DBTP)
    margin = dsp.LIMITER_MARGIN
    block = BLOCK_FRAMES * FRAME
    fade = dsp.fade_curve(int(FADE_SECONDS * RATE))
    energy = np.full(len(frame_gains), np.nan)
    peak = 0.0
    with open(scratch, "rb") as audio:
        for start in range(0, samples, block * stride):
            stop = min(start + block, samples)
            lo, hi = max(start - margin, 0), min(stop + margin, samples)
            context = np.zeros(stop - start + 2 * margin, dtype=np.float32)
            offset = margin - (start - lo)
            audio.seek(lo * 4)
            audio.readinto(memoryview(context[offset:offset + hi - lo]).cast("B"))
            first = (start - margin) // FRAME
            frames = -(-(len(context) + (start - margin) - first * FRAME) // FRAME)
            ramp = dsp.frame_gain_ramp(frame_gains, first, frames)
            skip = (start - margin) - first * FRAME
            context *= ramp[skip:skip + len(context)]
            core = context[margin:margin + stop - start]
            gain, block_peak = dsp.limiter_gain(context, ceiling)
            frames_here = slice(start // FRAME, stop // FRAME)
            energy[frames_here] = (k_power[frames_here]
                                   * frame_gains[frames_here].astype(np.float64) ** 2)
            if gain is not None or start == 0 or stop == samples:
                before = _frame_power(core)
                if gain is not None:
                    core *= gain
                if start == 0:
                    core[:len(fade)] *= fade
                if stop == samples:
                    core[len(core) - len(fade):] *= fade[::-1]
                after = _frame_power(core)
                # The K-weighted energy follows the gain the audio received, frame by frame.
                energy[frames_here] *= np.divide(after, before, out=np.zeros_like(after),
                                                 where=before > 0)
            if out is None:
                continue
            if not block_peak and float(np.abs(core).max(initial=0.0)) > peak:
                # Nothing came near the ceiling, but this may still be the loudest block.
                block_peak = dsp.true_peak(context, margin)
            peak = max(peak, block_peak)
            core *= 32767.0
            np.rint(core, out=core)
            np.clip(core, -32768, 32767, out=core)
            pcm = core.astype("<i2")
            for position in positions:
                os.pwrite(out, pcm, position + 2 * start)
    return energy, peak
