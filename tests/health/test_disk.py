"""The disk and as-run checks on a real small filesystem: full, read-only, short of room, and back."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime

from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.health import Monitor, State, StateTracker
from broadcaster.health.checks import PROGRAMME_BYTES_PER_SECOND, SPEECH_BYTES_PER_SECOND, check_disk, day_need
from broadcaster.health.checks import load_for_status
from broadcaster.schedule import load_schedule
from tests.health.conftest import TZ, Station, check, metric


def station_on(disk, tmp_path) -> Station:
    station = Station(tmp_path, disk.path / "var")
    station.write()
    with AsRunLog(station.state / "asrun.sqlite3") as asrun:      # a log with a row, as on a station
        now = datetime.now(TZ)
        asrun.record(key="k", kind="scheduled", slot="Chiều", bulletins=["chao"], priority="normal",
                     scheduled=now, status=Status.PLAYED, started=now, ended=now)
    return station


def monitor(station: Station) -> Monitor:
    """A monitor logging as "watcher", so its lines stand apart from the `status` runs between."""
    schedule, source = load_for_status(station.path)
    clock = lambda: datetime.now(TZ)  # noqa: E731
    return Monitor(schedule, source, outputs=[], clock=clock, reachable=lambda: None,
                   tracker=StateTracker(clock, logger=logging.getLogger("watcher")))


def test_full_state_folder(small_disk, tmp_path, timedatectl, capsys, caplog, english):
    station = station_on(small_disk, tmp_path)
    watcher = monitor(station)
    caplog.set_level(logging.INFO, logger="watcher")
    watcher.check_cheap(["disk", "asrun"])
    small_disk.fill()
    for _ in range(3):                              # three minutes of a full disk
        watcher.check_cheap(["disk", "asrun"])
    code, report = station.status(capsys)
    assert code == 2 and report["state"] == "failing"
    disk, asrun = check(report, "disk"), check(report, "asrun")
    assert disk["state"] == "failing" and "No space left on device" in disk["message"], disk
    assert asrun["state"] == "failing" and "the disk is full" in asrun["message"], asrun
    assert metric(report, "broadcaster_check_state", check="disk") == 2
    assert metric(report, "broadcaster_check_state", check="asrun") == 2
    small_disk.free()
    watcher.check_cheap(["disk", "asrun"])
    watcher.check_cheap(["disk", "asrun"])
    lines = [r.getMessage() for r in caplog.records if r.name == "watcher"]
    assert len(lines) == 4, lines
    assert lines[0].startswith("health: disk ok -> failing: Cannot write to the state folder")
    assert lines[1].startswith("health: asrun ok -> failing: Cannot write the as-run log")
    assert lines[2].startswith("health: disk failing -> ok:")
    assert lines[3].startswith("health: asrun failing -> ok:")
    code, report = station.status(capsys)
    assert code == 0 and check(report, "disk")["state"] == "ok", report
    assert metric(report, "broadcaster_check_state", check="disk") == 0


def test_read_only_state_folder(small_disk, tmp_path, timedatectl, capsys, english):
    station = station_on(small_disk, tmp_path)
    small_disk.read_only()
    code, report = station.status(capsys)
    assert code == 2
    disk, asrun = check(report, "disk"), check(report, "asrun")
    assert disk["state"] == "failing" and "Read-only file system" in disk["message"], disk
    assert "remount the disk read-write" in disk["message"]
    assert asrun["state"] == "failing", asrun
    assert metric(report, "broadcaster_state") == 2
    assert metric(report, "broadcaster_check_state", check="disk") == 2
    small_disk.read_only(False)
    code, report = station.status(capsys)
    assert (code, check(report, "disk")["state"], check(report, "asrun")["state"]) == (0, "ok", "ok"), report


def test_room_for_the_next_day_is_estimated_from_the_schedule(small_disk, tmp_path, english):
    station = Station(tmp_path, small_disk.path / "var")
    station.write()
    schedule = load_schedule(station.path)
    now = datetime.now(TZ)
    # One 4-word bulletin: (4 / 2.5 + 8) s of programme and 1.6 s of new speech.
    assert day_need(schedule, now) == int(9.6 * PROGRAMME_BYTES_PER_SECOND + 1.6 * SPEECH_BYTES_PER_SECOND)
    free = shutil.disk_usage(small_disk.path).free
    per_word = PROGRAMME_BYTES_PER_SECOND / 2.5 + SPEECH_BYTES_PER_SECOND / 2.5
    for share, state, words in ((0.7, State.WARNING, "has only"), (1.5, State.FAILING, "out of space")):
        count = int((share * free - 8 * PROGRAMME_BYTES_PER_SECOND) / per_word)
        station.write(text=" ".join(["chào"] * count))
        result = check_disk(load_schedule(station.path), now)
        assert result.state is state and words in result.message, result
