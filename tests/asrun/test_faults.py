"""The as-run log under real faults: damaged files at start, a disk that fills up or turns
read-only while the station runs. Every row survives and each fault is reported once."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.asrun import AsRunLog, Status, log_path
from broadcaster.asrun.journal import STATE_NAME
from broadcaster.errors import AsRunError
from tests.onair.conftest import wait_for
from tests.filesystems import small_disk  # noqa: F401  (fixture)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2023, 1, 16, 6, 0, tzinfo=HCM)


pytestmark = pytest.mark.usefixtures("english")


def fill_log(path: Path, rows: int) -> None:
    with AsRunLog(path) as asrun:
        for n in range(rows):
            asrun.record(key=f"Sáng@{n}", kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                         scheduled=MORNING + timedelta(days=n), status=Status.PLAYED, error="x" * 200)


def aired(asrun: AsRunLog, key: str, when: datetime = MORNING) -> int:
    row = asrun.start(key=key, kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                      scheduled=when, started=when, engine="gtts")
    asrun.finish(row, ended=when + timedelta(minutes=3), status=Status.PLAYED)
    return row


def truncate_to_zero(path: Path) -> None:
    path.write_bytes(b"")


def truncate_to_half(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)


def garbage_header(path: Path) -> None:
    path.write_bytes(b"<html>not a database</html>" * 200)


def garbage_page(path: Path) -> None:
    """The header is intact, a b-tree page in the middle is noise: only quick_check can tell."""
    with open(path, "r+b") as handle:
        handle.seek(4096 * 3)
        handle.write(bytes(range(256)) * 16)


def a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage, reason", [
    (truncate_to_zero, "0 bytes"),
    (truncate_to_half, "truncated"),
    (garbage_header, "header"),
    (garbage_page, "damaged"),
    (a_folder, "not a regular file"),
], ids=["0-byte", "half-truncated", "garbage-header", "garbage-page", "unreadable-folder"])
def test_a_damaged_log_is_moved_aside_and_a_new_log_starts(tmp_path, caplog, damage, reason):
    path = log_path(tmp_path)
    fill_log(path, 60)
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    damage(path)
    with AsRunLog(path) as asrun:
        assert asrun.replaced is not None and reason in asrun.replaced.reason
        moved = asrun.replaced.moved_to
        assert moved.parent == tmp_path and moved.name.startswith("asrun.sqlite3.damaged-")
        salvaged = [r.key for r in asrun.history()]        # what could still be read (test_salvage.py)
        assert len(salvaged) == asrun.replaced.salvaged <= 60 and asrun.fault is None
        aired(asrun, "Chiều@1")
        assert [r.key for r in sorted(asrun.history(), key=lambda r: r.id)] == salvaged + ["Chiều@1"]
    assert moved.exists()
    loud = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(loud) == 1 and "DAMAGED" in loud[0].getMessage() and str(moved) in loud[0].getMessage()
    with AsRunLog(path) as again:                      # the new log is sound: no second replacement
        assert again.replaced is None
        assert [r.key for r in sorted(again.history(), key=lambda r: r.id)] == salvaged + ["Chiều@1"]


def test_history_reads_a_damaged_log_without_touching_it(tmp_path):
    path = log_path(tmp_path)
    path.write_bytes(b"")
    with pytest.raises(AsRunError, match="0 bytes"):
        AsRunLog(path, readonly=True)
    assert path.exists() and path.stat().st_size == 0


def test_what_aired_is_remembered_beside_the_log_when_the_log_is_lost(tmp_path):
    path = log_path(tmp_path)
    with AsRunLog(path) as asrun:
        aired(asrun, "Sáng@1")
    truncate_to_zero(path)
    with AsRunLog(path) as asrun:
        assert asrun.replaced is not None
        assert asrun.history() == []
        assert asrun.done_keys(MORNING - timedelta(hours=1)) == {"Sáng@1"}


def test_disk_full_keeps_rows_in_memory_and_journal_then_writes_them(small_disk, tmp_path, caplog):
    spare = tmp_path / "spare"
    spare.mkdir()
    path = log_path(small_disk.path)
    asrun = AsRunLog(path, journal_folders=[small_disk.path, spare], retry_every=0.1)
    try:
        first = aired(asrun, "Sáng@0")
        small_disk.fill()
        caplog.clear()
        playing = asrun.start(key="Sáng@1", kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                              scheduled=MORNING + timedelta(days=1), started=MORNING + timedelta(days=1), engine="gtts")
        assert playing < 0                             # kept in memory, not refused
        asrun.finish(playing, ended=MORNING + timedelta(days=1, minutes=3), status=Status.PLAYED)
        asrun.record(key="Chiều@1", kind="scheduled", slot="Chiều", bulletins=("tin-b",), priority="normal",
                     scheduled=MORNING + timedelta(days=1, hours=11), status=Status.MISSED, error="tắt máy")
        asrun.finish(first, ended=MORNING + timedelta(minutes=4), status=Status.PLAYED)
        fault = asrun.fault
        assert fault is not None and "full" in fault.message and fault.pending == 3
        assert fault.journal == spare / next(spare.iterdir()).name
        assert [r.key for r in asrun.history()] == ["Sáng@0", "Sáng@1", "Chiều@1"]
        assert asrun.done_keys(MORNING) == {"Sáng@0", "Sáng@1"}
        faults = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(faults) == 1 and "FAULT" in faults[0].getMessage()   # once, not once per row
        small_disk.free()
        wait_for(lambda: asrun.fault is None, timeout=5)
        assert "writable again" in caplog.text
        assert not list(spare.iterdir())               # the journal is gone once its rows are written
    finally:
        asrun.close()
    with AsRunLog(path) as reopened:
        rows = reopened.history()
    assert [(r.key, r.status, r.ended.minute if r.ended else None) for r in rows] == [
        ("Sáng@0", Status.PLAYED, 4), ("Sáng@1", Status.PLAYED, 3), ("Chiều@1", Status.MISSED, None)]
    assert all(r.id > 0 for r in rows)


def test_a_log_first_opened_on_a_full_disk_is_not_called_damaged_at_each_retry(small_disk, tmp_path, caplog):
    """SQLite creates a 0-byte file before it fails on a full disk; the retries must not take
    that empty file for a truncated log and move it aside again and again."""
    spare = tmp_path / "spare"
    spare.mkdir()
    small_disk.fill()
    path = log_path(small_disk.path)
    asrun = AsRunLog(path, journal_folders=[spare], retry_every=0.05)
    try:
        aired(asrun, "Sáng@0")
        assert asrun.fault is not None
        time.sleep(1.0)                                # about 20 retries against the full disk
        assert not [p.name for p in small_disk.path.iterdir() if ".damaged-" in p.name]
        assert asrun.replaced is None
        assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
        small_disk.free()
        wait_for(lambda: asrun.fault is None, timeout=5)
    finally:
        asrun.close()
    with AsRunLog(path) as reopened:
        assert [(r.key, r.status) for r in reopened.history()] == [("Sáng@0", Status.PLAYED)]


def test_read_only_state_folder_starts_and_the_journal_brings_the_rows_back(small_disk, tmp_path, caplog):
    spare = tmp_path / "spare"
    spare.mkdir()
    path = log_path(small_disk.path)
    with AsRunLog(path) as asrun:
        aired(asrun, "Sáng@0")
    small_disk.read_only()
    try:
        with AsRunLog(path, journal_folders=[small_disk.path, spare], retry_every=0.1) as asrun:
            assert asrun.fault is not None
            assert asrun.done_keys(MORNING) == {"Sáng@0"}          # the old log is still read
            aired(asrun, "Sáng@1", MORNING + timedelta(days=1))
            assert asrun.done_keys(MORNING) == {"Sáng@0", "Sáng@1"}
        assert "journal" in caplog.text
        assert [p.name for p in spare.iterdir()][0].startswith("broadcaster-asrun-")
    finally:
        small_disk.read_only(False)
    with AsRunLog(path, journal_folders=[small_disk.path, spare]) as asrun:   # the next start
        rows = asrun.history()
        assert [(r.key, r.status) for r in rows] == [("Sáng@0", Status.PLAYED), ("Sáng@1", Status.PLAYED)]
    with AsRunLog(path, journal_folders=[small_disk.path, spare]) as asrun:   # and only once
        assert len(asrun.history()) == 2
    assert not (small_disk.path / STATE_NAME).exists() and not list(spare.iterdir())


def test_a_journal_cut_mid_line_by_a_power_failure_is_still_read(tmp_path):
    path = log_path(tmp_path / "state")
    (tmp_path / "state").mkdir()
    journal = tmp_path / "state" / STATE_NAME
    row = ('{"run": "r1", "op": "row", "handle": -1, "fields": {"key": "Sáng@1", "kind": "scheduled", '
           '"slot": "Sáng", "bulletins": "a", "priority": "normal", "scheduled": "2023-01-16T06:00:00.000+07:00", '
           '"scheduled_utc": %s, "started": null, "ended": null, "status": "missed", "engine": null, '
           '"error": "x"}}\n' % MORNING.timestamp())
    journal.write_text(row + row.replace("Sáng@1", "Sáng@2")[:40], encoding="utf-8")
    os.sync()
    with AsRunLog(path) as asrun:
        assert [(r.key, r.status) for r in asrun.history()] == [("Sáng@1", Status.MISSED)]
    assert not journal.exists()


def test_a_journal_file_another_user_owns_is_neither_read_written_nor_removed(tmp_path):
    """The journal's fallback folders (/dev/shm, /var/tmp, /tmp) are everyone's and its name is
    predictable: a file there that another user made (forged rows: an aired row keeps a slot from
    airing) is not the station's. Seen here by a Journal whose trusted owners exclude this user."""
    from broadcaster.asrun.journal import Journal, journal_name

    state, shared = tmp_path / "state", tmp_path / "shared"
    state.mkdir()
    shared.mkdir()
    path = log_path(state)
    forged = shared / journal_name(path, shared)
    fields = {"key": "Sáng@1", "kind": "scheduled", "slot": "Sáng", "bulletins": "a", "priority": "normal",
              "scheduled": "2023-01-16T06:00:00.000+07:00", "scheduled_utc": MORNING.timestamp(),
              "started": "2023-01-16T06:00:00.000+07:00", "ended": "2023-01-16T06:03:00.000+07:00",
              "status": "played", "engine": "gtts", "error": None}
    line = '{"run": "x", "op": "row", "handle": -1, "fields": %s}\n' % json.dumps(fields)
    forged.write_text(line, encoding="utf-8")
    station = Journal(path, [state, shared], owners={os.geteuid() + 4242})   # the file is not theirs
    assert station.read() == [] and not station.waiting()
    assert Journal(path, [shared], owners={os.geteuid() + 4242}).append({"op": "row"}) is None
    station.clear()
    assert forged.read_text(encoding="utf-8") == line                         # untouched
    assert [c["fields"]["key"] for c in Journal(path, [state, shared]).read()] == ["Sáng@1"]   # its owner's
