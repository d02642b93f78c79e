"""The station daemon: schedule -> programmes on air at their second, and an as-run row for each.

In: a validated `Schedule` (replaced on hot reload), desk requests (control socket). Out: sound
through the station's `Output` and rows in the as-run log.

How an occurrence travels:
1. planning (at start-up, every few minutes, after a reload) expands the schedule a couple of
   hours ahead and adds APScheduler date jobs: a render job `station.prerender` before air and a
   cue job `CUE_LEAD` before air;
2. the render job hands the programme to the `Prerenderer` (worker processes, retries, offline
   fallback);
3. the cue job puts an `Entry` on the priority queue with `start_at` = the scheduled second;
4. the one playout thread takes the best entry about a second before its start (so everything
   due in the same second is on the queue to be ranked) and calls `output.play(start_at=...)`,
   which opens the stream early and starts on the second; an emergency stops what plays
   (`output.stop(fade=0.5)`) and the cut programme goes back on the queue to air again from its
   beginning.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from broadcaster import i18n
from broadcaster.asrun.log import AsRunLog, Status, log_path
from broadcaster.errors import BroadcasterError, OnAirError, OutputError
from broadcaster.occurrences import Occurrence, occurrences
from broadcaster.onair import policy
from broadcaster.onair.control import SOCKET_NAME, ControlServer, DaemonLock
from broadcaster.onair.queue import Entry, Kind, PlayQueue, label_for
from broadcaster.onair.reload import ScheduleWatcher
from broadcaster.onair.render import Prerenderer, Renderer, RenderJob, RenderResult, programme_renderer
from broadcaster.output import FILE_PREFIX, Output, PlaybackReport, open_output, wav_seconds
from broadcaster.schedule.model import Bulletin, Priority, Schedule
from broadcaster.schedule.snapshot import save_snapshot

log = logging.getLogger(__name__)

CUE_LEAD = timedelta(seconds=3)         # the cue job fires this long before air
PLAY_LEAD = timedelta(seconds=1)        # the playout thread commits to an entry this long before air
HORIZON = timedelta(hours=2)            # how far ahead jobs are planned
REPLAN_EVERY = timedelta(minutes=5)
LOOK_BACK = timedelta(days=7)           # how far back a restart looks for missed occurrences
NEXT_LOOKAHEAD = timedelta(days=8)      # how far ahead the start-up log line looks for the next slot

i18n.register({
    "onair.unknown_target": ("Không có bản tin hay buổi phát nào tên {target!r}. Có: {known}",
                             "No bulletin or slot named {target!r}. Known: {known}"),
    "onair.unknown_bulletin": ("Không có bản tin {target!r}. Có: {known}",
                               "No bulletin named {target!r}. Known: {known}"),
    "onair.empty_emergency": ("Tin khẩn cấp cần nội dung (văn bản) hoặc --bulletin.",
                              "An emergency needs a text or --bulletin."),
    "onair.emergency_title": ("Tin khẩn cấp", "Emergency bulletin"),
    "onair.queued": ("Đã xếp lịch phát {what} (mức {priority}).", "Queued {what} (level {priority})."),
    "onair.missed_note": ("Không phát: chương trình phát thanh không chạy hoặc quá trễ quá {minutes} phút.",
                          "Not aired: the station was not running, or it was over {minutes} min late."),
    "onair.missed_doubt": ("Không phát bù: nhật ký phát thanh bị hỏng ({reason}) nên không biết buổi này đã phát "
                           "chưa; không phát lại để tránh phát hai lần.",
                           "Not caught up: the as-run log was damaged ({reason}), so whether this aired is "
                           "unknown; not aired again so it never airs twice."),
    "onair.recovered_from_file": ("Đã phát (theo tệp {path}; nhật ký phát thanh bị hỏng và được thay).",
                                  "Aired (per the file {path}; the as-run log was damaged and replaced)."),
    "onair.cut_by": ("Bị ngắt bởi tin khẩn cấp {key}; sẽ phát lại từ đầu.",
                     "Cut by emergency {key}; will air again from the beginning."),
    "onair.stopped_note": ("Bị ngắt khi dừng chương trình phát thanh.", "Cut when the station stopped."),
    "onair.device_try": ("{error} (lần thử {attempt}/{tries})", "{error} (try {attempt}/{tries})"),
    "onair.offline_voice": ("Đọc bằng giọng ngoại tuyến {engine}: {reason}",
                            "Spoken by the offline voice {engine}: {reason}"),
    "onair.render_cancelled": ("Chương trình chưa dựng xong khi đến giờ phát.",
                               "The programme was not rendered in time."),
    "onair.reload_failed": ("Lịch mới có lỗi, vẫn chạy lịch cũ.",
                            "The edited schedule has errors; the last good schedule keeps running."),
    "onair.unknown_command": ("Lệnh không rõ: {cmd!r}", "Unknown command: {cmd!r}"),
    "onair.level.normal": ("thường", "normal"),
    "onair.level.priority": ("ưu tiên", "priority"),
    "onair.level.emergency": ("khẩn cấp", "emergency"),
})


@dataclasses.dataclass(frozen=True)
class Request:
    """A desk request, validated against the schedule: what to air and how urgently."""

    kind: Kind
    name: str                     # slot column of the as-run row: the slot, bulletin or "emergency"
    bulletins: tuple[Bulletin, ...]
    priority: Priority


def resolve_play(schedule: Schedule, target: str) -> Request:
    """`broadcaster play TARGET`: a bulletin id (checked first) or a slot name."""
    if target in schedule.bulletins:
        bulletin = schedule.bulletins[target]
        return Request(Kind.MANUAL, target, (bulletin,), bulletin.priority)
    for slot in schedule.slots:
        if slot.name == target:
            bulletins = tuple(schedule.bulletins[b] for b in slot.play)
            return Request(Kind.MANUAL, target, bulletins, policy.priority_of(bulletins))
    known = ", ".join(sorted(schedule.bulletins) + [s.name for s in schedule.slots])
    raise OnAirError(i18n.tr("onair.unknown_target", target=target, known=known))


def resolve_emergency(schedule: Schedule, *, text: str | None, bulletin: str | None,
                      title: str | None, now: datetime) -> Request:
    """`broadcaster emergency`: ad-hoc text, or a schedule bulletin raised to emergency level."""
    if bulletin:
        if bulletin not in schedule.bulletins:
            raise OnAirError(i18n.tr("onair.unknown_bulletin", target=bulletin,
                                     known=", ".join(sorted(schedule.bulletins))))
        item = dataclasses.replace(schedule.bulletins[bulletin], priority=Priority.EMERGENCY)
    else:
        if not text or not text.strip():
            raise OnAirError(i18n.tr("onair.empty_emergency"))
        item = Bulletin(id=f"emergency-{now:%Y%m%d-%H%M%S}", title=title or i18n.tr("onair.emergency_title"),
                        text=text.strip(), priority=Priority.EMERGENCY)
    return Request(Kind.EMERGENCY, "emergency", (item,), Priority.EMERGENCY)


class Station:
    """The daemon. `start()`, then it runs on its own threads until `stop()`.

    `renderer` is the programme renderer run in the worker processes (picklable; tests pass a
    tone renderer); `output` overrides `station.output`; the retry and timing knobs exist so
    tests can keep to seconds what takes minutes on air.
    """

    def __init__(self, schedule: Schedule, *, output: str | None = None, renderer: Renderer = programme_renderer,
                 cue_lead: timedelta = CUE_LEAD, horizon: timedelta = HORIZON,
                 device_tries: int = 3, device_retry_delay: float = 3.0,
                 render_retry_delay: timedelta = timedelta(seconds=30), reload_interval: float = 1.0,
                 control: bool = True,
                 on_aired: Callable[[Entry, PlaybackReport], None] | None = None) -> None:
        self.schedule = schedule
        self.tz = schedule.station.timezone
        self.output_spec = output or schedule.station.output
        self.renderer = renderer
        self.cue_lead = cue_lead
        self.horizon = horizon
        self.device_tries = device_tries
        self.device_retry_delay = device_retry_delay
        self.render_retry_delay = render_retry_delay
        self.reload_interval = reload_interval
        self.use_control = control
        self.on_aired = on_aired          # observer of every playback report (benchmark, monitoring)
        self.state_dir = schedule.station.state_dir
        self.asrun: AsRunLog | None = None
        self.prerenderer: Prerenderer | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.watcher: ScheduleWatcher | None = None
        self.control: ControlServer | None = None
        self._daemon_lock: DaemonLock | None = None
        self._output: Output | None = None
        self._output_lock = threading.Lock()
        self._queue = PlayQueue()
        self._cond = threading.Condition()
        self._current: Entry | None = None
        self._cued: dict[str, datetime] = {}   # occurrence key -> its time; pruned as days pass
        self._timers: list[threading.Timer] = []
        self._stopping = False
        self._playout = threading.Thread(target=self._playout_loop, name="playout", daemon=True)
        self._lock = threading.RLock()   # schedule swaps and planning

    # -- clock ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(self.tz)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, *, scheduling: bool = True) -> None:
        """Open the log, recover from a crash, catch up, plan, and start every thread.

        `scheduling=False` is the desk's direct mode (no daemon running): only the playout of
        what `submit()` queues, no schedule, no control socket.
        """
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:        # a read-only disk: the station airs all the same
            log.error("state folder %s cannot be created: %s", self.state_dir, exc)
        # First: one station per state folder, and desk commands know a daemon runs even when it is busy.
        self._daemon_lock = DaemonLock(self.state_dir)
        runtime = self._daemon_lock.acquire()
        self.asrun = AsRunLog(log_path(self.state_dir))
        self.prerenderer = Prerenderer(self.renderer, self._programmes_folder(runtime), clock=self.now,
                                       retry_delay=self.render_retry_delay)
        try:
            if self.use_control:
                self.control = ControlServer(runtime / SOCKET_NAME, self.handle_request)
                self.control.start()
            self._playout.start()
            if scheduling:
                self._start_scheduling()
        except BaseException:
            self.stop()
            raise
        log.info("station %s on air with output %s", self.schedule.station.name, self.output_spec)
        if scheduling:
            self._keep_as_last_good(self.schedule)
            self._log_next()

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

    @staticmethod
    def _keep_as_last_good(schedule: Schedule) -> None:
        """Save the schedule for a start-up whose schedule.yaml has errors (see schedule/snapshot)."""
        try:
            save_snapshot(schedule)
        except OSError as exc:
            log.warning("could not keep a copy of the last good schedule: %s", exc)

    def _log_next(self) -> None:
        """Tell the operator what airs next, so a wrong date or window shows at once."""
        now = self.now()
        upcoming = occurrences(self.schedule, now, now + NEXT_LOOKAHEAD)
        if upcoming:
            log.info("next broadcast: %s at %s", upcoming[0].slot.name, upcoming[0].start.isoformat())
        else:
            log.warning("nothing is scheduled in the next %s days", NEXT_LOOKAHEAD.days)

    def _start_scheduling(self) -> None:
        now = self.now()
        recovered = self.asrun.recover(now)
        for row in recovered:
            log.warning("programme %s was cut by a crash or power cut (logged as interrupted)", row.key)
        self.scheduler = BackgroundScheduler(
            timezone=self.tz,
            # Explicit: APScheduler's default of 1 s silently drops a job the process was late for.
            # Explicit and unlimited: APScheduler's default of 1 s silently drops a job the process
            # was late for (a stall, a suspend, a clock step); a late cue still runs and
            # policy.decide_cue airs it within catch_up or logs it missed.
            job_defaults={"misfire_grace_time": None,
                          "coalesce": True, "max_instances": 1})
        self._startup(now)
        self.scheduler.add_job(self._replan, "interval", seconds=REPLAN_EVERY.total_seconds(), id="plan")
        self.scheduler.start()
        self.watcher = ScheduleWatcher(lambda: self.schedule.source_files(), self._reload_from_disk,
                                       interval=self.reload_interval)
        self.watcher.start()

    def stop(self, fade: float = 0.5) -> None:
        """Fade what plays, log it as interrupted, stop every thread and worker, remove the socket."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            current = self._current
            self._cond.notify_all()
            for timer in self._timers:
                timer.cancel()
        if self.watcher:
            self.watcher.stop()
        if self.control:
            self.control.close()
        if self.scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if current is not None and self._output is not None:
            self._output.stop(fade=fade)
        if self._playout.is_alive():
            self._playout.join(timeout=fade + 1.0)
        if self.prerenderer:
            self.prerenderer.close()
        if self._output is not None:
            self._output.close()
        if self.asrun:
            self.asrun.close()
        if self._daemon_lock is not None:
            self._daemon_lock.release()
        log.info("station stopped")

    # -- planning ------------------------------------------------------------------------------
    def _order(self, occ: Occurrence) -> int:
        for index, slot in enumerate(self.schedule.slots):
            if slot.name == occ.slot.name:
                return index
        return len(self.schedule.slots)

    def _job(self, key: str, title: str, bulletins: tuple[Bulletin, ...]) -> RenderJob:
        return RenderJob(key, title, bulletins, self.schedule)

    def _occ_job(self, occ: Occurrence) -> RenderJob:
        return self._job(occ.key, occ.slot.name, tuple(self.schedule.bulletins[b] for b in occ.bulletins))

    def _startup(self, now: datetime) -> None:
        catch_up = self.schedule.station.catch_up
        rows = self.asrun.history(now - LOOK_BACK, now + self.horizon)
        since = min((r.scheduled for r in rows), default=None)   # when this log began (within LOOK_BACK)
        window_start = min(now - catch_up, since) if since else now - catch_up
        window_start = max(window_start, now - LOOK_BACK)
        found = occurrences(self.schedule, window_start, now + self.horizon)
        done = self.asrun.done_keys(window_start)
        replaced = self.asrun.replaced
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
            self._cue(occ, urgent=True)
        with self._lock:
            self._plan(now)

    def _record(self, occ: Occurrence, **fields) -> None:
        """A complete as-run row for an occurrence that never reached the air."""
        self.asrun.record(key=occ.key, kind=Kind.SCHEDULED.value, slot=occ.slot.name, bulletins=occ.bulletins,
                          priority=occ.priority(self.schedule).label, scheduled=occ.start, **fields)

    def _record_missed(self, occ: Occurrence, note: str | None = None) -> None:
        minutes = int(self.schedule.station.catch_up.total_seconds() // 60)
        note = note or i18n.tr("onair.missed_note", minutes=minutes)
        self._record(occ, status=Status.MISSED, error=note)
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
            ended = datetime.fromtimestamp(path.stat().st_mtime, self.tz)
            self._record(occ, status=Status.PLAYED, started=ended - timedelta(seconds=wav_seconds(path)),
                         ended=ended, error=i18n.tr("onair.recovered_from_file", path=path))
            log.warning("%s aired before the as-run log was lost (%s): logged as played", occ.key, path)
            keys.add(occ.key)
        return keys

    def _plan(self, now: datetime) -> set[str]:
        """Add render and cue jobs for the coming occurrences not yet cued; returns their keys."""
        found = occurrences(self.schedule, now, now + self.horizon)
        done = self.asrun.done_keys(now - timedelta(minutes=1))
        forget_before = now - LOOK_BACK
        self._cued = {key: start for key, start in self._cued.items() if start >= forget_before}
        keys = set()
        for occ in found:
            keys.add(occ.key)
            if occ.key in self._cued or occ.key in done:
                continue
            render_at = occ.start - self.schedule.station.prerender
            if render_at <= now:
                self._prerender(occ)
            else:
                self.scheduler.add_job(self._prerender, DateTrigger(render_at), args=[occ],
                                       id=f"render:{occ.key}", replace_existing=True)
            self.scheduler.add_job(self._cue, DateTrigger(max(occ.start - self.cue_lead, now)), args=[occ],
                                   id=f"cue:{occ.key}", replace_existing=True)
        return keys

    def _replan(self) -> None:
        with self._lock:
            self._plan(self.now())

    def _prerender(self, occ: Occurrence) -> Future:
        return self.prerenderer.request(self._occ_job(occ), deadline=occ.start)

    def _cue(self, occ: Occurrence, urgent: bool = False) -> None:
        """The cue job: put the occurrence on the queue for its second (or now, when catching up)."""
        with self._lock:
            if occ.key in self._cued or self._stopping:
                return
            # A reload may have run since this job was planned: air what the schedule says now.
            current = self._current_occurrence(occ)
            if current is None:
                log.info("%s was removed by a schedule edit before its cue", occ.key)
                return
            occ = current
            now = self.now()
            decision = policy.decide_cue(occ.key, occ.start, now=now, catch_up=self.schedule.station.catch_up,
                                         done=self.asrun.done_keys(occ.start - timedelta(seconds=1)))
            if decision is policy.CueDecision.ALREADY_AIRED:
                self._cued[occ.key] = occ.start
                self.prerenderer.discard(occ.key)
                return
            if decision is policy.CueDecision.MISSED:
                self._record_missed(occ)
                self.prerenderer.discard(occ.key)
                return
            try:
                audio = self.prerenderer.request(self._occ_job(occ), deadline=occ.start, urgent=True)
                entry = Entry(key=occ.key, kind=Kind.SCHEDULED, slot=occ.slot.name, bulletins=occ.bulletins,
                              priority=occ.priority(self.schedule), scheduled=occ.start, audio=audio,
                              start_at=occ.start if occ.start > now else None, order=self._order(occ))
            except Exception as exc:   # never drop an occurrence without a row
                log.exception("could not cue %s", occ.key)
                self._record(occ, status=Status.FAILED, ended=now, error=str(exc) or repr(exc))
                self._cued[occ.key] = occ.start
                return
            self._cued[occ.key] = occ.start
        self._push(entry)

    def _current_occurrence(self, occ: Occurrence) -> Occurrence | None:
        """The occurrence with `occ`'s key in the schedule in force now, if it still exists."""
        second = timedelta(seconds=1)
        return next((o for o in occurrences(self.schedule, occ.start, occ.start + second) if o.key == occ.key), None)

    # -- desk requests -------------------------------------------------------------------------
    def submit(self, request: Request) -> Entry:
        """Queue a desk request now; an emergency cuts in as soon as its programme is rendered."""
        now = self.now()
        key = f"{request.kind.value}:{request.name}@{now.isoformat(timespec='milliseconds')}"
        title = request.bulletins[0].title if len(request.bulletins) == 1 else request.name
        with self._lock:
            job = RenderJob(key, title, request.bulletins, self.schedule)
        audio = self.prerenderer.request(job, deadline=now, urgent=True)
        entry = Entry(key=key, kind=request.kind, slot=request.name,
                      bulletins=tuple(b.id for b in request.bulletins), priority=request.priority,
                      scheduled=now, audio=audio, start_at=None, order=-1)
        log.warning("desk request %s queued at level %s", key, request.priority.label)
        return self._push(entry)

    def handle_request(self, request: dict) -> dict:
        """A control-socket request -> a reply dict (raises OnAirError for the client to show)."""
        cmd = request.get("cmd")
        if cmd == "status":
            fault = self.asrun.fault if self.asrun else None
            replaced = self.asrun.replaced if self.asrun else None
            with self._cond:
                return {"current": self._current.key if self._current else None,
                        "queue": [e.key for e in self._queue.entries()],
                        "asrun": {"fault": fault.to_json() if fault else None,
                                  "replaced": {"reason": replaced.reason,
                                               "moved_to": str(replaced.moved_to) if replaced.moved_to else None}
                                  if replaced else None}}
        with self._lock:
            schedule = self.schedule
        if cmd == "play":
            target = request.get("target")
            if not isinstance(target, str) or not target:
                raise OnAirError(i18n.tr("onair.bad_request", detail="play needs a target"))
            resolved = resolve_play(schedule, target)
        elif cmd == "emergency":
            text, bulletin, title = request.get("text"), request.get("bulletin"), request.get("title")
            if not all(v is None or isinstance(v, str) for v in (text, bulletin, title)):
                raise OnAirError(i18n.tr("onair.bad_request", detail="text, bulletin and title must be strings"))
            resolved = resolve_emergency(schedule, text=text, bulletin=bulletin, title=title, now=self.now())
        else:
            raise OnAirError(i18n.tr("onair.unknown_command", cmd=cmd))
        entry = self.submit(resolved)
        return {"key": entry.key, "priority": entry.priority.label,
                "message": i18n.tr("onair.queued", what=entry.slot, priority=i18n.tr(f"onair.level.{entry.priority.label}"))}

    # -- hot reload ----------------------------------------------------------------------------
    def _reload_from_disk(self) -> None:
        from broadcaster.schedule import check_schedule

        schedule, problems = check_schedule(self.schedule.path)
        errors = [p for p in problems if p.severity == "error"]
        if schedule is None or errors:
            for problem in errors or problems:
                log.error("%s", problem.format())
            log.error("%s", i18n.tr("onair.reload_failed"))
            return
        self.reload(schedule)

    def reload(self, schedule: Schedule) -> None:
        """Swap in an edited schedule: jobs replaced, unchanged pre-renders kept."""
        with self._lock:
            old = self.schedule
            if schedule.station.state_dir != old.station.state_dir or schedule.station.output != old.station.output:
                log.warning("state_dir and output changes take effect at the next restart")
            self.schedule = dataclasses.replace(
                schedule, station=dataclasses.replace(schedule.station, state_dir=old.station.state_dir))
            for job in self.scheduler.get_jobs():
                if job.id.startswith(("render:", "cue:")):
                    job.remove()
            keys = self._plan(self.now())
            with self._cond:
                keys |= self._queue.keys() | ({self._current.key} if self._current else set())
            self.prerenderer.keep_only(keys)
        log.info("schedule reloaded: %s slots, %s bulletins", len(schedule.slots), len(schedule.bulletins))
        self._keep_as_last_good(schedule)
        self._log_next()

    # -- the queue and the air -----------------------------------------------------------------
    def _push(self, entry: Entry) -> Entry:
        with self._cond:
            self._queue.push(entry)
            self._cond.notify_all()
            if entry.priority >= Priority.EMERGENCY and entry.start_at is not None:
                # The playout thread is busy playing: wake the cut-in check when the emergency is due.
                delay = (entry.start_at - PLAY_LEAD - self.now()).total_seconds()
                timer = threading.Timer(max(0.0, delay), self._preempt_if_needed)
                timer.daemon = True
                self._timers = [t for t in self._timers if t.is_alive()] + [timer]
                timer.start()
        entry.audio.add_done_callback(lambda _: self._audio_ready())
        self._preempt_if_needed()
        return entry

    def _audio_ready(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self._preempt_if_needed()

    def _preempt_if_needed(self) -> None:
        """An emergency ready to air cuts whatever lower-level programme is on (obplayer's stack)."""
        with self._cond:
            if self._stopping:
                return
            current = self._current
            best = self._queue.best_ready(self.now(), PLAY_LEAD)
            if (current is None or current.preempted or best is None
                    or best.priority < Priority.EMERGENCY or current.priority >= best.priority):
                return
            current.preempted = True
            current.cut_by = best.key
            self._cond.notify_all()        # a device-retry wait watches `preempted`
        log.warning("emergency %s cuts in on %s", best.key, current.key)
        with self._output_lock:
            output = self._output
        if output is not None:
            output.stop(fade=0.5)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing plays or waits (the desk's direct mode)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._current is None and not len(self._queue), timeout)

    def _playout_loop(self) -> None:
        while True:
            with self._cond:
                entry = None
                while not self._stopping:
                    now = self.now()
                    entry = self._queue.take(now, PLAY_LEAD)
                    if entry is not None:
                        break
                    due = self._queue.next_due()
                    wait = 0.5 if due is None else (due - PLAY_LEAD - now).total_seconds()
                    self._cond.wait(timeout=min(0.5, max(0.005, wait)))
                if entry is None:
                    return
                self._current = entry
            try:
                self._air(entry)
            except Exception:  # the playout thread must outlive any one programme's failure
                log.exception("airing %s failed", entry.key)
            finally:
                with self._cond:
                    self._current = None
                    self._cond.notify_all()

    def _get_output(self) -> Output:
        with self._output_lock:
            if self._output is None:
                self._output = open_output(self.output_spec, base=self.schedule.folder)
            return self._output

    def _reset_output(self) -> None:
        """After a device failure, reopen the output next time (the card may come back)."""
        with self._output_lock:
            output, self._output = self._output, None
        if output is not None:
            output.close()

    def _local(self, moment: datetime | None) -> datetime | None:
        """A device-measured time in station time, as the as-run log shows it."""
        return moment.astimezone(self.tz) if moment is not None else None

    def _row(self, entry: Entry, **fields) -> dict:
        return dict(key=entry.key, kind=entry.kind.value, slot=entry.slot, bulletins=entry.bulletins,
                    priority=entry.priority.label, scheduled=entry.scheduled, **fields)

    def _air(self, entry: Entry) -> None:
        try:
            programme: RenderResult = entry.audio.result(timeout=0)
        except (CancelledError, Exception) as exc:
            error = str(exc) if not isinstance(exc, CancelledError) else i18n.tr("onair.render_cancelled")
            self.asrun.record(**self._row(entry, status=Status.FAILED, ended=self.now(), error=error))
            log.error("%s not aired: %s", entry.key, error)
            self.prerenderer.discard(entry.key)
            return
        note = None
        if programme.fallback_reason:
            note = i18n.tr("onair.offline_voice", engine=programme.engine, reason=programme.fallback_reason)
        waited = (self.now() - entry.scheduled).total_seconds()
        if entry.kind is Kind.SCHEDULED and entry.attempt == 1 and waited > policy.ON_TIME.total_seconds():
            if entry.start_at is None:      # cued after its second: a restart or a stall, not a queue
                log.warning("%s starts %.1f s after its time: catch-up (the station was not on air at its time)",
                            entry.key, waited)
            else:
                log.warning("%s starts %.1f s after its time: it waited for the air (one voice at a time)",
                            entry.key, waited)
        for attempt in range(1, self.device_tries + 1):
            now = self.now()
            start_at = entry.start_at if entry.start_at and entry.start_at - now > timedelta(milliseconds=20) else None
            with self._cond:
                if self._stopping:
                    return
                if entry.preempted:
                    self._requeue(entry)
                    return
            row = self.asrun.start(**self._row(entry, started=start_at or now, engine=programme.engine))
            report = self._play(programme.path, entry, start_at)
            ended = report.ended or self.now()
            if self.on_aired is not None:
                self.on_aired(entry, report)
            if report.completed:
                # Only a slot has a time to be late for; a desk request airs as soon as it is rendered.
                late = (entry.kind is Kind.SCHEDULED and report.started is not None
                        and policy.is_late(entry.scheduled, report.started))
                status = Status.LATE if late else Status.PLAYED
                self.asrun.finish(row, ended=ended, status=status, error=note,
                                  started=self._local(report.started))
                log.info("%s %s: started %s (%s ms after its time), engine %s%s", status.value, entry.key,
                         report.started.astimezone(self.tz).isoformat(timespec="milliseconds")
                         if report.started else "-",
                         "-" if report.started is None else
                         f"{(report.started - entry.scheduled).total_seconds() * 1000:.1f}",
                         programme.engine, f"; {note}" if note else "")
                self.prerenderer.discard(entry.key)
                return
            if report.interrupted and report.error is None:
                with self._cond:
                    stopping = self._stopping
                reason = i18n.tr("onair.stopped_note") if stopping else i18n.tr(
                    "onair.cut_by", key=entry.cut_by or "?")
                self.asrun.finish(row, ended=ended, status=Status.INTERRUPTED, error=reason,
                                 started=self._local(report.started))
                log.warning("interrupted %s: %s", entry.key, reason)
                if not stopping:
                    with self._cond:
                        self._requeue(entry)
                return
            error = i18n.tr("onair.device_try", error=report.error, attempt=attempt, tries=self.device_tries)
            self.asrun.finish(row, ended=ended, status=Status.FAILED, error=error)
            log.error("output failed for %s: %s", entry.key, error)
            self._reset_output()
            if attempt < self.device_tries:
                with self._cond:
                    if self._cond.wait_for(lambda: self._stopping or entry.preempted, self.device_retry_delay):
                        if entry.preempted and not self._stopping:
                            self._requeue(entry)
                        return
        self.prerenderer.discard(entry.key)

    def _play(self, path: Path, entry: Entry, start_at: datetime | None) -> PlaybackReport:
        try:
            output = self._get_output()
        except OutputError as exc:
            return PlaybackReport(None, None, completed=False, interrupted=False, error=str(exc), start_error=None)
        with self._cond:
            if entry.preempted:
                return PlaybackReport(None, None, completed=False, interrupted=True, error=None, start_error=None)
        try:
            return output.play(path, label=entry.label, start_at=start_at)
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


__all__ = ["Request", "Station", "play_direct", "resolve_emergency", "resolve_play", "CUE_LEAD", "PLAY_LEAD"]
