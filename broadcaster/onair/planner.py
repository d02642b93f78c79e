"""Planning: the schedule in force -> render jobs and cues on the playout queue, at their times.

In: the validated `Schedule` (swapped by `apply()` on a hot reload), the as-run log's answers
(through the `Recorder`) and the station clock. Out: render requests to the `Prerenderer`,
`Entry` objects handed to `cue_entry` (the playout's `push`), and the as-run rows of occurrences
that never reach the air (missed, failed to cue).

How an occurrence travels through here:
1. at start-up, `start()` marks rows a crash left playing as interrupted, catches up what was
   missed within `catch_up` and logs the older ones missed (`policy.plan_startup`);
2. `plan()` (at start-up, every `REPLAN_EVERY`, after a reload) expands the schedule `horizon`
   ahead and adds APScheduler date jobs: a render job `station.prerender` before air and a cue
   job `cue_lead` before air;
3. the cue job (`cue()`) asks `policy.decide_cue` whether it airs, is missed or already aired,
   and hands an `Entry` with `start_at` = the scheduled second to the playout.
The decisions themselves are pure functions in `policy`; this module only acts on them.

Lock: `lock` (reentrant) guards `schedule`, `_cued` and the set of render/cue jobs. It is the
first lock of the daemon: while holding it the planner may call the prerenderer (its lock is
next), the playout's `in_use()` (its `_cond` after that) and the recorder (the as-run log's
lock, last). Nobody calls into the planner while holding one of those.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from broadcaster import i18n, wav
from broadcaster.asrun.log import Status
from broadcaster.makeup import Spacing, facts_since, plan_make_ups
from broadcaster.occurrences import Occurrence, occurrences
from broadcaster.onair import policy, relays
from broadcaster.onair.clock import Clock
from broadcaster.onair.queue import Entry, Kind, label_for
from broadcaster.onair.recorder import Recorder
from broadcaster.onair.reload import RELOAD_BUDGET, validate_off_path
from broadcaster.onair.render import Prerenderer, RenderJob
from broadcaster.output import FILE_PREFIX, open_output
from broadcaster.output.icecast import routed_sinks
from broadcaster.schedule.model import Bulletin, Priority, Schedule
from broadcaster.schedule.snapshot import save_snapshot

log = logging.getLogger(__name__)

CUE_LEAD = timedelta(seconds=3)         # the cue job fires this long before air
HORIZON = timedelta(hours=2)            # how far ahead jobs are planned
REPLAN_EVERY = timedelta(minutes=5)
LOOK_BACK = timedelta(days=7)           # how far back a restart looks for missed occurrences
NEXT_LOOKAHEAD = timedelta(days=8)      # how far ahead the start-up log line looks for the next slot

i18n.register({
    "onair.missed_note": ("Không phát: chương trình phát thanh không chạy hoặc quá trễ quá {minutes} phút.",
                          "Not aired: the station was not running, or it was over {minutes} min late."),
    "onair.missed_doubt": ("Không phát bù: nhật ký phát thanh bị hỏng ({reason}) nên không biết buổi này đã phát "
                           "chưa; không phát lại để tránh phát hai lần.",
                           "Not caught up: the as-run log was damaged ({reason}), so whether this aired is "
                           "unknown; not aired again so it never airs twice."),
    "onair.recovered_from_file": ("Đã phát (theo tệp {path}; nhật ký phát thanh bị hỏng và được thay).",
                                  "Aired (per the file {path}; the as-run log was damaged and replaced)."),
    "onair.reload_failed": ("Lịch mới có lỗi, vẫn chạy lịch cũ.",
                            "The edited schedule has errors; the last good schedule keeps running."),
})


class Planner:
    """Turns the schedule into cues at their times; `start()` plans and runs APScheduler, `apply()` reloads."""

    def __init__(self, schedule: Schedule, *, clock: Clock, recorder: Recorder, renders: Prerenderer,
                 cue_entry: Callable[[Entry], object], in_use: Callable[[], set[str]],
                 output_spec: str | None = None, cue_lead: timedelta = CUE_LEAD, horizon: timedelta = HORIZON,
                 on_applied: Callable[[Schedule], None] | None = None,
                 reload_budget: float = RELOAD_BUDGET, make_up_spacing: Spacing = Spacing()) -> None:
        self.schedule = schedule
        self.on_applied = on_applied        # told of every schedule `apply()` swaps in (speech ahead)
        self.output_spec = output_spec or schedule.station.output   # a file output's files are evidence
        self.clock = clock
        self.recorder = recorder
        self.renders = renders
        self.cue_entry = cue_entry
        self.in_use = in_use
        self.cue_lead = cue_lead
        self.horizon = horizon
        self.reload_budget = reload_budget
        self.lock = threading.RLock()
        self.scheduler = BackgroundScheduler(
            timezone=clock.tz,
            # Explicit and unlimited: APScheduler's default of 1 s silently drops a job the process
            # was late for (a stall, a suspend, a clock step); a late cue still runs and
            # policy.decide_cue airs it within catch_up or logs it missed.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._cued: dict[str, datetime] = {}   # occurrence key -> its time; pruned as days pass
        self._make_ups: dict[str, Occurrence] = {}   # make-ups with jobs and no as-run row yet
        self.make_up_spacing = make_up_spacing
        self._stopping = False

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Recover from a crash, catch up, plan the coming hours and start APScheduler."""
        now = self.clock.now()
        for row in self.recorder.recover(now):
            log.warning("programme %s was cut by a crash or power cut (logged as interrupted)", row.key)
        self.startup(now)
        self.scheduler.add_job(self.replan, "interval", seconds=REPLAN_EVERY.total_seconds(), id="plan")
        self.scheduler.start()

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @staticmethod
    def keep_as_last_good(schedule: Schedule) -> None:
        """Save the schedule as written for a start-up whose schedule.yaml has errors (see schedule/snapshot)."""
        try:
            save_snapshot(schedule)
        except OSError as exc:
            log.warning("could not keep a copy of the last good schedule: %s", exc)

    def log_next(self) -> None:
        """Tell the operator what airs next, so a wrong date or window shows at once."""
        now = self.clock.now()
        upcoming = occurrences(self.schedule, now, now + NEXT_LOOKAHEAD)
        if upcoming:
            log.info("next broadcast: %s at %s", upcoming[0].slot.name, upcoming[0].start.isoformat())
        else:
            log.warning("nothing is scheduled in the next %s days", NEXT_LOOKAHEAD.days)

    # -- render jobs ---------------------------------------------------------------------------
    def job(self, key: str, title: str, bulletins: tuple[Bulletin, ...]) -> RenderJob:
        """A render job against the schedule in force (the desk's requests use it too)."""
        with self.lock:
            return RenderJob(key, title, bulletins, self.schedule)

    def _occ_job(self, occ: Occurrence) -> RenderJob:
        return self.job(occ.key, occ.slot.name, tuple(self.schedule.bulletins[b] for b in occ.bulletins))

    def _order(self, occ: Occurrence) -> int:
        for index, slot in enumerate(self.schedule.slots):
            if slot.name == occ.slot.name:
                return index
        return len(self.schedule.slots)

    def prerender(self, occ: Occurrence) -> Future:
        return self.renders.request(self._occ_job(occ), deadline=occ.start)

    # -- planning ------------------------------------------------------------------------------
    def startup(self, now: datetime) -> None:
        """Catch up what a restart missed within `catch_up`, log older misses, then plan."""
        catch_up = self.schedule.station.catch_up
        rows = self.recorder.history(now - LOOK_BACK, now + self.horizon)
        since = min((r.scheduled for r in rows), default=None)   # when this log began (within LOOK_BACK)
        window_start = min(now - catch_up, since) if since else now - catch_up
        window_start = max(window_start, now - LOOK_BACK)
        found = occurrences(self.schedule, window_start, now + self.horizon)
        done = self.recorder.done_keys(window_start)
        replaced = self.recorder.replaced
        if replaced is not None:
            done |= self._aired_files(found, done, now)
        plan = policy.plan_startup(found, now=now, catch_up=catch_up, done=done,
                                   recorded={r.key for r in rows}, since=since, trusted=replaced is None)
        for occ in plan.missed:
            self._record_missed(occ)
        for occ in plan.doubtful:
            self._record_missed(occ, note=i18n.tr("onair.missed_doubt", reason=replaced.reason))
        for occ in plan.catch_up:
            log.warning("catching up %s (scheduled %s, missed while the station was off)",
                        occ.key, occ.start.isoformat())
            self.cue(occ, urgent=True)
        with self.lock:
            self.plan(now)

    def _record_missed(self, occ: Occurrence, note: str | None = None) -> None:
        minutes = int(self.schedule.station.catch_up.total_seconds() // 60)
        note = note or i18n.tr("onair.missed_note", minutes=minutes)
        self.recorder.occurrence(occ, occ.priority(self.schedule), status=Status.MISSED, error=note)
        self._cued[occ.key] = occ.start
        log.error("missed %s (scheduled %s): %s", occ.key, occ.start.isoformat(), note)

    def _aired_files(self, found: list[Occurrence], done: set[str], now: datetime) -> set[str]:
        """Keys a file output shows as aired, logged as played: evidence when the as-run log was lost."""
        if not self.output_spec.startswith(FILE_PREFIX):
            return set()
        output = open_output(self.output_spec, base=self.schedule.folder)
        keys = set()
        for occ in found:
            path = output.written(label_for(occ.start, occ.slot.name)) if occ.start <= now else None
            if occ.key in done or path is None:
                continue
            ended = datetime.fromtimestamp(path.stat().st_mtime, self.clock.tz)
            self.recorder.occurrence(occ, occ.priority(self.schedule), status=Status.PLAYED,
                                     started=ended - timedelta(seconds=wav.seconds(path)), ended=ended,
                                     error=i18n.tr("onair.recovered_from_file", path=path))
            log.warning("%s aired before the as-run log was lost (%s): logged as played", occ.key, path)
            keys.add(occ.key)
        return keys

    def plan(self, now: datetime, since: datetime | None = None) -> set[str]:
        """Add render and cue jobs for the occurrences from `since` (default now) not yet cued; returns their keys.

        Caller holds `lock`.
        """
        since = min(since or now, now)
        found = occurrences(self.schedule, since, now + self.horizon)
        found += [occ for occ in self._plan_make_ups(now) if occ.start < now + self.horizon]
        done = self.recorder.done_keys(since - timedelta(minutes=1))
        forget_before = now - LOOK_BACK
        self._cued = {key: start for key, start in self._cued.items() if start >= forget_before}
        keys = set()
        for occ in found:
            keys.add(occ.key)
            if occ.key in self._cued or occ.key in done:
                continue
            lead = self.cue_lead
            if self._relay(occ) is not None:
                lead = max(lead, timedelta(seconds=relays.OPEN_LEAD))   # opened and buffered before its second, never rendered
            else:
                render_at = occ.start - self.schedule.station.prerender
                if render_at <= now:
                    self.prerender(occ)
                else:
                    self.scheduler.add_job(self.prerender, DateTrigger(render_at), args=[occ],
                                           id=f"render:{occ.key}", replace_existing=True)
            self.scheduler.add_job(self.cue, DateTrigger(max(occ.start - lead, now)), args=[occ],
                                   id=f"cue:{occ.key}", replace_existing=True)
            if occ.make_up:
                self._make_ups[occ.key] = occ
        return keys | set(self._make_ups)

    def _plan_make_ups(self, now: datetime) -> list[Occurrence]:
        """Make-ups for campaigns behind their target (see broadcaster.makeup); caller holds `lock`."""
        since = facts_since(self.schedule, now.astimezone(self.clock.tz).date())
        if since is None:
            self._make_ups.clear()
            return []
        rows = self.recorder.facts(datetime.combine(since, datetime.min.time(), tzinfo=self.clock.tz),
                                   now + LOOK_BACK)
        logged = {row.key for row in rows}
        self._make_ups = {key: occ for key, occ in self._make_ups.items()
                          if key not in logged and occ.make_up in self.schedule.campaigns
                          and occ.start >= now - LOOK_BACK}
        return plan_make_ups(self.schedule, rows, now, cued=self._make_ups.values(), spacing=self.make_up_spacing)

    def replan(self) -> None:
        with self.lock:
            self.plan(self.clock.now())

    def cue(self, occ: Occurrence, urgent: bool = False) -> Entry | None:
        """The cue job: put the occurrence on the queue for its second (or now, when catching up)."""
        with self.lock:
            if occ.key in self._cued or self._stopping:
                return None
            # A reload may have run since this job was planned: air what the schedule says now.
            current = self._current_occurrence(occ)
            if current is None:
                log.info("%s was removed by a schedule edit before its cue", occ.key)
                return None
            occ = current
            now = self.clock.now()
            decision = policy.decide_cue(occ.key, occ.start, now=now, catch_up=self.schedule.station.catch_up,
                                         done=self.recorder.done_keys(occ.start - timedelta(seconds=1)))
            if decision is policy.CueDecision.ALREADY_AIRED:
                self._cued[occ.key] = occ.start
                self.renders.discard(occ.key)
                return None
            if decision is policy.CueDecision.MISSED:
                self._record_missed(occ)
                self.renders.discard(occ.key)
                return None
            try:
                priority = occ.priority(self.schedule)
                relay, source = self._relay(occ), None
                if relay is not None:
                    source, audio = relays.open_relay(self.schedule, relay,
                                                      ready_wait=max(0.0, (occ.start - now).total_seconds()))
                else:
                    audio = self.renders.request(self._occ_job(occ), deadline=occ.start, urgent=True)
                kind = Kind.MAKE_UP if occ.make_up else Kind.SCHEDULED
                entry = Entry(key=occ.key, kind=kind, slot=occ.slot.name, bulletins=occ.bulletins,
                              priority=priority, scheduled=occ.start, audio=audio,
                              start_at=occ.start if occ.start > now else None, order=self._order(occ),
                              content=tuple(self.schedule.bulletins[b] for b in occ.bulletins),
                              sinks=routed_sinks(self.schedule.station, occ.slot.zones,
                                                 emergency=priority >= Priority.EMERGENCY),
                              relay=source)
            except Exception as exc:   # never drop an occurrence without a row
                log.exception("could not cue %s", occ.key)
                self.recorder.occurrence(occ, occ.priority(self.schedule), status=Status.FAILED, ended=now,
                                         error=str(exc) or repr(exc))
                self._cued[occ.key] = occ.start
                return None
            self._cued[occ.key] = occ.start
        self.cue_entry(entry)
        return entry

    def _relay(self, occ: Occurrence) -> Bulletin | None:
        """The occurrence's relay bulletin (a relay slot plays it alone), or None."""
        return relays.relay_of(tuple(self.schedule.bulletins[b] for b in occ.bulletins))

    def _current_occurrence(self, occ: Occurrence) -> Occurrence | None:
        """The occurrence with `occ`'s key in the schedule in force now, if it still exists.

        A make-up stands while its campaign still makes up (an edit may have switched it off).
        """
        if occ.make_up:
            campaign = self.schedule.campaigns.get(occ.make_up)
            return occ if campaign is not None and campaign.make_up else None
        second = timedelta(seconds=1)
        return next((o for o in occurrences(self.schedule, occ.start, occ.start + second) if o.key == occ.key), None)

    # -- hot reload ----------------------------------------------------------------------------
    def reload_from_disk(self) -> None:
        """The file watcher's callback: apply schedule.yaml if it is valid, keep the old one if not.

        The file is checked in a child process (`validate_off_path`), off the playout and this
        planner's lock: the last good schedule airs and plans until the check is done or given up.
        """
        noticed = self.clock.now()
        result = validate_off_path(self.schedule.path, budget=self.reload_budget)
        log.info("edited schedule checked in %.1f s (peak %d MB)", result.seconds, result.peak_kb // 1024)
        schedule, problems = result.schedule, result.problems
        errors = [p for p in problems if p.severity == "error"]
        if schedule is None or errors:
            for problem in errors or problems:
                log.error("%s", problem.format())
            log.error("%s", i18n.tr("onair.reload_failed"))
            return
        self.apply(schedule, since=noticed)

    def apply(self, schedule: Schedule, since: datetime | None = None) -> None:
        """Swap in an edited schedule: jobs replaced, unchanged pre-renders kept.

        `since` is when the edit was noticed: a slot of the new schedule that fell due while it
        was being checked is cued at once, so it airs as a catch-up or gets its `missed` row.
        """
        with self.lock:
            old = self.schedule
            if schedule.station.state_dir != old.station.state_dir or schedule.station.output != old.station.output:
                log.warning("state_dir and output changes take effect at the next restart")
            self.schedule = dataclasses.replace(
                schedule, station=dataclasses.replace(schedule.station, state_dir=old.station.state_dir))
            for job in self.scheduler.get_jobs():
                if job.id.startswith(("render:", "cue:")):
                    job.remove()
            self._make_ups.clear()      # their jobs are gone: planned again against the edited schedule
            keys = self.plan(self.clock.now(), since=since) | self.in_use()
            self.renders.keep_only(keys)
        log.info("schedule reloaded: %s slots, %s bulletins", len(schedule.slots), len(schedule.bulletins))
        self.keep_as_last_good(schedule)
        self.log_next()
        if self.on_applied is not None:
            self.on_applied(self.schedule)
