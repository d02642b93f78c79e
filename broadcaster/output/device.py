"""Sound-card output through sounddevice (PortAudio): a programme WAV in, sound and a report out.

Where it sits: the last stage; the daemon calls `SoundDeviceOutput.play()` from its playout
thread. On-time start is sample-exact by design: the stream is opened and started a little
before `start_at`, plays silence, and the callback places the programme's first frame where
the device's DAC time (`time.outputBufferDacTime`) equals `start_at`. Thread wake-up jitter
then only matters if it exceeds the lead. The programme is streamed from disk: a `Prefetch`
thread keeps the next two seconds in a ring buffer, and the callback only copies from it (no
disk, no lock, no array allocated), so airing an hour costs the ring, not the hour.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from os import PathLike
from pathlib import Path

import numpy as np

from broadcaster import i18n
from broadcaster.constants import TRAILING_SILENCE
from broadcaster.errors import OutputError
from broadcaster.output.base import (
    DeviceInfo, Output, PlaybackReport, Tap, fade_ramp, wait_until, wall_time,
)
from broadcaster.output.source import Prefetch, Source, WavSource

try:
    import sounddevice as sd
except OSError as exc:          # PortAudio missing: report it when someone tries to play
    sd = None
    _IMPORT_ERROR: OSError | None = exc
else:
    _IMPORT_ERROR = None

log = logging.getLogger(__name__)

LEAD_SECONDS = 0.5      # open and start the stream this long before start_at
WATCHDOG_SECONDS = 5.0  # a stream whose device has not asked for sound for this long is hung
WATCHDOG_POLL = 0.5
MIN_FADE_SECONDS = 0.01
# Device buffer. On-time start does not depend on it (the callback aims by DAC time), so it is
# sized for safety: "low" (~9 ms) underran on a busy 2-core machine and cut gaps into the sound.
LATENCY_SECONDS = 0.1

_pa_lock = threading.Lock()
_active_streams = 0


def _require_sd():
    if sd is None:
        raise OutputError(i18n.tr("output.no_portaudio", detail=_IMPORT_ERROR))
    return sd


def refresh_portaudio() -> bool:
    """Re-scan sound devices (PortAudio lists them once, at initialisation).

    Lets a sound card or audio server that appeared after start-up be found. Only done when
    no stream of this process is open; returns whether it happened.
    """
    global _active_streams
    lib = _require_sd()
    with _pa_lock:
        if _active_streams:
            return False
        lib._terminate()
        lib._initialize()
    log.info("PortAudio re-initialised to re-scan sound devices")
    return True


def list_devices() -> list[DeviceInfo]:
    """Output-capable devices, with the default output marked."""
    lib = _require_sd()
    try:
        devices = lib.query_devices()
        default = lib.default.device[1]
    except lib.PortAudioError as exc:
        raise OutputError(i18n.tr("output.device_missing", device="default", detail=exc)) from exc
    return [
        DeviceInfo(index=d["index"], name=d["name"], channels=d["max_output_channels"],
                   default_samplerate=d["default_samplerate"], is_default=d["index"] == default)
        for d in devices if d["max_output_channels"] > 0
    ]


PROBE_RATE = 48_000
PROBE_FRAMES = 960      # 20 ms of silence: enough to prove the device takes audio, nothing to hear


def probe_device(device: int | str | None) -> None:
    """Open `device` and write a few frames of digital silence; OutputError when it will not take audio.

    The health check's proof that the sound card would play, without a sound on the loudspeakers.
    A failed look-up re-scans devices once (a card plugged in or a server restarted since start-up).
    """
    global _active_streams
    lib = _require_sd()
    name = "default" if device is None else str(device)
    for attempt in (1, 2):
        try:
            lib.query_devices(device, "output")
            stream = lib.OutputStream(samplerate=PROBE_RATE, channels=1, dtype="float32", device=device,
                                      latency=LATENCY_SECONDS)
        except (ValueError, lib.PortAudioError) as exc:
            if attempt == 1 and refresh_portaudio():
                continue
            raise OutputError(i18n.tr("output.device_missing", device=name, detail=exc)) from exc
        break
    with _pa_lock:
        _active_streams += 1
    try:
        stream.start()
        stream.write(np.zeros((PROBE_FRAMES, 1), dtype=np.float32))
        stream.stop()
    except lib.PortAudioError as exc:
        raise OutputError(i18n.tr("output.device_failed", device=name, detail=exc)) from exc
    finally:
        stream.close(ignore_errors=True)
        with _pa_lock:
            _active_streams -= 1


class _Playback:
    """The state one programme's callback works on; plain attributes, no locks in the callback."""

    def __init__(self) -> None:
        self.source: Source | None = None         # the programme (a file: padded with trailing silence)
        self.feed: Prefetch | None = None         # reads `source` ahead of the callback
        self.tap: Tap | None = None               # gets each buffer as it airs
        self.epoch_offset = 0.0                   # wall-clock time minus stream time
        self.calls = 0                            # callbacks so far: the watchdog's sign of life
        self.rate = 0
        self.target: float | None = None          # stream-clock time of the first frame; None = asap
        self.pos = 0
        self.first_dac: float | None = None       # stream-clock DAC time of the first frame
        self.ramp: np.ndarray | None = None       # set by stop(): fade gains still to apply
        self.ramp_pos = 0
        self.fade_from: int | None = None         # data frame where the fade began
        self.stop_requested = threading.Event()
        self.finished = threading.Event()
        self.underruns = 0
        self.starved = 0                          # frames of silence played because the disk was late


