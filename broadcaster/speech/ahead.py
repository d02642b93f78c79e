"""Speech ahead of time: every bulletin airing in the next days, rendered in Google's voice while the
internet works, so an outage at air time does not put the offline voice on the loudspeakers.

Sits beside the on-air render path. In: the schedule (at start-up and after every reload), a clock.
Out: the speech cache filled with renders by the first engine of the chain (`CachedSpeaker.prepare`),
soonest broadcast first, for every text airing within `station.speech.ahead` days; the programme
render before air then finds Google's speech in the cache.

The work goes one text at a time and politely: one request every `pace` seconds at most (a backlog
is spread out), a 429 doubles a back-off (from a minute up to half an hour) instead of resting the
engine for everyone, a failing Google is retried on the speaker's own rest schedule, and nothing is
asked while `busy()` says an air-time render or an emergency is under way. Texts that were spoken
by the fallback (written during an outage) are rendered again in Google's voice once it answers.

`SpeechAhead.step()` does one unit of work and says how long to wait; `start()` loops it in a
background thread until `stop()`. Every time comes from the injected `clock` (epoch seconds) and `wait`, so tests and the
benchmark drive a whole day of outages in milliseconds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from broadcaster.errors import BroadcasterError, SpeechError
from broadcaster.occurrences import occurrences
from broadcaster.schedule.model import Schedule
from broadcaster.speech.gtts_engine import RateLimited
from broadcaster.speech.speaker import CachedSpeaker, Voice, speaker_for

log = logging.getLogger(__name__)

PACE = 2.0                  # seconds between two requests to Google from this component
BACKOFF_FIRST = 60.0        # seconds to wait after the first 429
BACKOFF_MAX = 1800.0        # the longest wait after repeated 429s
BUSY_WAIT = 5.0             # seconds to wait while air-time work runs
REPLAN_EVERY = 3600.0       # the horizon slides: look again for newly due broadcasts this often


def station_speaker(schedule: Schedule) -> CachedSpeaker:
    """The station's speaker with Google asked once per piece: this component paces and retries
    itself. (Retries and timeouts are not part of the cache key, so the renders are the station's.)"""
    speech = dataclasses.replace(schedule.station.speech, gtts_retries=0)
    return speaker_for(dataclasses.replace(schedule, station=dataclasses.replace(schedule.station, speech=speech)))


@dataclass(frozen=True)
class AheadText:
    """One text to have in Google's voice, and the first time it airs."""

    airs: datetime
    text: str
    source: str                 # bulletin id, or "repeat_bridge"


def spoken_texts(schedule: Schedule, bulletin_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    """(text, source) of everything the speaker says in a broadcast: texts and the repeat bridge."""
    spoken = []
    for bulletin_id in bulletin_ids:
        bulletin = schedule.bulletins.get(bulletin_id)
        if bulletin is None or not bulletin.text or not bulletin.text.strip():
            continue
        spoken.append((bulletin.text, bulletin.id))
        if bulletin.repeat > 1 and schedule.station.programme.repeat_bridge.strip():
            spoken.append((schedule.station.programme.repeat_bridge, "repeat_bridge"))
    return spoken


def texts_ahead(schedule: Schedule, start: datetime, days: float) -> list[AheadText]:
    """Every distinct spoken text of the broadcasts in [start, start + days), soonest first."""
    seen: dict[str, AheadText] = {}
    for occurrence in occurrences(schedule, start, start + timedelta(days=days)):
        for text, source in spoken_texts(schedule, occurrence.bulletins):
            seen.setdefault(text, AheadText(occurrence.start, text, source))
    return sorted(seen.values(), key=lambda item: item.airs)


def broadcast_voice(speaker: CachedSpeaker, schedule: Schedule, bulletin_ids: tuple[str, ...],
                    memo: dict[str, Voice] | None = None) -> Voice | None:
    """The voice a broadcast of these bulletins would air in now: its least preferred text's.

    None when nothing in it is spoken (recorded audio only). `memo` keeps one look per text
    across the broadcasts of an agenda.
    """
    memo = {} if memo is None else memo
    voices = []
    for text, _ in spoken_texts(schedule, bulletin_ids):
        if text not in memo:
            memo[text] = speaker.voice_now(text)
        voices.append(memo[text])
    if not voices:
        return None
    order = [engine.name for engine in speaker.engines]
    worst = max(voices, key=lambda v: order.index(v.engine) if v.engine in order else len(order))
    reason = next((v.reason for v in voices if v.reason), None)
    return Voice(worst.engine, all(v.ready for v in voices), reason)


@dataclass(frozen=True)
class Step:
    """What one `step()` did, and how long to wait before the next."""

    wait: float
    done: str                   # "prepared", "idle", "busy", "resting", "rate-limited", "failed", "off"
    text: str | None = None


class SpeechAhead:
    """Keeps the speech of every bulletin airing soon rendered in the first engine's voice.

    speaker_for: the station's speaker for a schedule (a `CachedSpeaker`, its chain and cache).
    busy: true while air-time renders or an emergency need the machine and the network.
    """

    def __init__(
        self,
        speaker_for: Callable[[Schedule], CachedSpeaker],
        *,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], None] | None = None,
        busy: Callable[[], bool] = lambda: False,
        pace: float = PACE,
    ) -> None:
        self._speaker_for = speaker_for
        self.clock = clock
        self.busy = busy
        self.pace = pace
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._wait = wait or self._stopped.wait
        self._lock = threading.Lock()
        self._schedule: Schedule | None = None
        self._speaker: CachedSpeaker | None = None
        self._todo: list[AheadText] = []
        self._planned_at = float("-inf")
        self._last_request = float("-inf")
        self._backoff = 0.0
        self._backoff_until = float("-inf")
        self.requests = 0           # network requests made, for logs and tests

    def update(self, schedule: Schedule) -> None:
        """A new or reloaded schedule (texts or voice settings may have changed): plan again now."""
        try:
            speaker = self._speaker_for(schedule)
        except BroadcasterError as exc:     # a dictionary the validator reports; keep what we had
            log.warning("speech ahead: keeping the previous schedule: %s", exc)
            return
        with self._lock:
            self._schedule, self._speaker = schedule, speaker
            self._planned_at = float("-inf")
        self._wake.set()

    def voice(self, text: str) -> Voice:
        """The voice `text` would air in now (see `CachedSpeaker.voice_now`)."""
        with self._lock:
            speaker = self._speaker
        if speaker is None:
            raise SpeechError("speech ahead has no schedule yet")
        speaker.reload_failures()
        return speaker.voice_now(text)

    def step(self) -> Step:
        """One unit of work: prepare the soonest text not yet in the first engine's voice."""
        with self._lock:
            schedule, speaker = self._schedule, self._speaker
        if schedule is None or speaker is None or schedule.station.speech.ahead <= 0:
            return Step(REPLAN_EVERY, "off")
        now = self.clock()
        if now < self._backoff_until:
            return Step(self._backoff_until - now, "rate-limited")
        if self.busy():
            return Step(BUSY_WAIT, "busy")
        speaker.reload_failures()
        resting = speaker.resting_for(speaker.engines[0])
        if resting:
            return Step(resting, "resting")
        if now - self._planned_at >= REPLAN_EVERY:
            start = datetime.fromtimestamp(now, schedule.station.timezone)
            self._todo = texts_ahead(schedule, start, schedule.station.speech.ahead)
            self._planned_at = now
        first = speaker.engines[0].name
        while self._todo:
            item = self._todo[0]
            voice = speaker.voice_now(item.text)
            if voice.ready and voice.engine == first:
                self._todo.pop(0)
                continue
            return self._prepare(speaker, item)
        return Step(max(0.0, self._planned_at + REPLAN_EVERY - now), "idle")

    def _prepare(self, speaker: CachedSpeaker, item: AheadText) -> Step:
        try:
            speaker.prepare(item.text, before_request=self._before_request)
        except RateLimited as exc:
            self._backoff = min(BACKOFF_MAX, max(BACKOFF_FIRST, self._backoff * 2))
            self._backoff_until = self.clock() + self._backoff
            log.info("speech ahead: Google asks us to slow down (%s); next try in %.0f s", exc, self._backoff)
            return Step(self._backoff, "rate-limited", item.text)
        except SpeechError as exc:
            log.info("speech ahead: %s not ready in %s's voice yet: %s", item.source, speaker.engines[0].name, exc)
            return Step(speaker.resting_for(speaker.engines[0]) or self.pace, "failed", item.text)
        except BroadcasterError as exc:     # a broken text or dictionary: the validator reports it
            log.warning("speech ahead: skipping %s: %s", item.source, exc)
            self._todo.pop(0)
            return Step(0.0, "failed", item.text)
        self._backoff = 0.0
        self._todo.pop(0)
        log.info("speech ahead: %s ready in %s's voice (airs %s)", item.source, speaker.engines[0].name,
                 item.airs.isoformat(timespec="minutes"))
        return Step(0.0, "prepared", item.text)

    def _before_request(self) -> None:
        """Pacing: at most one request every `pace` seconds, and never while air-time work runs."""
        while True:
            if self._stopped.is_set():
                raise SpeechError("speech ahead stopped")
            now = self.clock()
            gap = self._last_request + self.pace - now
            if gap > 0:
                self._wait(gap)
                continue
            if self.busy():
                self._wait(BUSY_WAIT)
                continue
            break
        self._last_request = self.clock()
        self.requests += 1

    def start(self) -> None:
        """Run in a background thread at the lowest CPU priority until `stop()`."""
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="speech-ahead", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:    # Linux nices one thread by its id: air-time work always gets the CPU first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (OSError, AttributeError):
            pass
        while not self._stopped.is_set():
            try:
                step = self.step()
            except Exception:   # the station keeps airing whatever happens here; the log says why
                log.exception("speech ahead: unexpected error; trying again in %.0f s", BACKOFF_FIRST)
                step = Step(BACKOFF_FIRST, "failed")
            if step.wait > 0 and not self._stopped.is_set():
                self._wake.clear()
                self._wake.wait(step.wait)
