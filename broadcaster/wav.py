"""WAV files, read and written in one place: 16-bit PCM, any rate and channel count.

Speech clips (24 kHz), programmes (48 kHz) and what a file output airs are all 16-bit PCM WAV;
the speech, programme and output stages read and write them through this module. Errors are
the standard library's (`OSError`, `EOFError`, `wave.Error`; a width other than 16-bit is a
`wave.Error` too): each stage turns them into its own error with a message for the operator.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np

WIDTH = 2                   # bytes per sample: 16-bit PCM
HEADER_BYTES = 44           # the canonical RIFF/WAVE header this module writes


class Reader:
    """A WAV opened for reading a block at a time, as int16 of shape (frames, channels)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._wav = wave.open(str(path), "rb")
        if self._wav.getsampwidth() != WIDTH:
            bits = 8 * self._wav.getsampwidth()
            self._wav.close()
            raise wave.Error(f"{bits}-bit, expected 16-bit")
        self.channels = self._wav.getnchannels()
        self.rate = self._wav.getframerate()
        self.frames = self._wav.getnframes()      # as the header says; a truncated file ends sooner

    def seek(self, frame: int) -> None:
        self._wav.setpos(frame)

    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` frames; empty at the end of the data (a torn last frame is dropped)."""
        raw = self._wav.readframes(frames)
        usable = len(raw) - len(raw) % (WIDTH * self.channels)
        return np.frombuffer(raw[:usable], dtype="<i2").reshape(-1, self.channels)

    def close(self) -> None:
        self._wav.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Writer:
    """A WAV written a block at a time (the header is completed on `close()`)."""

    def __init__(self, path: Path, rate: int, channels: int = 1) -> None:
        self.path = Path(path)
        self._wav = wave.open(str(path), "wb")
        try:
            self._wav.setnchannels(channels)
            self._wav.setsampwidth(WIDTH)
            self._wav.setframerate(rate)
        except BaseException:
            self._wav.close()
            raise

    def write(self, samples: np.ndarray) -> None:
        """Append int16 samples of shape (frames,) or (frames, channels)."""
        self._wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())

    def close(self) -> None:
        self._wav.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read(path: Path) -> tuple[np.ndarray, int]:
    """A whole WAV as (int16 samples of shape (frames, channels), sample rate)."""
    with Reader(path) as reader:
        return reader.read(reader.frames), reader.rate


def write(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write int16 samples of shape (frames,) (mono) or (frames, channels)."""
    samples = np.asarray(samples)
    with Writer(path, rate, 1 if samples.ndim == 1 else samples.shape[1]) as writer:
        writer.write(samples)


def seconds(path: Path) -> float:
    """The length of a WAV from its header (0.0 when it cannot be read)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error, ZeroDivisionError):
        return 0.0


def header(frames: int, rate: int, channels: int = 1) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV holding `frames` frames (for writers that fill the data themselves)."""
    data = frames * channels * WIDTH
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * WIDTH, channels * WIDTH, 16)
            + b"data" + struct.pack("<I", data))