class SoundDeviceOutput(Output):
    """Plays programmes on one sound device through a callback `sounddevice.OutputStream`."""

    def __init__(self, device: int | str | None = None, *, latency: float | str = LATENCY_SECONDS,
                 lead: float = LEAD_SECONDS) -> None:
        self.device = device
        self.name = "default" if device is None else str(device)
        self.latency = latency
        self.lead = lead
        self._lock = threading.Lock()
        self._current: _Playback | None = None
        self._stream_latency = 0.0

    # -- the real-time part -------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        pb = self._current
        pb.calls += 1
        if status.output_underflow:
            pb.underruns += 1
        out = outdata[:, 0]
        dac = time_info.outputBufferDacTime or (time_info.currentTime + self._stream_latency)
        last = self._fill(pb, out, frames, dac)
        if pb.tap is not None:
            pb.tap(out, dac + pb.epoch_offset)
        if last:
            raise sd.CallbackStop

    @staticmethod
    def _fill(pb: "_Playback", out: np.ndarray, frames: int, dac: float) -> bool:
        """Fill one device buffer from the prefetch ring; True when it is the last one."""
        offset = 0
        if pb.first_dac is None:
            if pb.stop_requested.is_set():
                out.fill(0)
                return True
            if pb.target is not None:
                offset = int(round((pb.target - dac) * pb.rate))
                if offset >= frames:
                    out.fill(0)
                    return False
                offset = max(offset, 0)
            pb.first_dac = dac + offset / pb.rate
            out[:offset] = 0
        complete = pb.feed.complete        # asked before reading: then a short read is the end
        n = pb.feed.read_into(out[offset:])
        end = offset + n
        pb.pos += n
        if end < frames and not complete:
            # The disk fell behind: silence now, the programme goes on where it was.
            out[end:] = 0
            pb.starved += frames - end
            end = frames
        ramp = pb.ramp
        if ramp is not None:
            if pb.fade_from is None:
                pb.fade_from = pb.pos - n
            k = min(n, len(ramp) - pb.ramp_pos)
            np.multiply(out[offset:offset + k], ramp[pb.ramp_pos:pb.ramp_pos + k], out=out[offset:offset + k])
            pb.ramp_pos += k
            if pb.ramp_pos >= len(ramp):
                out[offset + k:] = 0
                return True
        if end < frames:
            out[end:] = 0
            return True
        return False

    def _finished(self) -> None:
        pb = self._current
        if pb is not None:
            pb.finished.set()

    # -- the blocking part --------------------------------------------------------------
    def play(self, programme: Path | Source, *, label: str, start_at: datetime | None = None,
             tap: Tap | None = None) -> PlaybackReport:
        pb = _Playback()
        pb.tap = tap
        with self._lock:
            # Registered before loading, so a stop() during a long load is not lost.
            self._current = pb
        try:
            source = WavSource(programme, pad_seconds=TRAILING_SILENCE) if isinstance(programme, (str, PathLike)) else programme
            with self._lock:
                pb.source, pb.rate = source, source.rate
                pb.feed = Prefetch(source)
            pb.feed.start(wait_for=self.lead)
            if pb.stop_requested.is_set():
                log.info("output %s: %s stopped before it started", self.name, label)
                return PlaybackReport(None, None, completed=False, interrupted=True, error=None,
                                      start_error=None)
            return self._play(pb, label, start_at)
        finally:
            if pb.feed is not None:
                pb.feed.close()
            elif pb.source is not None:
                pb.source.close()
            with self._lock:
                self._current = None

    def _fail(self, key: str, detail: object, label: str, **extra) -> PlaybackReport:
        message = i18n.tr(key, device=self.name, detail=detail, **extra)
        # Reported, not logged as an error: the playout logs a device fault once, not once per try.
        log.debug("output %s: %s: %s", self.name, label, message)
        return PlaybackReport(started=None, ended=None, completed=False, interrupted=False,
                              error=message, start_error=None)

    def _open(self, pb: _Playback):
        """Find the device and open a stream on it; a failed look-up re-scans devices once."""
        global _active_streams
        lib = _require_sd()
        for attempt in (1, 2):
            try:
                lib.query_devices(self.device, "output")
                stream = lib.OutputStream(
                    samplerate=pb.rate, channels=1, dtype="float32", device=self.device,
                    latency=self.latency, callback=self._callback, finished_callback=self._finished)
            except (ValueError, lib.PortAudioError) as exc:
                if attempt == 1 and refresh_portaudio():
                    continue
                raise OutputError(str(exc)) from exc
            with _pa_lock:
                _active_streams += 1
            return stream
        raise AssertionError("unreachable")

    def _close_stream(self, stream) -> None:
        global _active_streams
        try:
            stream.close(ignore_errors=True)
        finally:
            with _pa_lock:
                _active_streams -= 1

    def _play(self, pb: _Playback, label: str, start_at: datetime | None) -> PlaybackReport:
        requested = start_at.timestamp() if start_at is not None else None
        if requested is not None and not wait_until(requested - self.lead, pb.stop_requested):
            log.info("output %s: %s stopped before it started", self.name, label)
            return PlaybackReport(None, None, completed=False, interrupted=True, error=None,
                                  start_error=None)
        try:
            stream = self._open(pb)
        except OutputError as exc:
            return self._fail("output.device_missing", exc, label)
        error = None
        try:
            self._stream_latency = float(stream.latency)
            offset = _clock_offset(stream)
            pb.epoch_offset = offset
            if requested is not None:
                pb.target = requested - offset
            try:
                stream.start()
            except sd.PortAudioError as exc:
                return self._fail("output.device_failed", exc, label)
            if not self._wait_finished(pb):
                stream.abort(ignore_errors=True)
                error = i18n.tr("output.device_hung", device=self.name, seconds=WATCHDOG_SECONDS)
        finally:
            self._close_stream(stream)
        if pb.underruns:
            log.warning("output %s: %s had %s buffer underrun(s)", self.name, label, pb.underruns)
        if pb.starved:
            log.warning("output %s: %s waited %.3f s for the disk", self.name, label, pb.starved / pb.rate)
        if error is None and pb.feed.error is not None:
            error = i18n.tr("output.device_failed", device=self.name, detail=pb.feed.error)
        stopped = pb.stop_requested.is_set()
        program_frames = getattr(pb.source, "program_frames", None)
        if program_frames is None:          # a live source: the programme is what it gave
            program_frames = max(0, pb.pos - getattr(pb.source, "pad_frames", 0))
        if error is None and not pb.feed.exhausted and not stopped:
            # The stream ended on its own before the programme did: the device or server went away.
            error = i18n.tr("output.device_failed", device=self.name,
                            detail=i18n.tr("output.ended_early", seconds=pb.pos / pb.rate))
        if pb.first_dac is None:
            if error is not None:
                log.debug("output %s: %s: %s", self.name, label, error)
            return PlaybackReport(None, None, completed=False, interrupted=stopped and error is None,
                                  error=error, start_error=None)
        if pb.fade_from is None:
            aired = min(pb.pos, program_frames)
        else:
            aired = min(pb.fade_from + pb.ramp_pos, program_frames)
        completed = aired >= program_frames and error is None
        started_epoch = pb.first_dac + offset
        ended_epoch = started_epoch + aired / pb.rate
        start_error = started_epoch - requested if requested is not None else None
        if error is not None:
            log.debug("output %s: %s: %s", self.name, label, error)
        log.info("output %s: %s %s, start error %s ms", self.name, label,
                 "played" if completed else "failed" if error else "interrupted",
                 "-" if start_error is None else f"{start_error * 1000:.1f}")
        return PlaybackReport(started=wall_time(started_epoch), ended=wall_time(ended_epoch),
                              completed=completed, interrupted=not completed and error is None,
                              error=error, start_error=start_error)

    @staticmethod
    def _wait_finished(pb: _Playback) -> bool:
        """Wait for the stream to finish; False if the device stopped calling back for WATCHDOG_SECONDS."""
        calls, since = pb.calls, time.monotonic()
        while not pb.finished.wait(WATCHDOG_POLL):
            if pb.calls != calls:
                calls, since = pb.calls, time.monotonic()
            elif time.monotonic() - since > WATCHDOG_SECONDS:
                return False
        return True

    def stop(self, fade: float = 0.5) -> None:
        with self._lock:
            pb = self._current
            if pb is None:
                return
            # The device already holds `latency` seconds of sound: fade the rest so the whole
            # fade ends within `fade` seconds of this call.
            seconds = max(MIN_FADE_SECONDS, fade - self._stream_latency)
            if pb.ramp is None and pb.rate:
                pb.ramp = fade_ramp(int(seconds * pb.rate))
            pb.stop_requested.set()
        log.info("output %s: stop requested (fade %.2f s)", self.name, fade)

    def close(self) -> None:
        self.stop(0.0)


def _clock_offset(stream) -> float:
    """`time.time() - stream.time`: maps PortAudio's stream clock to wall-clock time.

    Takes the tightest of a few back-to-back readings, so a preemption between two reads
    does not skew every start.
    """
    best = None
    for _ in range(5):
        before = time.time()
        stream_now = stream.time
        after = time.time()
        if best is None or after - before < best[0]:
            best = (after - before, (before + after) / 2 - stream_now)
    return best[1]
