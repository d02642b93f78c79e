"""The daemon's parts on a `FakeClock`: planner cue/missed decisions, playout ranking, cut-in and
device retries, with a real as-run log and real WAV files, and no real second slept."""

from __future__ import annotations

import time
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from broadcaster import i18n
from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.occurrences import occurrences
from broadcaster.onair.clock import FakeClock
from broadcaster.onair.planner import Planner
from broadcaster.onair.playout import Playout
from broadcaster.onair.queue import Entry, Kind
from broadcaster.onair.recorder import Recorder
from broadcaster.onair.render import RenderResult
from broadcaster.output import FileOutput
from broadcaster.wav import write as write_wav
from broadcaster.output.switch import Switch
from broadcaster.schedule.model import Priority
from tests.onair.conftest import TZ

AIR = datetime(2024, 3, 4, 7, 0, 0, tzinfo=TZ)      # the slot's second; the clock starts before it


class Renders:
    """The prerenderer's interface, rendering nothing: each request gets a finished future for `wav`."""

    def __init__(self, wav: Path) -> None:
        self.wav = wav
        self.requested: list[tuple[str, bool]] = []
        self.discarded: list[str] = []
        self.kept: set[str] | None = None

    def request(self, job, *, deadline, urgent=False) -> Future:
        self.requested.append((job.key, urgent))
        return done(RenderResult(self.wav, 1.0, "tone"))

    def discard(self, key: str) -> None:
        self.discarded.append(key)

    def keep_only(self, keys: set[str]) -> None:
        self.kept = keys


def done(result) -> Future:
    future = Future()
    future.set_result(result)
    return future


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "programme.wav"
    write_wav(path, np.full(4800, 1000, dtype=np.int16), 48_000)     # 0.1 s
    return path


@pytest.fixture
def recorder(tmp_path: Path):
    recorder = Recorder(AsRunLog(tmp_path / "asrun.sqlite3"), TZ)
    yield recorder
    recorder.close()


