"""WAV-file output: each aired programme becomes `DIR/<label>.wav`, for machines with no sound card.

Where it sits: the daemon's alternative to the sound card (`station.output: file:DIR`), also the
fast output for tests. In: the programme WAV and its label. Out: a WAV of exactly what aired
(cut and faded if stopped; mono, as the programme stage writes) and a report. The programme is
copied block by block, never held whole in memory, and appears under its name only once it is
complete. Paced in real time by default, so that priorities,
cut-ins and start times behave as they would on air; `realtime=False` writes at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from broadcaster import i18n
from broadcaster.errors import OutputError
from broadcaster.output.base import Output, PlaybackReport, Tap, fade_ramp, safe_label, wait_until, wall_time
from broadcaster.output.source import Source, WavSource, WavWriter

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

    def play(self, programme: Path | Source, *, label: str, start_at: datetime | None = None,
             tap: Tap | None = None) -> PlaybackReport:
        stop = threading.Event()
        with self._lock:
            self._stop = stop
        try:
            source = WavSource(programme) if isinstance(programme, (str, os.PathLike)) else programme
            try:
                return self._play(source, label, start_at, stop, tap)
            finally:
                source.close()
        finally:
            with self._lock:
                self._stop = None

    def _play(self, source: Source, label: str, start_at: datetime | None,
              stop: threading.Event, tap: Tap | None) -> PlaybackReport:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = i18n.tr("output.write_failed", path=self.folder, detail=exc)
            # Reported, not logged as an error: the playout logs a device fault once, not once per try.
            log.debug("output %s: %s: %s", self.name, label, message)
            return PlaybackReport(None, None, completed=False, interrupted=False, error=message,
                                  start_error=None)
        requested = start_at.timestamp() if start_at is not None else None
        if self.realtime and requested is not None and not wait_until(requested, stop):
            return PlaybackReport(None, None, completed=False, interrupted=True, error=None,
                                  start_error=None)
        started = time.time()
        target = self.target(label)
        partial = target.with_name(f".{target.name}.part")    # not a *.wav until it is whole
        try:
            position, fade_from = self._copy(source, partial, started, stop, tap)
            os.replace(partial, target)
        except OutputError as exc:
            partial.unlink(missing_ok=True)
            log.debug("output %s: %s: %s", self.name, label, exc)
            return PlaybackReport(None, None, completed=False, interrupted=False, error=str(exc),
                                  start_error=None)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            message = i18n.tr("output.write_failed", path=target, detail=exc)
            log.debug("output %s: %s: %s", self.name, label, message)
            return PlaybackReport(None, None, completed=False, interrupted=False, error=message,
                                  start_error=None)
        completed = fade_from is None
        ended = started + position / source.rate if self.realtime else time.time()
        log.info("output %s: %s written to %s (%s)", self.name, label, target,
                 "complete" if completed else "cut")
        return PlaybackReport(
            started=wall_time(started), ended=wall_time(ended), completed=completed,
            interrupted=not completed, error=None,
            start_error=(started - requested) if requested is not None else None)

    def _copy(self, source: Source, path: Path, started: float, stop: threading.Event,
              tap: Tap | None) -> tuple[int, int | None]:
        """Copy the programme block by block into `path` (paced in real time if `realtime`).

        A stop fades the next `fade` seconds out and ends there. Returns (frames written, frame
        where the fade began or None).
        """
        rate = source.rate
        block = max(1, int(BLOCK_SECONDS * rate))
        known = getattr(source, "program_frames", None)
        position, end, fade_from, ramp = 0, known, None, None
        with WavWriter(path, rate, 1) as writer:
            while end is None or position < end:
                if fade_from is None and stop.is_set():
                    fade_from = position
                    fade = max(1, int(self._fade * rate))
                    end = position + fade if end is None else min(end, position + fade)
                    ramp = fade_ramp(end - fade_from)
                data = source.read(block if end is None else min(block, end - position))
                if not len(data):
                    break
                if ramp is not None:
                    data = data * ramp[position - fade_from:position - fade_from + len(data)]
                writer.write(np.round(data * 32768).clip(-32768, 32767).astype(np.int16))
                if tap is not None:
                    tap(data, started + position / rate)
                position += len(data)
                if self.realtime:
                    wait_until(started + position / rate)
        return position, fade_from

    def stop(self, fade: float = 0.5) -> None:
        with self._lock:
            if self._stop is None:
                return
            self._fade = fade
            self._stop.set()
