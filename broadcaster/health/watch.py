"""The daemon's side of health: checks at start-up, every minute, before each pre-render, on demand.

In: what the daemon knows (the schedule in force, its outputs, its renders, what plays) as
callables, and a clock. Out: one log line per state change (`StateTracker`), the `status` reply,
a note for the as-run row of a broadcast that aired while a check was failing, and `/metrics`.

Cheap checks (disk, as-run log, clock, voice, schedule, next) run every minute on a thread of
their own, and at once when the daemon notices a fault a check watches (`recheck`: the as-run
log starting or ceasing to refuse writes); output probes run at start-up and before each
pre-render, never while an output is on air. The schedule file is hashed each minute and validated only when its bytes change, so the
check sees a broken edit (and the errors keeping it out) without re-validating every minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from broadcaster import i18n
from broadcaster.asrun.log import log_path
from broadcaster.health.base import CheckStatus, State, StateTracker
from broadcaster.health.checks import CHEAP, Monitor, RenderLookup, ScheduleSource, file_version
from broadcaster.health.metrics import Counters, MetricsServer, exposition
from broadcaster.occurrences import occurrences
from broadcaster.schedule.model import Schedule

log = logging.getLogger(__name__)

EVERY = 60.0                    # seconds between cheap checks
STORE_NAME = "health.json"      # in state_dir: each check's last state and since

i18n.register({
    "health.metrics_failed": ("Không mở được /metrics tại {host}:{port} ({detail}): đổi station.metrics.listen.",
                              "Cannot serve /metrics on {host}:{port} ({detail}): change station.metrics.listen."),
    "health.aired_while_failing": ("Phát khi kiểm tra đang hỏng: {checks}.", "Aired while failing: {checks}."),
})


class HealthWatch:
    """Health checks for a running station.

    schedule: the schedule in force now (the planner's; a reload replaces it).
    source: where the schedule at start-up came from (the file, or the last good copy).
    busy: True while a programme is on air or cued (an output probe then waits).
    on_air: what plays now, for `/metrics` (the `status` reply passes its own).
    """

    def __init__(self, schedule: Callable[[], Schedule], source: ScheduleSource, *, outputs: Sequence[str],
                 clock: Callable[[], datetime], render_state: RenderLookup | None = None,
                 busy: Callable[[], bool] = lambda: False, on_air: Callable[[], dict | None] = lambda: None,
                 counters: Counters | None = None,
                 asrun_fault: Callable[[], object | None] = lambda: None,
                 reachable: Callable[[], str | None] | None = None,
                 clock_check: Callable[[], object] | None = None, every: float = EVERY) -> None:
        self._schedule = schedule
        self.on_air = on_air
        self.clock = clock
        self.counters = counters or Counters()
        self.every = every
        in_force = schedule()
        self._in_force = in_force
        self._source = source
        self._validated: dict[str, tuple[str, ...]] = {}      # file sha256 -> its errors (cache)
        store = in_force.station.state_dir / STORE_NAME
        options = {k: v for k, v in (("reachable", reachable), ("clock_check", clock_check)) if v is not None}
        self.monitor = Monitor(in_force, source, outputs=outputs, clock=clock,
                               tracker=StateTracker(clock, store=store), render_state=render_state,
                               busy=lambda spec: busy(), asrun_fault=asrun_fault, **options)
        self._lock = threading.Lock()           # one run of the checks at a time
        self._stop = threading.Event()
        self._wake = threading.Event()          # `recheck` asked for checks before the minute is up
        self._soon: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="health", daemon=True)
        self._server: MetricsServer | None = None

    # -- when checks run -----------------------------------------------------------------------
    def start_up(self) -> list[CheckStatus]:
        """Every check but `next` once, before the daemon starts its parts (failing ones log one line each)."""
        with self._lock:
            self._follow_schedule()
            return self.monitor.check_outputs() + self.monitor.check_cheap([n for n in CHEAP if n != "next"])

    def start(self) -> None:
        """`next` (the daemon has planned its renders by now), then the minute checks, and
        `/metrics` when `station.metrics.listen` asks for it."""
        with self._lock:
            self.monitor.check_cheap(["next"])
        self._thread.start()
        listen = self._in_force.station.metrics_listen
        if listen is not None:
            try:
                self._server = MetricsServer(listen[0], listen[1], self.metrics)
            except OSError as exc:      # a port in use must not keep the station off the air
                log.error("%s", i18n.tr("health.metrics_failed", host=listen[0], port=listen[1], detail=exc))
                return
            self._server.start()

    def minute(self) -> list[CheckStatus]:
        """The cheap checks, and the output probes when a pre-render is due before the next run."""
        with self._lock:
            self._follow_schedule()
            statuses = self.monitor.check_cheap(CHEAP)
            if self._prerender_due():
                statuses += self.monitor.check_outputs()
            return statuses

    def _prerender_due(self) -> bool:
        """Whether a broadcast's pre-render starts before the next run (its outputs are probed now)."""
        schedule, now = self._in_force, self.clock()
        ahead = now + schedule.station.prerender
        return any(now <= occ.start - schedule.station.prerender < now + timedelta(seconds=self.every)
                   for occ in occurrences(schedule, ahead, ahead + timedelta(seconds=self.every)))

    def before_prerender(self) -> list[CheckStatus]:
        """Output probes now (the minute run calls them before each pre-render: time to plug the
        cable back in before air)."""
        with self._lock:
            return self.monitor.check_outputs()

    def recheck(self, name: str) -> None:
        """Run the cheap check `name` now on the health thread, not at the next minute.

        Safe to call from any thread holding any lock: it only wakes the health thread.
        """
        self._soon.add(name)
        self._wake.set()

    def _loop(self) -> None:
        due = time.monotonic() + self.every
        while not self._stop.is_set():
            self._wake.wait(max(0.0, due - time.monotonic()))
            if self._stop.is_set():
                return
            try:
                if self._wake.is_set():
                    self._wake.clear()
                    names, self._soon = self._soon, set()
                    with self._lock:
                        self.monitor.check_cheap([n for n in CHEAP if n in names])
                if time.monotonic() >= due:
                    due = time.monotonic() + self.every
                    self.minute()
            except Exception:  # the checks must never take the daemon down
                log.exception("health checks failed")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._server is not None:
            self._server.close()

    # -- the schedule in force -----------------------------------------------------------------
    def _follow_schedule(self) -> None:
        """Notice a reload (a new schedule object) and a broken edit (the file's bytes changed)."""
        from broadcaster.schedule import check_schedule

        schedule = self._schedule()
        version = file_version(schedule.path)
        if schedule is not self._in_force:
            self._in_force = schedule
            self._source = ScheduleSource(schedule.path, "file", version=version)
        elif version is not None and version != self._source.version:
            if version not in self._validated:
                _, problems = check_schedule(schedule.path)
                self._validated = {version: tuple(p.format() for p in problems if p.severity == "error")}
            errors = self._validated[version]
            if errors:
                self._source = ScheduleSource(schedule.path, "last-good", errors)
            # No errors: the watcher is about to reload it, and the next run sees the new object.
        self.monitor.set_schedule(schedule, self._source)

    # -- what the daemon asks ------------------------------------------------------------------
    def aired_note(self) -> str | None:
        """For the as-run row of a broadcast airing now: which checks are failing, if any.

        `next` is left out: it is about this very broadcast, which has just aired.
        """
        failing = [s.name for s in self.monitor.statuses() if s.state is State.FAILING and s.name != "next"]
        return i18n.tr("health.aired_while_failing", checks=", ".join(failing)) if failing else None

    def report(self, on_air: dict | None) -> dict:
        """The health part of the control socket's `status` reply."""
        report = self.monitor.report(on_air)
        report["counters"] = self.counters.to_json()
        return report

    def metrics(self) -> str:
        return exposition(self.report(self.on_air()), log_path(self._in_force.station.state_dir))

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        return self._server.address if self._server is not None else None


__all__ = ["HealthWatch", "STORE_NAME"]