@pytest.fixture
def planned(folder, recorder, wav):
    """A planner (not started: APScheduler keeps its jobs pending) for one slot at 07:00:00, catch-up 10 min."""

    def make(now: datetime, **station) -> tuple[Planner, FakeClock, list[Entry], Renders]:
        folder.write({"a": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": "07:00:00", "play": ["a"]}],
                     prerender=5, **station)
        clock = FakeClock(now)
        cued: list[Entry] = []
        renders = Renders(wav)
        planner = Planner(folder.load(), clock=clock, recorder=recorder, renders=renders,
                          cue_entry=cued.append, in_use=set)
        return planner, clock, cued, renders

    return make


def the_occurrence(planner: Planner):
    return occurrences(planner.schedule, AIR, AIR + timedelta(seconds=1))[0]


def test_plan_adds_render_and_cue_jobs_at_their_times(planned):
    planner, clock, cued, renders = planned(AIR - timedelta(minutes=30))
    with planner.lock:
        keys = planner.plan(clock.now())
    occ = the_occurrence(planner)
    jobs = {job.id: job.trigger.run_date for job in planner.scheduler.get_jobs()}
    assert keys == {occ.key}
    assert jobs == {f"render:{occ.key}": AIR - timedelta(minutes=5), f"cue:{occ.key}": AIR - timedelta(seconds=3)}
    assert not cued and not renders.requested


@pytest.mark.parametrize("now, start_at, urgent_render", [
    pytest.param(AIR - timedelta(seconds=3), AIR, True, id="on-time-cue-waits-for-its-second"),
    pytest.param(AIR + timedelta(minutes=4), None, True, id="late-within-catch-up-airs-now"),
])
def test_cue_queues_the_occurrence(planned, recorder, now, start_at, urgent_render):
    planner, clock, cued, renders = planned(now)
    occ = the_occurrence(planner)
    entry = planner.cue(occ)
    assert cued == [entry] and (entry.key, entry.kind, entry.start_at, entry.scheduled) == (occ.key, Kind.SCHEDULED, start_at, AIR)
    assert renders.requested == [(occ.key, urgent_render)]
    assert planner.cue(occ) is None and len(cued) == 1           # a second cue of the same key does nothing
    assert recorder.history() == []


def test_a_cue_past_catch_up_is_logged_missed_once(planned, recorder):
    planner, clock, cued, renders = planned(AIR + timedelta(minutes=11))
    occ = the_occurrence(planner)
    assert planner.cue(occ) is None and planner.cue(occ) is None
    rows = recorder.history()
    assert [(r.key, r.status, r.slot) for r in rows] == [(occ.key, Status.MISSED, "Sang")]
    assert "10" in rows[0].error and cued == [] and renders.discarded == [occ.key]


def test_startup_catches_up_within_the_window_and_logs_older_misses(planned, recorder, wav):
    planner, clock, cued, renders = planned(AIR + timedelta(minutes=3))
    occ = the_occurrence(planner)
    # The log began yesterday: yesterday's 07:00 was missed long ago, today's is within catch-up.
    yesterday = occurrences(planner.schedule, AIR - timedelta(days=1), AIR - timedelta(days=1, seconds=-1))[0]
    recorder.occurrence(yesterday, Priority.NORMAL, status=Status.PLAYED)
    planner.startup(clock.now())
    assert [e.key for e in cued] == [occ.key] and cued[0].start_at is None
    assert [r.status for r in recorder.history()] == [Status.PLAYED]


def test_apply_keeps_renders_in_use_and_replans(planned):
    planner, clock, cued, renders = planned(AIR - timedelta(minutes=30))
    planner.in_use = lambda: {"manual:x@now"}
    planner.apply(planner.schedule)
    occ = the_occurrence(planner)
    assert renders.kept == {occ.key, "manual:x@now"}
    assert sorted(job.id for job in planner.scheduler.get_jobs()) == [f"cue:{occ.key}", f"render:{occ.key}"]


# -- playout ------------------------------------------------------------------------------------

def entry(key: str, priority: Priority, wav: Path, *, start_at: datetime | None = None,
          kind: Kind = Kind.SCHEDULED, order: int = 0) -> Entry:
    return Entry(key=key, kind=kind, slot=key, bulletins=("a",), priority=priority, scheduled=start_at or AIR,
                 audio=done(RenderResult(wav, 0.1, "tone")), start_at=start_at, order=order)


@pytest.fixture
def playout(tmp_path, recorder, wav):
    made: list[Playout] = []

    def make(output=None, **options) -> tuple[Playout, FakeClock, Renders]:
        clock = FakeClock(AIR - timedelta(seconds=10))
        renders = Renders(wav)
        out = output or FileOutput(tmp_path / "aired", realtime=False)
        playout = Playout(switch=Switch(lambda: out), clock=clock, recorder=recorder, renders=renders, **options)
        made.append(playout)
        return playout, clock, renders

    yield make
    for playout in made:
        playout.close()


def test_playout_takes_the_best_entry_once_due(playout, wav):
    air, clock, _ = playout()
    normal = entry("normal", Priority.NORMAL, wav, start_at=AIR)
    urgent = entry("priority", Priority.PRIORITY, wav, start_at=AIR, order=1)
    later = entry("emergency-later", Priority.EMERGENCY, wav, start_at=AIR + timedelta(seconds=30))
    for e in (normal, urgent, later):
        air._queue.push(e)
    assert air.take() is None                         # 10 s early: nothing is due
    clock.advance(9)                                  # within PLAY_LEAD of 07:00:00
    assert air.take() is urgent and air.status() == {
        "current": {"key": "priority", "slot": "priority", "bulletins": ["a"], "priority": "priority",
                    "started": None, "length": None, "ends_at": None},      # taken, its sound not started yet
        "queue": ["emergency-later", "normal"]}
    assert air.take() is normal and air.take() is None


@pytest.mark.parametrize("on_air, arriving, cuts", [
    pytest.param(Priority.NORMAL, Priority.EMERGENCY, True, id="emergency-cuts-normal"),
    pytest.param(Priority.PRIORITY, Priority.EMERGENCY, True, id="emergency-cuts-priority"),
    pytest.param(Priority.EMERGENCY, Priority.EMERGENCY, False, id="emergency-waits-for-emergency"),
    pytest.param(Priority.NORMAL, Priority.PRIORITY, False, id="priority-never-cuts"),
])
def test_cut_in_ranking(playout, wav, on_air, arriving, cuts):
    air, clock, _ = playout()
    air._queue.push(entry("on-air", on_air, wav))
    clock.advance(10)
    current = air.take()
    arrival = entry("arrival", arriving, wav, kind=Kind.EMERGENCY if arriving is Priority.EMERGENCY else Kind.MANUAL)
    air.push(arrival)
    assert (current.preempted, current.cut_by) == ((True, "arrival") if cuts else (False, None))


def test_a_cut_programme_is_requeued_to_air_again_from_its_beginning(playout, wav, recorder):
    air, clock, _ = playout()
    cut = entry("cut", Priority.NORMAL, wav, start_at=AIR)
    air._queue.push(cut)
    clock.advance(10)
    assert air.take() is cut
    cut.preempted, cut.cut_by = True, "emergency:x"
    air.air(cut)                                      # sees the cut before playing: back on the queue
    assert (cut.attempt, cut.start_at, cut.preempted, air.status()["queue"]) == (2, None, False, ["cut"])
    assert recorder.history() == []


def test_the_desk_stop_is_never_requeued(playout, wav, recorder):
    air, clock, renders = playout()
    stopped = entry("stopped", Priority.NORMAL, wav)
    air._queue.push(stopped)
    clock.advance(10)
    assert air.take() is stopped and air.stop_current() is stopped
    air.air(stopped)                                  # stopped before it began: a row, no sound
    [row] = recorder.history()
    assert (row.key, row.status, row.error) == ("stopped", Status.INTERRUPTED, i18n.tr("onair.desk_stopped"))
    assert air.status()["queue"] == [] and stopped.attempt == 1 and renders.discarded == ["stopped"]


def test_a_failing_device_is_retried_then_logged_failed_without_sleeping(playout, wav, recorder, tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the output folder should be")
    air, clock, renders = playout(FileOutput(blocked, realtime=False), device_tries=3, device_retry_delay=30.0)
    failing = entry("failing", Priority.NORMAL, wav)
    air._queue.push(failing)
    clock.advance(10)
    air.take()
    began, started = clock.now(), time.monotonic()
    caplog.set_level("INFO")
    air.air(failing)
    [row] = recorder.history()                               # one occurrence, one row: its final outcome
    assert (row.status, row.attempts, row.error.endswith(" 3/3)")) == (Status.FAILED, 3, True)
    steps = row.note.split("; ")                             # the two earlier tries, with their times
    assert [(step[:8], step.endswith(f" {n}/3)")) for n, step in enumerate(steps, 1)] == [
        ("07:00:00", True), ("07:00:30", True)]
    assert clock.now() - began == timedelta(seconds=60)      # two retry waits, on the fake clock
    assert time.monotonic() - started < 5 and renders.discarded == ["failing"]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2 and "output failed for failing" in errors[0] and "failed 3 times" in errors[1]


def test_a_device_fault_is_logged_once_not_per_programme_and_its_end_once(playout, wav, recorder, tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the output folder should be")
    air, clock, renders = playout(FileOutput(blocked, realtime=False), device_tries=2, device_retry_delay=1.0)
    caplog.set_level("INFO")
    for name in ("one", "two"):
        air._queue.push(entry(name, Priority.NORMAL, wav))
        clock.advance(10)
        air.air(air.take())
    blocked.unlink()                                         # the card is back
    air._queue.push(entry("three", Priority.NORMAL, wav))
    clock.advance(10)
    air.air(air.take())
    lines = [r.getMessage() for r in caplog.records if r.name == "broadcaster.onair.playout" and r.levelno >= 30
             and "after its time" not in r.getMessage()]
    assert [line.split(":")[0] for line in lines] == [
        "output failed for one", "one not aired", "two not aired", "the output works again (it failed with"]
    assert [(r.key, r.status, r.attempts) for r in recorder.history()] == [
        ("one", Status.FAILED, 2), ("two", Status.FAILED, 2), ("three", Status.LATE, 1)]


def test_a_rendered_entry_airs_and_is_logged_played(playout, wav, recorder, tmp_path):
    air, clock, renders = playout()
    ok = entry("ok", Priority.NORMAL, wav, kind=Kind.MANUAL)
    air._queue.push(ok)
    clock.advance(10)
    air.air(air.take())
    [row] = recorder.history()
    assert (row.key, row.status, row.engine) == ("ok", Status.PLAYED, "tone")
    assert len(list((tmp_path / "aired").glob("*.wav"))) == 1 and renders.discarded == ["ok"]
