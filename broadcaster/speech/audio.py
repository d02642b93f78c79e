"""The speech stage's one audio format: 24 kHz mono 16-bit WAV, and the tools to reach and check it.

In: whatever an engine wrote (gTTS MP3, eSpeak NG 22.05 kHz WAV). Out: WAV files in the one
format the programme stage reads, written by the `wave` module so the header is always the plain
44 bytes and a truncated file is recognisable from its size alone (a cache hit is a stat, not a
decode).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from broadcaster import i18n, wav
from broadcaster.errors import SpeechError
from broadcaster.speech import messages as _messages  # noqa: F401

log = logging.getLogger(__name__)

RATE = 24_000
FORMAT_ID = f"wav-{RATE}-mono-s16"      # part of every cache key: changing the format re-renders
FFMPEG_TIMEOUT = 120.0
# Edges quieter than this (about -50 dBFS) are trimmed so the pauses we add are the pauses heard.
_SILENCE_LEVEL = 100
_EDGE_KEEP = int(0.03 * RATE)


def decode_to_pcm(source: Path, engine: str) -> np.ndarray:
    """Decode any audio file to mono int16 samples at `RATE`; SpeechError if it won't decode.

    16-bit PCM WAV (eSpeak NG's output) is read here, sparing an ffmpeg process per sentence
    (half the cold render time); anything else goes through ffmpeg.
    """
    samples = _read_pcm_wav(source)
    if samples is None:
        samples = _ffmpeg_decode(source, engine)
    if samples.size == 0 or not samples.any():
        raise SpeechError(i18n.tr("speech.audio.invalid", engine=engine, error="silence only"))
    return samples


def _read_pcm_wav(source: Path) -> np.ndarray | None:
    """Mono int16 samples at `RATE` from a complete 16-bit PCM WAV, or None for anything else."""
    try:
        with wave.open(str(source), "rb") as reader:
            channels, width, rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
            frames = reader.getnframes()
            data = reader.readframes(frames)
    except (OSError, EOFError, wave.Error):
        return None
    if width != wav.WIDTH or frames == 0 or len(data) != frames * channels * wav.WIDTH:
        return None
    samples = np.frombuffer(data, dtype="<i2").reshape(-1, channels).mean(axis=1)
    if rate != RATE:
        samples = resample(samples, rate, RATE)
    return np.clip(np.round(samples), -32768, 32767).astype("<i2")


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling by zero-padding (or cutting) the spectrum: exact for short pieces."""
    count = int(round(samples.size * target / rate))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    bins = count // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, dtype=spectrum.dtype)])
    return np.fft.irfft(spectrum, n=count) * (count / samples.size)


def _ffmpeg_decode(source: Path, engine: str) -> np.ndarray:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SpeechError(i18n.tr("speech.ffmpeg.missing"))
    command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(source),
               "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SpeechError(i18n.tr("speech.audio.invalid", engine=engine, error="ffmpeg timeout")) from exc
    error = result.stderr.decode("utf-8", "replace").strip().splitlines()
    if result.returncode != 0 or len(result.stdout) < wav.WIDTH:
        detail = error[-1] if error else f"{len(result.stdout)} bytes decoded"
        raise SpeechError(i18n.tr("speech.audio.invalid", engine=engine, error=detail))
    return np.frombuffer(result.stdout[: len(result.stdout) // 2 * 2], dtype="<i2")


def trim_silence(samples: np.ndarray) -> np.ndarray:
    """Drop quiet lead-in and tail (keeping 30 ms) so joined pieces pause for the time we chose."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_LEVEL)
    if loud.size == 0:
        return samples
    start = max(0, loud[0] - _EDGE_KEEP)
    end = min(samples.size, loud[-1] + 1 + _EDGE_KEEP)
    return samples[start:end]


def is_valid_wav(path: Path) -> bool:
    """Whether `path` is a complete, non-empty standard WAV: header parses, size matches it.

    Catches 0-byte files, truncated files, foreign formats and garbage without decoding audio.
    """
    try:
        size = os.stat(path).st_size
        if size <= wav.HEADER_BYTES:
            return False
        with wave.open(str(path), "rb") as source:
            frames = source.getnframes()
            shape = (source.getnchannels(), source.getsampwidth(), source.getframerate())
    except (OSError, EOFError, wave.Error):
        return False
    return (frames > 0 and shape == (1, wav.WIDTH, RATE)
            and size == wav.HEADER_BYTES + frames * wav.WIDTH)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)), dtype="<i2")
