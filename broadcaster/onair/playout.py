"""The air: one playout thread that takes programmes off the queue and is the only user of the output.

In: `Entry` objects pushed by the planner (cues) and the desk (requests), each with a future for
its rendered programme. Out: the programme through the `Switch` (the station's output, which
keeps time, and the follower sinks), as-run rows through the `Recorder`, and a
`PlaybackReport` to the `on_aired` observer.

What it decides:
- which entry airs next: the best rendered entry due within `PLAY_LEAD` of its second (the
  queue ranks emergency > priority > normal, then time, then slot order); taking it a second
  early lets everything due in the same second be ranked, and lets the output open its stream
  early and start on the second;
- cut-in: an emergency ready to air stops a lower-level programme with a fade
  (`switch.stop(fade=0.5)`, obplayer's priority stack); the cut programme goes back on the queue
  to air again from its beginning;
- a desk stop (`stop_current`) fades what plays, logged interrupted and never requeued;
- a failed device is retried `device_tries` times, `device_retry_delay` apart, reopening the
  output each time (the card may come back); an emergency or a stop ends the wait. The log gets
  one line when the output starts failing and one when it works again, not one per try.

Each occurrence has one as-run row: a retry or a replay after a cut starts the same key again,
and the as-run log reopens that row (see `asrun.log`), so its last status is the outcome.

Locks, in the order they may be taken (never the other way round):
1. `_cond` guards the queue, `_current`, each entry's `preempted`/`cut_by`/`stopped` flags,
   `_stopping` and `_timers`; the playout thread waits on it.
2. the switch's locks (see `output.switch`), only ever taken with `_cond` released.
`_cond` is not held while the switch plays or while the recorder writes. The planner's lock and
the prerenderer's lock come before `_cond` (a reload asks `in_use()`; a cancelled render's
done-callback wakes this thread), so nothing here calls the planner or the prerenderer while
holding `_cond`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from broadcaster import i18n
from broadcaster.asrun.log import Status
from broadcaster.errors import BroadcasterError, OutputError
from broadcaster.onair import policy
from broadcaster.onair.clock import Clock
from broadcaster.onair.queue import Entry, Kind, PlayQueue
from broadcaster.onair.recorder import Recorder
from broadcaster.onair.render import RenderResult
from broadcaster.output import PlaybackReport
from broadcaster.output.source import Source
from broadcaster.output.switch import Switch
from broadcaster.schedule.model import Priority

log = logging.getLogger(__name__)

PLAY_LEAD = timedelta(seconds=1)        # the playout thread commits to an entry this long before air
CUT_FADE = 0.5                          # seconds of fade when an emergency cuts in or the desk stops
IDLE_POLL = 0.5                         # longest wait between two looks at the queue
RENDER_WAIT = timedelta(seconds=60)     # a programme still rendering this long after its time airs from its parts

i18n.register({
    "onair.cut_by": ("Bị ngắt bởi tin khẩn cấp {key}; sẽ phát lại từ đầu.",
                     "Cut by emergency {key}; will air again from the beginning."),
    "onair.stopped_note": ("Bị ngắt khi dừng chương trình phát thanh.", "Cut when the station stopped."),
    "onair.desk_stopped": ("Bị dừng từ bàn điều khiển; không phát lại.",
                           "Stopped from the desk; it will not air again."),
    "onair.device_try": ("{error} (lần thử {attempt}/{tries})", "{error} (try {attempt}/{tries})"),
    "onair.offline_voice": ("Đọc bằng giọng ngoại tuyến {engine}: {reason}",
                            "Spoken by the offline voice {engine}: {reason}"),
    "onair.outputs_missed": ("Đầu ra bị mất một phần: {parts}", "Outputs that missed part of it: {parts}"),
    "onair.render_cancelled": ("Chương trình chưa dựng xong khi đến giờ phát.",
                               "The programme was not rendered in time."),
    "onair.render_overdue": ("Chương trình vẫn chưa dựng xong {seconds:.0f} giây sau giờ phát.",
                             "The programme was still not rendered {seconds:.0f} s after its time."),
})


class Renders(Protocol):
    """What the playout needs of the prerenderer: forget a programme once it aired for good."""

    def discard(self, key: str) -> None: ...


class Playout:
    """The playout thread, its queue and the output. `start()`, `push()` entries, `stop()`."""

    def __init__(self, *, switch: Switch, clock: Clock, recorder: Recorder,
                 renders: Renders, device_tries: int = 3, device_retry_delay: float = 3.0,
                 on_aired: Callable[[Entry, PlaybackReport], None] | None = None,
                 last_resort: Callable[[Entry, str], RenderResult | None] | None = None,
                 render_wait: timedelta = RENDER_WAIT) -> None:
        self.switch = switch
        self.last_resort = last_resort      # airs an unrenderable programme straight from its parts
        self.render_wait = render_wait      # how long after its time a programme may wait for its render
        self.clock = clock
        self.recorder = recorder
        self.renders = renders
        self.device_tries = device_tries
        self.device_retry_delay = device_retry_delay
        self.on_aired = on_aired
        self._queue = PlayQueue()
        self._cond = threading.Condition()
        self._current: Entry | None = None
        self._airing: tuple[datetime, float] | None = None   # the current entry's start and length (s)
        self._timers: list[threading.Timer] = []
        self._stopping = False
        self._device_fault: str | None = None   # the output's failure being retried (playout thread only)
        self._thread = threading.Thread(target=self._loop, name="playout", daemon=True)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, fade: float = CUT_FADE) -> None:
        """Fade what plays (logged interrupted), end the thread, close the output."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            current = self._current
            self._cond.notify_all()
            for timer in self._timers:
                timer.cancel()
        if current is not None:
            self.switch.stop(fade=fade)
        if self._thread.is_alive():
            self._thread.join(timeout=fade + 1.0)

    def close(self) -> None:
        """Release the output and the sinks (after `stop()` and after the renders are closed)."""
        with self._cond:
            waiting = [entry.relay for entry in self._queue.entries() if entry.relay is not None]
        for relay in waiting:            # relays opened for the air that never came: stop pulling
            relay.close()
        self.switch.close()

    # -- what the planner and the desk call ----------------------------------------------------
    def push(self, entry: Entry) -> Entry:
        """Queue an entry; an emergency due while something plays gets a timer to cut in on time."""
        with self._cond:
            self._queue.push(entry)
            self._cond.notify_all()
            if entry.priority >= Priority.EMERGENCY and entry.start_at is not None:
                # The playout thread is busy playing: wake the cut-in check when the emergency is due.
                delay = (entry.start_at - PLAY_LEAD - self.clock.now()).total_seconds()
                timer = threading.Timer(max(0.0, delay), self.preempt_if_needed)
                timer.daemon = True
                self._timers = [t for t in self._timers if t.is_alive()] + [timer]
                timer.start()
        entry.audio.add_done_callback(lambda _: self._audio_ready())
        self.preempt_if_needed()
        return entry

    def status(self) -> dict:
        """The control socket's "current" and "queue" keys.

        "current" is what is on air (None when nothing is): its key, slot, bulletins and level,
        and once its sound has started, "started", "length" (seconds) and "ends_at" in station
        time, so the desk can show the time remaining.
        """
        with self._cond:
            current, airing = self._current, self._airing
            queue = [e.key for e in self._queue.entries()]
        if current is None:
            return {"current": None, "queue": queue}
        on_air = {"key": current.key, "slot": current.slot, "bulletins": list(current.bulletins),
                  "priority": current.priority.label, "started": None, "length": None, "ends_at": None}
        if airing is not None:
            started, length = airing
            on_air.update(started=started.isoformat(timespec="milliseconds"), length=round(length, 3),
                          ends_at=(started + timedelta(seconds=length)).isoformat(timespec="milliseconds"))
        return {"current": on_air, "queue": queue}

    def outputs(self) -> dict[str, dict]:
        """Each follower sink's state for `broadcaster outputs`, keyed by its name."""
        states = {}
        for name, sink in self.switch.followers.items():
            state = getattr(sink, "state", None)
            if state is not None:
                now = state()
                states[name] = {"connected": now.connected, "last_error": now.last_error, "outages": now.outages}
        return states

    def in_use(self) -> set[str]:
        """Keys on the queue or on air: their renders must outlive a reload."""
        with self._cond:
            return self._queue.keys() | ({self._current.key} if self._current else set())

    def stop_current(self) -> Entry | None:
        """The desk's stop: fade what plays now; it is logged interrupted and not requeued."""
        with self._cond:
            current = self._current
            if current is None or self._stopping:
                return None
            current.stopped = True
            self._cond.notify_all()        # a device-retry wait watches `stopped`
        log.warning("the desk stops %s", current.key)
        self.switch.stop(fade=CUT_FADE)
        return current

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing plays or waits (the desk's direct mode)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._current is None and not len(self._queue), timeout)

    # -- cut-in --------------------------------------------------------------------------------
    def cut_in(self, now: datetime) -> Entry | None:
        """The emergency that should cut what plays now, if any (caller holds `_cond`)."""
        current = self._current
        best = self._queue.best_ready(now, PLAY_LEAD, self.render_wait)
        if (current is None or current.preempted or current.stopped or best is None
                or best.priority < Priority.EMERGENCY or current.priority >= best.priority):
            return None
        return best

    def _audio_ready(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self.preempt_if_needed()

    def preempt_if_needed(self) -> None:
        """An emergency ready to air cuts whatever lower-level programme is on (obplayer's stack)."""
        with self._cond:
            if self._stopping:
                return
            best = self.cut_in(self.clock.now())
            if best is None:
                return
            current = self._current
            current.preempted = True
            current.cut_by = best.key
            self._cond.notify_all()        # a device-retry wait watches `preempted`
        log.warning("emergency %s cuts in on %s", best.key, current.key)
        self.switch.stop(fade=CUT_FADE)

    # -- the playout thread --------------------------------------------------------------------
    def take(self) -> Entry | None:
        """The entry to air now, off the queue and made current; None if nothing is due.

        `_cond` is reentrant: the playout thread calls this while holding it.
        """
        with self._cond:
            if self._stopping:
                return None
            entry = self._queue.take(self.clock.now(), PLAY_LEAD, self.render_wait)
            if entry is not None:
                self._current = entry
            return entry

    def _next_wait(self) -> float:
        due = self._queue.next_due()
        wait = IDLE_POLL if due is None else (due - PLAY_LEAD - self.clock.now()).total_seconds()
        return min(IDLE_POLL, max(0.005, wait))

    def _loop(self) -> None:
        while True:
            with self._cond:      # held from the look at the queue to the wait: no push is missed
                entry = None
                while not self._stopping:
                    entry = self.take()
                    if entry is not None:
                        break
                    self._cond.wait(timeout=self._next_wait())
                if entry is None:
                    return
            try:
                self.air(entry)
            except Exception:  # the playout thread must outlive any one programme's failure
                log.exception("airing %s failed", entry.key)
            finally:
                with self._cond:
                    self._current = None
                    self._airing = None
                    self._cond.notify_all()

    def _from_parts(self, entry: Entry, error: str) -> RenderResult | None:
        """The last resort for a programme that could not be rendered: its parts aired straight."""
        if self.last_resort is None or not entry.content:
            return None
        try:
            programme = self.last_resort(entry, error)
        except Exception as exc:   # the last resort failing leaves the failed row, never a dead thread
            log.error("%s could not be aired from its parts either: %s", entry.key, exc)
            return None
        log.error("%s could not be rendered (%s): it airs straight from its parts", entry.key, error)
        return programme

    def air(self, entry: Entry) -> None:
        """Play one entry with its device retries and write its as-run rows (the playout thread)."""
        if entry.relay is not None:
            self._air_relay(entry)
            return
        now = self.clock.now()
        try:
            programme: RenderResult = entry.audio.result(timeout=0)
        except (CancelledError, Exception) as exc:
            if isinstance(exc, CancelledError):
                error = i18n.tr("onair.render_cancelled")
            elif not entry.audio.done():        # a render that hangs (a hung disk, a stuck worker)
                error = i18n.tr("onair.render_overdue", seconds=self.render_wait.total_seconds())
            else:
                error = str(exc)
            programme = self._from_parts(entry, error)
            if programme is None:
                self.recorder.never_aired(entry, status=Status.FAILED, ended=now, error=error)
                log.error("%s not aired: %s", entry.key, error)
                self.renders.discard(entry.key)
                return
        note = None
        if programme.fallback_reason:
            note = i18n.tr("onair.offline_voice", engine=programme.engine, reason=programme.fallback_reason)
        waited = (now - entry.scheduled).total_seconds()
        if entry.kind.timed and entry.attempt == 1 and waited > policy.ON_TIME.total_seconds():
            if entry.start_at is None:      # cued after its second: a restart or a stall, not a queue
                log.warning("%s starts %.1f s after its time: catch-up (the station was not on air at its time)",
                            entry.key, waited)
            else:
                log.warning("%s starts %.1f s after its time: it waited for the air (one voice at a time)",
                            entry.key, waited)
        for attempt in range(1, self.device_tries + 1):
            now = self.clock.now()
            start_at = entry.start_at if entry.start_at and entry.start_at - now > timedelta(milliseconds=20) else None
            with self._cond:
                if self._stopping:
                    return
                if entry.preempted and not entry.stopped:
                    self._requeue(entry)
                    return
                stopped = entry.stopped
            if stopped:     # the desk stopped it before it began: a row says so, it never airs
                self.recorder.never_aired(entry, status=Status.INTERRUPTED, ended=now,
                                          error=i18n.tr("onair.desk_stopped"))
                break
            row = self.recorder.started(entry, started=start_at or now, engine=programme.engine)
            self._note_airing(start_at or now, programme.duration)
            report = self._play(programme.airs(), entry, start_at)
            ended = report.ended or self.clock.now()
            if self.on_aired is not None:
                self.on_aired(entry, report)
            if report.completed:
                self._device_works()
                # Only a slot has a time to be late for; a desk request airs as soon as it is rendered.
                late = (entry.kind.timed and report.started is not None
                        and policy.is_late(entry.scheduled, report.started))
                status = Status.LATE if late else Status.PLAYED
                note = _with_missed(note, report)
                self.recorder.finished(row, ended=ended, status=status, error=note, started=report.started)
                log.info("%s %s: started %s (%s ms after its time), engine %s%s", status.value, entry.key,
                         report.started.astimezone(self.clock.tz).isoformat(timespec="milliseconds")
                         if report.started else "-",
                         "-" if report.started is None else
                         f"{(report.started - entry.scheduled).total_seconds() * 1000:.1f}",
                         programme.engine, f"; {note}" if note else "")
                self.renders.discard(entry.key)
                return
            if report.interrupted and report.error is None:
                self._interrupted(entry, row, ended, report)
                return
            error = i18n.tr("onair.device_try", error=report.error, attempt=attempt, tries=self.device_tries)
            self.recorder.finished(row, ended=ended, status=Status.FAILED, error=error)
            self._device_failed(entry, report.error)
            self.switch.reset()                 # reopened next time: the card may come back
            if attempt == self.device_tries:
                log.error("%s not aired: the output failed %d times", entry.key, attempt)
            else:
                with self._cond:
                    if self.clock.wait(self._cond, lambda: self._stopping or entry.preempted or entry.stopped,
                                       self.device_retry_delay):
                        if self._stopping:
                            return
                        if not entry.stopped:
                            self._requeue(entry)
                            return
                        break
        self.renders.discard(entry.key)

    def _device_failed(self, entry: Entry, error: str | None) -> None:
        """One log line when the output starts failing (or fails differently), not one per try."""
        if error == self._device_fault:
            log.debug("output still failing for %s: %s", entry.key, error)
            return
        self._device_fault = error
        log.error("output failed for %s: %s (retried %d times per programme, %g s apart; "
                  "logged again when it works or fails differently)",
                  entry.key, error, self.device_tries, self.device_retry_delay)

    def _device_works(self) -> None:
        if self._device_fault is not None:
            log.warning("the output works again (it failed with: %s)", self._device_fault)
            self._device_fault = None

    def _air_relay(self, entry: Entry) -> None:
        """Air a live relay; cut by an emergency it goes back on the queue and resumes live.

        One as-run row per relay: a cut airing marks it `interrupted`, the resumed airing reopens
        it, and its last status is the whole relay's outcome (played, partial with its gaps, or
        failed if it never connected).
        No device retries: a relay's time runs on regardless, so a retry would only shorten it.
        """
        relay = entry.relay
        now = self.clock.now()
        start_at = entry.start_at if entry.start_at and entry.start_at - now > timedelta(milliseconds=20) else None
        with self._cond:
            if self._stopping:
                relay.close()
                return
            if entry.preempted and not entry.stopped:
                self._requeue(entry)
                return
        row = self.recorder.started(entry, started=start_at or now, engine="relay")
        self._note_airing(start_at or now, relay.duration)
        report = self._play(relay.airing(), entry, start_at)
        ended = report.ended or self.clock.now()
        if self.on_aired is not None:
            self.on_aired(entry, report)
        with self._cond:
            cut = report.interrupted and report.error is None and not self._stopping and not entry.stopped
        if cut and not relay.over():
            self._interrupted(entry, row, ended, report)      # requeued: the same relay resumes
            return
        relay.close()
        outcome = relay.report()
        if report.interrupted and report.error is None:
            self._interrupted(entry, row, ended, report)      # stopped by the desk or the station
            return
        status = {"played": Status.PLAYED, "partial": Status.PARTIAL, "failed": Status.FAILED}[outcome.status]
        error = _with_missed(outcome.note() if report.error is None else report.error, report)
        self.recorder.finished(row, ended=ended, status=status if report.error is None else Status.FAILED,
                               error=error, started=report.started)
        log.info("relay %s %s: %s", entry.key, status.value, error)
        self.renders.discard(entry.key)

    def _interrupted(self, entry: Entry, row: int, ended: datetime, report: PlaybackReport) -> None:
        """Close the row of a programme that a stop or an emergency cut; a cut one airs again."""
        with self._cond:
            stopping, by_desk = self._stopping, entry.stopped
        if stopping:
            reason = i18n.tr("onair.stopped_note")
        elif by_desk:
            reason = i18n.tr("onair.desk_stopped")
        else:
            reason = i18n.tr("onair.cut_by", key=entry.cut_by or "?")
        self.recorder.finished(row, ended=ended, status=Status.INTERRUPTED, error=reason, started=report.started)
        log.warning("interrupted %s: %s", entry.key, reason)
        if by_desk and not stopping:
            self.renders.discard(entry.key)
        elif not stopping:
            with self._cond:
                self._requeue(entry)

    def _note_airing(self, started: datetime, length: float) -> None:
        with self._cond:
            self._airing = (started, length)

    def _play(self, path: Path | Source, entry: Entry, start_at: datetime | None) -> PlaybackReport:
        try:
            self.switch.output()
        except OutputError as exc:
            return PlaybackReport(None, None, completed=False, interrupted=False, error=str(exc), start_error=None)
        with self._cond:
            if entry.preempted or entry.stopped:
                return PlaybackReport(None, None, completed=False, interrupted=True, error=None, start_error=None)
        try:
            return self.switch.air(path, label=entry.label, start_at=start_at, sinks=entry.sinks)
        except Exception as exc:   # an unreadable programme, a PortAudio surprise: a failed try, never a dead thread
            if not isinstance(exc, BroadcasterError):
                log.exception("output failed unexpectedly for %s", entry.key)
            return PlaybackReport(None, None, completed=False, interrupted=False, error=str(exc) or repr(exc),
                                  start_error=None)

    def _requeue(self, entry: Entry) -> None:
        """Put a cut programme back, to air again from its beginning (caller holds `_cond`)."""
        entry.attempt += 1
        entry.start_at = None
        entry.preempted = False
        self._queue.push(entry)
        self._cond.notify_all()


def _with_missed(note: str | None, report: PlaybackReport) -> str | None:
    """The as-run note, plus the outputs that missed part of the programme (Icecast outages)."""
    if not report.missed:
        return note
    missed = i18n.tr("onair.outputs_missed", parts=", ".join(f"{name} {seconds:.1f} s"
                                                             for name, seconds in sorted(report.missed.items())))
    return f"{note}; {missed}" if note else missed
