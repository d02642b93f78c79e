"""The as-run log: exact rows back, recovery after a crash, kill -9 durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.asrun import AsRunLog, AsRunRow, Status, log_path
from broadcaster.errors import AsRunError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2023, 1, 16, 6, 0, tzinfo=HCM)


@pytest.fixture
def asrun(tmp_path):
    log = AsRunLog(log_path(tmp_path / "state"))
    yield log
    log.close()


def test_start_finish_round_trip(asrun):
    row_id = asrun.start(key="Bản tin sáng@2023-01-16T06:00:00+07:00", kind="scheduled",
                         slot="Bản tin sáng", bulletins=("tin-a", "tin-b"), priority="normal",
                         scheduled=MORNING, started=MORNING + timedelta(milliseconds=3), engine="gtts")
    assert [r.status for r in asrun.history()] == [Status.PLAYING]
    asrun.finish(row_id, ended=MORNING + timedelta(minutes=4, seconds=2, milliseconds=500),
                 status=Status.PLAYED)
    assert asrun.history() == [AsRunRow(
        id=row_id, key="Bản tin sáng@2023-01-16T06:00:00+07:00", kind="scheduled", slot="Bản tin sáng",
        bulletins=("tin-a", "tin-b"), priority="normal", scheduled=MORNING,
        started=MORNING + timedelta(milliseconds=3),
        ended=MORNING + timedelta(minutes=4, seconds=2, milliseconds=500),
        status=Status.PLAYED, engine="gtts", error=None)]
    assert asrun.history()[0].to_json() == {
        "id": row_id, "key": "Bản tin sáng@2023-01-16T06:00:00+07:00", "kind": "scheduled",
        "slot": "Bản tin sáng", "bulletins": ["tin-a", "tin-b"], "priority": "normal",
        "scheduled": "2023-01-16T06:00:00.000+07:00", "started": "2023-01-16T06:00:00.003+07:00",
        "ended": "2023-01-16T06:04:02.500+07:00", "status": "played", "engine": "gtts", "error": None,
        "attempts": 1, "note": None, "pending": False,
    }


def test_record_missed_and_failed(asrun):
    missed = asrun.record(key="k1", kind="scheduled", slot="Chiều", bulletins=("a",), priority="normal",
                          scheduled=MORNING, status=Status.MISSED, error="máy tắt")
    failed = asrun.record(key="k2", kind="emergency", slot="Khẩn cấp", bulletins=(), priority="emergency",
                          scheduled=MORNING + timedelta(hours=1), status=Status.FAILED,
                          started=MORNING + timedelta(hours=1), ended=MORNING + timedelta(hours=1, seconds=1),
                          engine="espeak-ng", error="Sound device 'default' not found")
    rows = asrun.history()
    assert [(r.id, r.status, r.bulletins, r.error) for r in rows] == [
        (missed, Status.MISSED, ("a",), "máy tắt"),
        (failed, Status.FAILED, (), "Sound device 'default' not found"),
    ]
    assert rows[0].started is None and rows[0].engine is None


def test_history_window_is_half_open_and_by_scheduled_time(asrun):
    for day in range(3):
        asrun.record(key=f"d{day}", kind="scheduled", slot="s", bulletins=("a",), priority="normal",
                     scheduled=MORNING + timedelta(days=day), status=Status.PLAYED)
    start = datetime(2023, 1, 17, tzinfo=HCM)
    assert [r.key for r in asrun.history(start)] == ["d1", "d2"]
    assert [r.key for r in asrun.history(None, start)] == ["d0"]
    assert [r.key for r in asrun.history(start, start + timedelta(days=1))] == ["d1"]
    # The same instant written in UTC still sorts and filters by the instant.
    utc = ZoneInfo("UTC")
    assert [r.key for r in asrun.history(datetime(2023, 1, 16, 23, 0, tzinfo=utc))] == ["d1", "d2"]
    assert [r.key for r in asrun.history(datetime(2023, 1, 16, 23, 0, 1, tzinfo=utc))] == ["d2"]


def test_done_keys_counts_only_aired(asrun):
    for key, status, hours in [("played", Status.PLAYED, 0), ("late", Status.LATE, 1),
                               ("missed", Status.MISSED, 2), ("failed", Status.FAILED, 3),
                               ("cut", Status.INTERRUPTED, 4), ("old", Status.PLAYED, -30)]:
        asrun.record(key=key, kind="scheduled", slot="s", bulletins=("a",), priority="normal",
                     scheduled=MORNING + timedelta(hours=hours), status=status)
    asrun.start(key="now", kind="scheduled", slot="s", bulletins=("a",), priority="normal",
                scheduled=MORNING, started=MORNING, engine=None)
    assert asrun.done_keys(MORNING - timedelta(hours=1)) == {"played", "late"}


def test_recover_marks_playing_rows_interrupted(asrun):
    finished = asrun.start(key="a", kind="scheduled", slot="s", bulletins=("x",), priority="normal",
                           scheduled=MORNING, started=MORNING, engine="gtts")
    asrun.finish(finished, ended=MORNING + timedelta(minutes=1), status=Status.PLAYED)
    cut = asrun.start(key="b", kind="manual", slot="s", bulletins=("x",), priority="priority",
                      scheduled=MORNING + timedelta(hours=1), started=MORNING + timedelta(hours=1),
                      engine="gtts")
    recovered = asrun.recover(MORNING + timedelta(hours=2))
    assert [(r.id, r.status, r.ended) for r in recovered] == [(cut, Status.INTERRUPTED, None)]
    assert recovered[0].error
    assert asrun.history() == [asrun.history()[0], recovered[0]]
    assert asrun.recover(MORNING + timedelta(hours=3)) == []


def test_naive_times_are_refused(asrun):
    with pytest.raises(AsRunError):
        asrun.record(key="k", kind="scheduled", slot="s", bulletins=(), priority="normal",
                     scheduled=datetime(2023, 1, 16, 6, 0), status=Status.PLAYED)
    assert asrun.history() == []


def test_unopenable_log_is_a_fault_for_the_daemon_and_an_error_for_history(tmp_path):
    (tmp_path / "state").write_text("a file where the folder should be")
    with pytest.raises(AsRunError, match="state"):
        AsRunLog(tmp_path / "state" / "asrun.sqlite3", readonly=True)
    with AsRunLog(tmp_path / "state" / "asrun.sqlite3", journal_folders=[tmp_path / "spare"]) as daemon_log:
        assert "state" in daemon_log.fault.message
        daemon_log.record(key="k", kind="scheduled", slot="s", bulletins=(), priority="normal",
                          scheduled=MORNING, status=Status.MISSED)
        assert [r.key for r in daemon_log.history()] == ["k"]


CHILD = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo
    from broadcaster.asrun import AsRunLog
    at = datetime(2023, 1, 16, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    log = AsRunLog(Path(sys.argv[1]))
    row = log.start(key="Sáng@kill", kind="scheduled", slot="Sáng", bulletins=("a",),
                    priority="normal", scheduled=at, started=at, engine="gtts")
    print(row, flush=True)
    time.sleep(60)
""")


def test_row_survives_kill_9(tmp_path):
    path = tmp_path / "asrun.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                             text=True, cwd=os.getcwd())
    try:
        row_id = int(child.stdout.readline())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with AsRunLog(path) as reopened:
        rows = reopened.history()
        assert [(r.id, r.key, r.status) for r in rows] == [(row_id, "Sáng@kill", Status.PLAYING)]
        assert [r.id for r in reopened.recover(datetime(2023, 1, 16, 7, 0, tzinfo=HCM))] == [row_id]
    with AsRunLog(path) as again:
        assert again.history()[0].status is Status.INTERRUPTED


def test_finish_records_the_start_the_device_measured(asrun):
    row_id = asrun.start(key="k", kind="scheduled", slot="Sáng", bulletins=("a",), priority="normal",
                         scheduled=MORNING, started=MORNING, engine="espeak-ng")
    measured = MORNING + timedelta(milliseconds=3)
    asrun.finish(row_id, ended=MORNING + timedelta(minutes=1), status=Status.PLAYED, started=measured)
    (row,) = asrun.history()
    assert row.started == measured
    assert row.to_json()["started"] == measured.isoformat(timespec="milliseconds")
