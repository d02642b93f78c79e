"""One as-run row per occurrence, whatever happens on the way: retries and replays reopen the
occurrence's row, the row keeps the way there, schema-1 logs open and keep their rows, and
rows held back by a full disk never become a second row of their occurrence."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster import i18n
from broadcaster.asrun import AsRunLog, Status, log_path
from tests.filesystems import small_disk  # noqa: F401  (fixture)
from tests.onair.conftest import wait_for

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2023, 1, 16, 6, 0, tzinfo=HCM)
KEY = "Sáng@2023-01-16T06:00:00+07:00"


@pytest.fixture(autouse=True)
def english():
    i18n.set_language("en")
    yield
    i18n.set_language(None)


def start(asrun: AsRunLog, at: float, key: str = KEY) -> int:
    return asrun.start(key=key, kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                       scheduled=MORNING, started=MORNING + timedelta(seconds=at), engine="gtts")


def finish(asrun: AsRunLog, row: int, at: float, status: Status, error: str | None = None) -> None:
    asrun.finish(row, ended=MORNING + timedelta(seconds=at), status=status, error=error)


def test_device_retries_are_one_row_with_the_tries_in_its_note(tmp_path):
    with AsRunLog(log_path(tmp_path)) as asrun:
        for n in (1, 2):
            row = start(asrun, 3 * (n - 1))
            finish(asrun, row, 3 * (n - 1), Status.FAILED, f"card gone (try {n}/3)")
        again = start(asrun, 6)
        finish(asrun, again, 186, Status.PLAYED)
        [one] = asrun.history()
    assert (one.id, one.status, one.attempts, one.error) == (row, Status.PLAYED, 3, None)
    assert one.note == "06:00:00 failed: card gone (try 1/3); 06:00:03 failed: card gone (try 2/3)"
    assert (one.started, one.ended) == (MORNING + timedelta(seconds=6), MORNING + timedelta(seconds=186))


def test_a_cut_and_replayed_programme_keeps_its_cut_airtime(tmp_path):
    with AsRunLog(log_path(tmp_path)) as asrun:
        row = start(asrun, 0)
        finish(asrun, row, 130, Status.INTERRUPTED, "Cut by emergency emergency:x; will air again from the beginning.")
        start(asrun, 150)
        [cut] = asrun.history()
        assert (cut.status, cut.attempts) == (Status.PLAYING, 2)      # on air again, same row
        finish(asrun, row, 330, Status.LATE)
        [one] = asrun.history()
        [fact] = asrun.facts(MORNING, MORNING + timedelta(hours=1))
    assert (one.status, one.attempts, one.error, one.aired_before) == (Status.LATE, 2, None, 130.0)
    assert one.note == "06:02:10 interrupted: Cut by emergency emergency:x; will air again from the beginning."
    assert fact.minutes == pytest.approx((180 + 130) / 60)           # both airings, measured


def test_a_cut_programme_stopped_before_its_replay_ends_interrupted_in_its_row(tmp_path):
    with AsRunLog(log_path(tmp_path)) as asrun:
        row = start(asrun, 0)
        finish(asrun, row, 10, Status.INTERRUPTED, "Cut by emergency e.")
        asrun.record(key=KEY, kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                     scheduled=MORNING, status=Status.INTERRUPTED, ended=MORNING + timedelta(seconds=40),
                     error="Stopped from the desk.")
        [one] = asrun.history()
    assert (one.status, one.attempts, one.error, one.note) == (
        Status.INTERRUPTED, 1, "Stopped from the desk.", "06:00:10 interrupted: Cut by emergency e.")
    assert one.started == MORNING                                       # the airing that was cut


def test_a_crash_cut_programme_caught_up_after_restart_is_one_row(tmp_path):
    path = log_path(tmp_path)
    with AsRunLog(path) as asrun:
        start(asrun, 0)                                                 # then kill -9
    with AsRunLog(path) as asrun:
        [cut] = asrun.recover(MORNING + timedelta(minutes=2))
        row = start(asrun, 125)
        finish(asrun, row, 305, Status.LATE)
        [one] = asrun.history()
    assert (one.id, one.status, one.attempts) == (cut.id, Status.LATE, 2)
    assert one.note.startswith("06:00:00 interrupted: Interrupted: the station program stopped abruptly")
    assert one.aired_before == 0                                        # nobody knows how long the cut one aired


def test_other_occurrences_keep_their_own_rows(tmp_path):
    with AsRunLog(log_path(tmp_path)) as asrun:
        finish(asrun, start(asrun, 0), 60, Status.PLAYED)
        emergency = asrun.start(key="emergency:emergency@2023-01-16T06:00:30.000+07:00", kind="emergency",
                                slot="emergency", bulletins=("emergency-1",), priority="emergency",
                                scheduled=MORNING + timedelta(seconds=30), started=MORNING + timedelta(seconds=30),
                                engine="espeak-ng")
        finish(asrun, emergency, 40, Status.PLAYED)
        finish(asrun, start(asrun, 0, key="Sáng@2023-01-17T06:00:00+07:00"), 60, Status.PLAYED)
        rows = asrun.history()
    assert [(r.kind, r.attempts, r.note) for r in sorted(rows, key=lambda r: r.id)] == [
        ("scheduled", 1, None), ("emergency", 1, None), ("scheduled", 1, None)]


SCHEMA_1 = """
CREATE TABLE asrun (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL, slot TEXT NOT NULL,
    bulletins TEXT NOT NULL, priority TEXT NOT NULL, scheduled TEXT NOT NULL, scheduled_utc REAL NOT NULL,
    started TEXT, ended TEXT, status TEXT NOT NULL, engine TEXT, error TEXT);
