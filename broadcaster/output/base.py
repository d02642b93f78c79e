"""The output stage's interface: a programme WAV goes in, sound (or a file) and a report come out.

Where it sits: last in the flow. The daemon (`broadcaster.onair`) hands each finished programme
(48 kHz mono 16-bit WAV from the programme stage) to an `Output` with the time it must start;
the output plays it and returns a `PlaybackReport` saying when it really started and ended, and
what went wrong. Device failures are reported, never raised, so the daemon can log and retry.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from broadcaster import i18n
from broadcaster.output.source import Source

log = logging.getLogger(__name__)

i18n.register({
    "output.device_missing": (
        "Không tìm thấy thiết bị âm thanh {device!r}: {detail}. Hãy kiểm tra card âm thanh và dây "
        "nối, hoặc xem danh sách bằng lệnh `broadcaster devices`.",
        "Sound device {device!r} not found: {detail}. Check the sound card and its cable, or list "
        "devices with `broadcaster devices`.",
    ),
    "output.device_failed": (
        "Thiết bị âm thanh {device!r} bị lỗi khi phát: {detail}.",
        "Sound device {device!r} failed while playing: {detail}.",
    ),
    "output.device_hung": (
        "Thiết bị âm thanh {device!r} ngừng phản hồi khi đang phát (quá {seconds:.0f} giây).",
        "Sound device {device!r} stopped responding while playing (over {seconds:.0f} s).",
    ),
    "output.no_portaudio": (
        "Không dùng được âm thanh của máy (thiếu thư viện PortAudio: {detail}). Cài gói "
        "libportaudio2, hoặc đặt `output: file:THƯ_MỤC` để ghi ra tệp WAV.",
        "The machine's audio is unavailable (PortAudio library missing: {detail}). Install "
        "libportaudio2, or set `output: file:FOLDER` to write WAV files.",
    ),
    "output.ended_early": (
        "luồng âm thanh dừng sau {seconds:.1f} giây, trước khi hết chương trình",
        "the audio stream ended after {seconds:.1f} s, before the programme did",
    ),
    "output.bad_wav": (
        "Không đọc được tệp chương trình {path}: {detail}.",
        "Cannot read the programme file {path}: {detail}.",
    ),
    "output.write_failed": (
        "Không ghi được tệp {path}: {detail}.",
        "Cannot write the file {path}: {detail}.",
    ),
    "output.bad_spec": (
        "Đầu ra {spec!r} không hợp lệ: dùng `default`, tên hoặc số thiết bị, hoặc `file:THƯ_MỤC`.",
        "Invalid output {spec!r}: use `default`, a device name or number, or `file:FOLDER`.",
    ),
})

SPIN_SECONDS = 0.002    # the last stretch of a precise wait is spent spinning, not sleeping


@dataclass(frozen=True)
class PlaybackReport:
    """What happened to one programme on the output."""

    started: datetime | None        # aware wall-clock time the first sample reached the device; None if never
    ended: datetime | None
    completed: bool                 # played to the end
    interrupted: bool               # cut by stop()
    error: str | None               # operator-readable device error (i18n); None when all went well
    start_error: float | None       # seconds, started - requested start_at (positive = late)
    missed: Mapping[str, float] = field(default_factory=dict)   # follower sink -> seconds it lost


@dataclass(frozen=True)
class DeviceInfo:
    """One output-capable sound device as PortAudio sees it."""

    index: int
    name: str
    channels: int
    default_samplerate: float
    is_default: bool


Tap = Callable[[np.ndarray, float], None]
"""Called by an output with each block it airs (float32 mono) and the epoch its first sample airs."""


class Output(ABC):
    """Somewhere a programme airs and that keeps the air's time: a sound device, or a folder of WAV files."""

    name: str

    @abstractmethod
    def play(self, programme: Path | Source, *, label: str, start_at: datetime | None = None,
             tap: Tap | None = None) -> PlaybackReport:
        """Play `programme` (a WAV file, streamed from disk, or any `Source`) starting as close to `start_at` as possible.

        Blocking: returns when the programme ended or was stopped. `label` names the
        programme (`<scheduled time>-<slot>`) in logs and file names. `start_at` None (or in the
        past) means now. Device failures come back in `PlaybackReport.error`, not as exceptions.
        `tap` gets every block as it airs, from the thread that keeps time: it must not block.
        """

    @abstractmethod
    def stop(self, fade: float = 0.5) -> None:
        """Thread-safe: fade out the current playback within `fade` seconds; no-op when idle."""

    def close(self) -> None:
        """Release the device or files; the output may not be used afterwards."""


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def wall_time(epoch: float) -> datetime:
    """An aware datetime (UTC) for a `time.time()` value."""
    return datetime.fromtimestamp(epoch, timezone.utc)


def wait_until(epoch: float, cancelled=None) -> bool:
    """Sleep until `time.time() >= epoch`: coarse sleeps, then a short spin for precision.

    `cancelled` is an optional `threading.Event`; returns False as soon as it is set.
    """
    while True:
        remaining = epoch - time.time()
        if remaining <= 0:
            return True
        if cancelled is not None and cancelled.is_set():
            return False
        if remaining > SPIN_SECONDS:
            step = min(remaining - SPIN_SECONDS, 0.05)
            if cancelled is not None:
                if cancelled.wait(step):
                    return False
            else:
                time.sleep(step)


def fade_ramp(frames: int) -> np.ndarray:
    """A float32 gain ramp from 1 down to 0 over `frames` frames (raised cosine, no click)."""
    if frames <= 0:
        return np.zeros(0, dtype=np.float32)
    return (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, frames))).astype(np.float32)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_fold(text: str) -> str:
    """Vietnamese text in plain ASCII: marks dropped, đ -> d ("Bản tin sáng" -> "Ban tin sang")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def safe_label(label: str) -> str:
    """`label` as a portable file name: ASCII letters, digits, `.`, `_`, `-` only.

    Vietnamese letters lose their marks (đ -> d) so "Bản tin sáng" becomes "Ban-tin-sang".
    """
    text = _UNSAFE.sub("-", ascii_fold(label)).strip(".-_")
    return text[:120] or "programme"
