"""WAV-file output: each aired programme becomes `DIR/<label>.wav`, for machines with no sound card.

Where it sits: the daemon's alternative to the sound card (`station.output: file:DIR`), also the
fast output for tests. In: the programme WAV and its label. Out: a WAV of exactly what aired
(cut and faded if stopped) and a report. Paced in real time by default, so that priorities,
cut-ins and start times behave as they would on air; `realtime=False` writes at once.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from broadcaster import i18n
from broadcaster.errors import OutputError
from broadcaster.output.base import (
    Output, PlaybackReport, fade_ramp, read_wav, safe_label, wait_until, wall_time, write_wav,
)

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02     # real-time pacing step; also how quickly stop() takes effect


class FileOutput(Output):
    """Writes each programme it "plays" to `folder/<safe label>.wav`."""

    def __init__(self, folder: Path, *, realtime: bool = True) -> None:
        self.folder = Path(folder)
        self.realtime = realtime
        self.name = f"file:{self.folder}"
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._fade = 0.5

    def target(self, label: str) -> Path:
        """Where the programme labelled `label` is written; never outside the folder, never over another."""
        stem = safe_label(label)
        path = self.folder / f"{stem}.wav"
        number = 2
        while path.exists():
            path = self.folder / f"{stem}-{number}.wav"
            number += 1
        return path

    def written(self, label: str) -> Path | None:
        """The file a programme labelled `label` was written to, if one was (the evidence that it aired)."""
        stem = safe_label(label)
        path = self.folder / f"{stem}.wav"
        return path if path.is_file() else None

    def play(self, path: Path, *, label: str, start_at: datetime | None = None) -> PlaybackReport:
        stop = threading.Event()
        with self._lock:
            self._stop = stop
        try:
            samples, rate = read_wav(path)
            return self._play(samples, rate, label, start_at, stop)
        finally:
            with self._lock:
                self._stop = None

    def _play(self, samples: np.ndarray, rate: int, label: str, start_at: datetime | None,
              stop: threading.Event) -> PlaybackReport:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = i18n.tr("output.write_failed", path=self.folder, detail=exc)
            log.error("output %s: %s: %s", self.name, label, message)
            return PlaybackReport(None, None, completed=False, interrupted=False, error=message,
                                  start_error=None)
        requested = start_at.timestamp() if start_at is not None else None
        if self.realtime and requested is not None and not wait_until(requested, stop):
            return PlaybackReport(None, None, completed=False, interrupted=True, error=None,
                                  start_error=None)
        started = time.time()
        frames = len(samples)
        end, fade_from = frames, None
        if self.realtime:
            block = max(1, int(BLOCK_SECONDS * rate))
            position = 0
            while position < end:
                if fade_from is None and stop.is_set():
                    fade_from = position
                    end = min(frames, position + max(1, int(self._fade * rate)))
                position = min(end, position + block)
                wait_until(started + position / rate)
        elif stop.is_set():
            fade_from, end = 0, min(frames, max(1, int(self._fade * rate)))
        out = samples[:end]
        if fade_from is not None and end > fade_from:
            faded = out.astype(np.float32)
            faded[fade_from:] *= fade_ramp(end - fade_from)[:, None]
            out = np.round(faded).astype(np.int16)
        target = self.target(label)
        try:
            write_wav(target, out, rate)
        except OutputError as exc:
            log.error("output %s: %s: %s", self.name, label, exc)
            return PlaybackReport(None, None, completed=False, interrupted=False, error=str(exc),
                                  start_error=None)
        completed = fade_from is None
        ended = started + end / rate if self.realtime else time.time()
        log.info("output %s: %s written to %s (%s)", self.name, label, target,
                 "complete" if completed else "cut")
        return PlaybackReport(
            started=wall_time(started), ended=wall_time(ended), completed=completed,
            interrupted=not completed, error=None,
            start_error=(started - requested) if requested is not None else None)

    def stop(self, fade: float = 0.5) -> None:
        with self._lock:
            if self._stop is None:
                return
            self._fade = fade
            self._stop.set()
