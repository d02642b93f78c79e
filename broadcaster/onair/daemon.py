"""The station daemon: wires the on-air parts together and runs their life cycle.

In: a validated `Schedule` (replaced on hot reload), desk requests (control socket). Out: sound
through the station's `Output` and rows in the as-run log. `Station` holds no on-air logic of its
own: the planner cues, the playout airs, the desk answers requests, the recorder writes rows
(see `broadcaster.onair` for the parts and the lock order). Its public surface (constructor,
`start`, `stop`, `submit`, `handle_request`, `reload`, `wait_idle`, `now`, `schedule`, `asrun`,
`scheduler`, `prerenderer`, `on_aired`) is what the CLI, the tests and scripts/bench_onair.py use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from broadcaster.asrun.log import AsRunLog, log_path
from broadcaster.health.checks import RenderState, ScheduleSource, file_version, station_outputs
from broadcaster.health.metrics import Counters
from broadcaster.health.watch import EVERY, HealthWatch
from broadcaster.makeup import Spacing
from broadcaster.occurrences import Occurrence
from broadcaster.onair.clock import Clock
from broadcaster.onair.control import SOCKET_NAME, ControlServer, DaemonLock
from broadcaster.onair.planner import CUE_LEAD, HORIZON, Planner
from broadcaster.onair.playout import RENDER_WAIT, Playout
from broadcaster.onair.queue import Entry
from broadcaster.onair.recent import RecentProblems
from broadcaster.onair.recorder import Recorder
from broadcaster.onair.reload import RELOAD_BUDGET, ScheduleWatcher
from broadcaster.onair.direct import aired_from_parts
from broadcaster.onair.render import Prerenderer, Renderer, RenderResult, programme_renderer
from broadcaster.onair.requests import Desk, Request
from broadcaster.output import Output, PlaybackReport, open_output
from broadcaster.output.icecast import station_sinks
from broadcaster.output.switch import Switch
from broadcaster.schedule.model import Schedule
from broadcaster.speech.ahead import SpeechAhead, station_speaker

log = logging.getLogger(__name__)


class Station:
    """The daemon. `start()`, then it runs on its own threads until `stop()`.

    `renderer` is the programme renderer run in the worker processes (picklable; tests pass a
    tone renderer); `output` overrides `station.output`; the retry and timing knobs exist so
    tests can keep to seconds what takes minutes on air. `clock` defaults to the real clock in
    the station's time zone. `source` says whether `schedule` is the file or its last good copy
    (the health check reports it); `health_every` is the seconds between the cheap health checks
    (None: no health checks, the benchmark's baseline); `memory` is the folder renders go to while
    the disk refuses them (default: a private folder in /dev/shm); a programme whose render is
    not done `render_wait` after its time airs from its parts.
    """

    def __init__(self, schedule: Schedule, *, output: str | None = None, renderer: Renderer = programme_renderer,
                 cue_lead: timedelta = CUE_LEAD, horizon: timedelta = HORIZON,
                 device_tries: int = 3, device_retry_delay: float = 3.0,
                 render_retry_delay: timedelta = timedelta(seconds=30), reload_interval: float = 1.0,
                 reload_budget: float = RELOAD_BUDGET,
                 control: bool = True,
                 on_aired: Callable[[Entry, PlaybackReport], None] | None = None,
                 clock: Clock | None = None, speech_ahead: bool = False,
                 make_up_spacing: Spacing = Spacing(), source: ScheduleSource | None = None,
                 health_every: float | None = EVERY, memory: Path | None = None,
                 render_wait: timedelta = RENDER_WAIT) -> None:
        self._schedule = schedule
        self.source = source or ScheduleSource(schedule.path, "file", version=file_version(schedule.path))
        self.health_every = health_every
        self.memory = memory
        self.render_wait = render_wait
        self.health: HealthWatch | None = None
        self.counters = Counters()        # renders, fallback voices, output reconnects (/metrics)
        self.clock = clock or Clock(schedule.station.timezone)
        self.output_spec = output or schedule.station.output
        self.renderer = renderer
        self.cue_lead = cue_lead
        self.horizon = horizon
        self.make_up_spacing = make_up_spacing
        self.device_tries = device_tries
        self.device_retry_delay = device_retry_delay
        self.render_retry_delay = render_retry_delay
        self.reload_interval = reload_interval
        self.reload_budget = reload_budget
        self.use_control = control
        self.on_aired = on_aired          # observer of every playback report (benchmark, monitoring)
        # Speech rendered days ahead in Google's voice (`station.speech.ahead`): `run` turns it on;
        # tests and benchmarks with their own renderer leave it off (it would ask Google for real).
        self.speech_ahead = speech_ahead
        self.ahead: SpeechAhead | None = None
        self.state_dir = schedule.station.state_dir
        self.recorder: Recorder | None = None
        self.prerenderer: Prerenderer | None = None
        self.playout: Playout | None = None
        self.planner: Planner | None = None
        self.desk: Desk | None = None
        self.watcher: ScheduleWatcher | None = None
        self.control: ControlServer | None = None
        self.recent = RecentProblems(self.clock.now)   # the last warnings and errors, for the desk
        self._daemon_lock: DaemonLock | None = None
        self._stop_lock = threading.Lock()
        self._stopped = False

    # -- what the parts own --------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def schedule(self) -> Schedule:
        """The schedule in force (the planner's after `start()`: a reload replaces it)."""
        return self.planner.schedule if self.planner is not None else self._schedule

    @property
    def asrun(self) -> AsRunLog | None:
        return self.recorder.log if self.recorder is not None else None

    @property
    def scheduler(self) -> BackgroundScheduler | None:
        return self.planner.scheduler if self.planner is not None else None

    @property
    def _lock(self):
        """The planner's lock (schedule swaps and planning); tests hold it to stage a race."""
        return self.planner.lock

    def _open_output(self) -> Output:
        return open_output(self.output_spec, base=self.schedule.folder)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, *, scheduling: bool = True) -> None:
        """Open the log, build the parts, recover from a crash, catch up, plan, and start every thread.

        `scheduling=False` is the desk's direct mode (no daemon running): only the playout of
        what `submit()` queues, no schedule jobs, no control socket.
        """
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:        # a read-only disk: the station airs all the same
            log.error("state folder %s cannot be created: %s", self.state_dir, exc)
        # First: one station per state folder, and desk commands know a daemon runs even when it is busy.
        self._daemon_lock = DaemonLock(self.state_dir)
        runtime = self._daemon_lock.acquire()
        self.recent.attach()
        self.recorder = Recorder(AsRunLog(log_path(self.state_dir)), self.clock.tz)
        self.prerenderer = Prerenderer(self.renderer, self._programmes_folder(runtime), clock=self.clock.now,
                                       retry_delay=self.render_retry_delay, on_rendered=self._rendered,
                                       memory=self.memory)
        # Every Icecast output and zone follows the air from the same clock (the output's own).
        followers = [sink.start() for sink in station_sinks(self._schedule.station)]
        self.playout = Playout(switch=Switch(self._open_output, followers=followers), clock=self.clock,
                               recorder=self.recorder,
                               renders=self.prerenderer, device_tries=self.device_tries,
                               device_retry_delay=self.device_retry_delay, on_aired=self._aired,
                               last_resort=self._from_parts, render_wait=self.render_wait)
        if self.speech_ahead and scheduling:
            self.ahead = SpeechAhead(station_speaker, busy=self.prerenderer.busy)
        self.planner = Planner(self._schedule, clock=self.clock, recorder=self.recorder, renders=self.prerenderer,
                               cue_entry=self.playout.push, in_use=self.playout.in_use,
                               output_spec=self.output_spec, cue_lead=self.cue_lead, horizon=self.horizon,
                               on_applied=self.ahead.update if self.ahead else None,
                               reload_budget=self.reload_budget, make_up_spacing=self.make_up_spacing)
        self.desk = Desk(clock=self.clock, job=self.planner.job, schedule=lambda: self.schedule,
                         renders=self.prerenderer, playout=self.playout, recorder=self.recorder,
                         reload=self._reload_now if scheduling else None)
        try:
            if scheduling and self.health_every is not None:
                self._start_health()
            if self.use_control:
                self.control = ControlServer(runtime / SOCKET_NAME, self.handle_request)
                self.control.start()
            self.playout.start()
            if scheduling:
                self.planner.start()
                self.watcher = ScheduleWatcher(lambda: self.schedule.source_files(), self.planner.reload_from_disk,
                                               interval=self.reload_interval)
                self.watcher.start()
            if self.ahead is not None:
                self.ahead.update(self.schedule)
                self.ahead.start()
        except BaseException:
            self.stop()
            raise
        if self.health is not None:
            self.health.start()
        log.info("station %s on air with output %s", self.schedule.station.name, self.output_spec)
        if scheduling:
            self.planner.keep_as_last_good(self.schedule)
            self.planner.log_next()

    def _reload_now(self) -> None:
        """The desk's `reload`: the watcher looks at the files now (a no-op before it runs)."""
        if self.watcher is not None:
            self.watcher.poke()

    def _from_parts(self, entry: Entry, error: str) -> RenderResult:
        """The playout's last resort: the entry's bulletins aired straight from their parts, no file written."""
        return aired_from_parts(entry.content, self.schedule, error, read_from=[self.prerenderer.memory / "state"])

    # -- health ----------------------------------------------------------------------------------
    def _start_health(self) -> None:
        """Every check once, before "on air": a failing output is said first, in one line with its fix."""
        override = self.output_spec if self.output_spec != self._schedule.station.output else None
        self.health = HealthWatch(
            lambda: self.schedule, self.source, outputs=station_outputs(self._schedule.station, override),
            clock=self.clock.now, render_state=self._render_state, busy=self._busy, on_air=self._on_air,
            counters=self.counters, asrun_fault=lambda: self.recorder.log.fault, every=self.health_every)
        self.recorder.note = self.health.aired_note
        self.recorder.log.on_fault = lambda: self.health.recheck("asrun")    # the fault in health at once
        self.health.start_up()

    def _render_state(self, occ: Occurrence) -> tuple[RenderState, str | None]:
        state, error = self.prerenderer.outcome(occ.key)
        return RenderState(state), error

    def _busy(self) -> bool:
        """On air, or cued to air within seconds: no output probe now."""
        status = self.playout.status()
        return bool(status["current"] or status["queue"])

    def _on_air(self) -> dict | None:
        current = self.playout.status()["current"]
        return {"key": current["key"]} if current else None

    def _rendered(self, result: RenderResult, seconds: float) -> None:
        self.counters.rendered(seconds, fallback=result.fallback_reason is not None)

    def _aired(self, entry: Entry, report: PlaybackReport) -> None:
        if report.error is not None:        # the playout reopens the output for the next try
            self.counters.reconnected(self.output_spec)
        if self.on_aired is not None:
            self.on_aired(entry, report)

    def _programmes_folder(self, runtime: Path) -> Path:
        """Where renders go: the state folder, or the runtime fallback when the state folder refuses writes."""
        folder = self.state_dir / "programmes"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
            return folder
        except OSError as exc:
            fallback = runtime / "programmes"
            log.error("programmes cannot be rendered into %s (%s): rendering into %s", folder, exc, fallback)
            return fallback

    def stop(self, fade: float = 0.5) -> None:
        """Fade what plays, log it as interrupted, stop every thread and worker, remove the socket."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        if self.health is not None:
            self.health.close()
        if self.ahead is not None:
            self.ahead.stop()
        if self.planner is not None:
            self.planner.stop()
        if self.watcher:
            self.watcher.stop()
        if self.control:
            self.control.close()
        if self.playout is not None:
            self.playout.stop(fade)
        if self.prerenderer:
            self.prerenderer.close()
        if self.playout is not None:
            self.playout.close()
        if self.recorder:
            self.recorder.close()
        if self._daemon_lock is not None:
            self._daemon_lock.release()
        self.recent.detach()
        log.info("station stopped")

    # -- the parts' entry points, kept here for the CLI, the tests and the benchmark -----------
    def submit(self, request: Request) -> Entry:
        """Queue a desk request now; an emergency cuts in as soon as its programme is rendered."""
        return self.desk.submit(request)

    def handle_request(self, request: dict) -> dict:
        """A control-socket request -> a reply dict (raises OnAirError for the client to show).

        `status` adds the health report ("state", "checks", "on_air", "next", "counters") and the
        last warnings and errors ("errors", newest first) to the desk's "current", "queue", "asrun"
        and "schedule_version".
        """
        reply = self.desk.handle(request)
        if request.get("cmd") == "status":
            reply["errors"] = self.recent.to_json()
            if self.health is not None:
                reply.update(self.health.report(self._on_air()))
        return reply

    def reload(self, schedule: Schedule) -> None:
        """Swap in an edited schedule: jobs replaced, unchanged pre-renders kept."""
        self.planner.apply(schedule)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing plays or waits (the desk's direct mode)."""
        return self.playout.wait_idle(timeout)


def play_direct(schedule: Schedule, request: Request, *, output: str | None = None,
                renderer: Renderer = programme_renderer, timeout: float | None = None) -> list:
    """The desk without a daemon: render and play `request` in this process; returns its as-run rows."""
    station = Station(schedule, output=output, renderer=renderer, control=False)
    station.start(scheduling=False)
    try:
        entry = station.submit(request)
        station.wait_idle(timeout)
        return [row for row in station.asrun.history(entry.scheduled - timedelta(seconds=1))
                if row.key == entry.key]
    finally:
        station.stop()


__all__ = ["Station", "play_direct"]