CREATE INDEX asrun_scheduled ON asrun (scheduled_utc);
CREATE INDEX asrun_status ON asrun (status);
"""


def schema_1_log(path: Path) -> None:
    """A log as the station wrote it before one row per occurrence: a cut programme has two rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    utc = MORNING.timestamp()
    db.executemany("INSERT INTO asrun (key, kind, slot, bulletins, priority, scheduled, scheduled_utc, started, "
                   "ended, status, engine, error) VALUES (?, 'scheduled', 'Sáng', 'tin-a', 'normal', ?, ?, ?, ?, ?, "
                   "'gtts', ?)", [
                       (KEY, "2023-01-16T06:00:00.000+07:00", utc, "2023-01-16T06:00:00.000+07:00",
                        "2023-01-16T06:02:10.000+07:00", "interrupted", "cut"),
                       (KEY, "2023-01-16T06:00:00.000+07:00", utc, "2023-01-16T06:02:30.000+07:00",
                        "2023-01-16T06:05:30.000+07:00", "late", None),
                       ("Sáng@2", "2023-01-17T06:00:00.000+07:00", utc + 86400, None, None, "missed", "off")])
    db.commit()
    db.close()


def test_a_schema_1_log_is_read_as_it_is_and_migrated_by_the_daemon_keeping_every_row(tmp_path):
    path = log_path(tmp_path / "state")
    schema_1_log(path)
    before = path.read_bytes()
    with AsRunLog(path, readonly=True) as history:                      # `history` never changes the file
        assert [(r.id, r.status, r.attempts, r.note) for r in history.history()] == [
            (1, Status.INTERRUPTED, 1, None), (2, Status.LATE, 1, None), (3, Status.MISSED, 0, None)]
    assert path.read_bytes() == before
    with AsRunLog(path) as asrun:                                       # the daemon adds the columns
        assert [(r.id, r.status, r.attempts, r.error) for r in asrun.history()] == [
            (1, Status.INTERRUPTED, 1, "cut"), (2, Status.LATE, 1, None), (3, Status.MISSED, 0, "off")]
        assert asrun.done_keys(MORNING) == {KEY}
        row = asrun.start(key="Sáng@2", kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                          scheduled=MORNING + timedelta(days=1), started=MORNING + timedelta(days=1, minutes=5),
                          engine="gtts")
        assert row == 3                                                 # a second airing reopens the old row
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    assert db.execute("SELECT count(*) FROM asrun").fetchone() == (3,)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'asrun_key'").fetchone() == ("asrun_key",)
    db.close()
    with AsRunLog(path) as again:                                       # opening again changes nothing
        assert len(again.history()) == 3


def test_rows_held_by_a_full_disk_never_become_a_second_row(small_disk, tmp_path, caplog):
    spare = tmp_path / "spare"
    spare.mkdir()
    path = log_path(small_disk.path)
    asrun = AsRunLog(path, journal_folders=[spare], retry_every=0.1)
    try:
        row = start(asrun, 0)
        finish(asrun, row, 10, Status.INTERRUPTED, "Cut by emergency e.")
        small_disk.fill()
        again = start(asrun, 30)                                        # the replay, while the disk is full
        finish(asrun, again, 210, Status.LATE)
        [waiting] = asrun.pending()
        assert (waiting.id, waiting.pending, waiting.status, waiting.attempts) == (row, True, Status.LATE, 2)
        with AsRunLog(path, readonly=True, journal_folders=[spare]) as history:    # another process: `history`
            [seen] = history.history()
        assert (seen.status, seen.pending, seen.attempts) == (Status.LATE, True, 2)
        small_disk.free()
        wait_for(lambda: asrun.fault is None, timeout=5)
        assert asrun.pending() == []
    finally:
        asrun.close()
    with AsRunLog(path) as reopened:
        [one] = reopened.history()
    assert (one.id, one.status, one.attempts, one.pending) == (row, Status.LATE, 2, False)
    assert one.note == "06:00:10 interrupted: Cut by emergency e."
