"""One log line when a check changes state, never one per run; `since` moves only on a change."""

from __future__ import annotations

import logging
from datetime import timedelta

from broadcaster.health import Result, State, StateTracker
from tests.health.conftest import at


class Clock:
    def __init__(self) -> None:
        self.now = at("2026-11-30T10:00:00")

    def __call__(self):
        return self.now


def test_one_line_per_change_and_since(caplog, tmp_path):
    clock = Clock()
    tracker = StateTracker(clock, store=tmp_path / "health.json")
    caplog.set_level(logging.INFO, logger="broadcaster.health.base")
    tracker.update([Result("disk", State.OK, "fine")])
    for minute in range(1, 60):                     # an hour of minute checks, nothing changes
        clock.now += timedelta(minutes=1)
        tracker.update([Result("disk", State.OK, f"fine, {minute} MB used")])
    assert caplog.records == []                     # ok at start-up is not news
    clock.now += timedelta(minutes=1)
    [status] = tracker.update([Result("disk", State.FAILING, "full")])
    assert status.since == at("2026-11-30T11:00:00")
    for _ in range(30):
        clock.now += timedelta(minutes=1)
        tracker.update([Result("disk", State.FAILING, "still full")])
    clock.now += timedelta(minutes=1)
    [status] = tracker.update([Result("disk", State.OK, "fine again")])
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "health: disk ok -> failing: full"),
        ("INFO", "health: disk failing -> ok: fine again"),
    ]
    assert status.since == at("2026-11-30T11:31:00")


def test_not_ok_at_start_is_said_once_and_since_survives_a_restart(caplog, tmp_path):
    clock = Clock()
    store = tmp_path / "health.json"
    caplog.set_level(logging.INFO, logger="broadcaster.health.base")
    StateTracker(clock, store=store).update([Result("clock", State.WARNING, "unknown"), Result("disk", State.OK, "ok")])
    assert [r.getMessage() for r in caplog.records] == ["health: clock warning: unknown"]
    clock.now += timedelta(hours=2)
    restarted = StateTracker(clock, store=store)
    clock_status, disk_status = restarted.update([Result("clock", State.WARNING, "unknown"),
                                                  Result("disk", State.FAILING, "full")])
    assert clock_status.since == at("2026-11-30T10:00:00")     # same state: since kept
    assert disk_status.since == at("2026-11-30T12:00:00")      # changed while stopped: now
