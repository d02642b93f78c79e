"""The restart and misfire policy and the priority queue, with a fixed `now` (pure and fast)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.onair import policy
from broadcaster.onair.queue import Entry, Kind, PlayQueue
from broadcaster.schedule.model import Bulletin, Priority

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 3, 4, 7, 0, 0, tzinfo=TZ)
CATCH_UP = timedelta(minutes=10)


@dataclass(frozen=True)
class Occ:
    start: datetime

    @property
    def key(self) -> str:
        return f"s@{self.start.isoformat()}"


def occ(minutes: float) -> Occ:
    return Occ(NOW + timedelta(minutes=minutes))


@pytest.mark.parametrize("offset, done, recorded, since, expected", [
    pytest.param(5, False, False, None, "future", id="ahead-is-future"),
    pytest.param(-3, False, False, None, "catch_up", id="3min-late-catches-up"),
    pytest.param(-10, False, False, None, "catch_up", id="exactly-catch-up-window"),
    pytest.param(-10.5, False, False, NOW - timedelta(hours=1), "missed", id="just-outside-window-missed"),
    pytest.param(-30, False, False, None, "none", id="fresh-install-missed-nothing"),
    pytest.param(-30, False, True, NOW - timedelta(hours=1), "none", id="already-recorded-not-twice"),
    pytest.param(-30, False, False, NOW - timedelta(minutes=20), "none", id="before-the-log-began"),
    pytest.param(-3, True, True, None, "none", id="aired-never-again"),
    pytest.param(5, True, True, None, "none", id="aired-future-key-skipped"),
])
def test_plan_startup(offset, done, recorded, since, expected):
    o = occ(offset)
    plan = policy.plan_startup([o], now=NOW, catch_up=CATCH_UP, done={o.key} if done else set(),
                               recorded={o.key} if recorded else set(), since=since)
    where = {"catch_up": plan.catch_up, "missed": plan.missed, "future": plan.future}
    found = [name for name, items in where.items() if o in items]
    assert found == ([] if expected == "none" else [expected])


def test_catch_up_keeps_time_order():
    a, b, c = occ(-8), occ(-2), occ(-5)
    plan = policy.plan_startup([a, b, c], now=NOW, catch_up=CATCH_UP, done=set(), recorded=set(), since=None)
    assert plan.catch_up == (a, c, b)


@pytest.mark.parametrize("late, done, expected", [
    (timedelta(seconds=-3), False, policy.CueDecision.AIR),
    (timedelta(minutes=9), False, policy.CueDecision.AIR),
    (timedelta(minutes=11), False, policy.CueDecision.MISSED),
    (timedelta(seconds=-3), True, policy.CueDecision.ALREADY_AIRED),
], ids=["on-time", "late-within-window", "too-late", "already-aired"])
def test_decide_cue(late, done, expected):
    assert policy.decide_cue("k", NOW, now=NOW + late, catch_up=CATCH_UP, done={"k"} if done else set()) is expected


@pytest.mark.parametrize("delay, late", [(0.0, False), (0.999, False), (1.0, False), (1.001, True), (-0.2, False)])
def test_on_time_window_is_one_second(delay, late):
    assert policy.is_late(NOW, NOW + timedelta(seconds=delay)) is late


def test_programme_ranks_as_most_urgent_bulletin():
    items = [Bulletin("a", "A", text="x"), Bulletin("b", "B", text="y", priority=Priority.PRIORITY)]
    assert policy.priority_of(items) is Priority.PRIORITY
    assert policy.priority_of(items[:1]) is Priority.NORMAL


def entry(key: str, priority: Priority = Priority.NORMAL, *, at: float = 0.0, order: int = 0,
          ready: bool = True, start: bool = True) -> Entry:
    audio: Future = Future()
    if ready:
        audio.set_result(None)
    scheduled = NOW + timedelta(seconds=at)
    return Entry(key=key, kind=Kind.SCHEDULED, slot=key, bulletins=(key,), priority=priority,
                 scheduled=scheduled, audio=audio, start_at=scheduled if start else None, order=order)


def drain(queue: PlayQueue, now: datetime) -> list[str]:
    keys = []
    while (item := queue.take(now, timedelta(seconds=1))) is not None:
        keys.append(item.key)
    return keys


def test_queue_ranks_priority_then_time_then_schedule_order():
    queue = PlayQueue()
    for item in [entry("normal-late-slot", order=2), entry("normal-first-slot", order=0),
                 entry("priority", Priority.PRIORITY, order=3), entry("earlier", at=-5, order=9),
                 entry("emergency", Priority.EMERGENCY, at=0.5, order=5)]:
        queue.push(item)
    assert drain(queue, NOW) == ["emergency", "priority", "earlier", "normal-first-slot", "normal-late-slot"]


def test_queue_waits_for_the_second_and_for_the_render():
    queue = PlayQueue()
    queue.push(entry("later", at=5))
    pending = queue.push(entry("not-rendered", ready=False, start=False))
    assert queue.take(NOW, timedelta(seconds=1)) is None
    assert queue.next_due() is None          # something is wanted now (once rendered)
    pending.audio.set_result(None)
    assert drain(queue, NOW) == ["not-rendered"]
    assert queue.next_due() == NOW + timedelta(seconds=5)
    assert drain(queue, NOW + timedelta(seconds=4)) == ["later"]


def test_entry_label_is_file_safe_and_numbered_on_replay():
    item = entry("x")
    item.slot = "Bản tin sáng/1"
    assert item.label == "20240304-070000-Ban-tin-sang-1"
    item.attempt = 2
    assert item.label == "20240304-070000-Ban-tin-sang-1-2"
