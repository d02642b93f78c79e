"""Rows salvaged from a damaged as-run log: real SQLite files cut short or overwritten with noise,
moved aside at start-up; every row still readable is copied, unchanged, into the new log."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster import i18n
from broadcaster.asrun import AsRunLog, Status, log_path
from broadcaster.asrun.salvage import salvage
from tests.filesystems import small_disk  # noqa: F401  (fixture)
from tests.onair.conftest import wait_for

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2023, 1, 16, 6, 0, tzinfo=HCM)
ROWS = 240                          # about 20 pages of 4 KB


@pytest.fixture(autouse=True)
def english():
    i18n.set_language("en")
    yield
    i18n.set_language(None)


def write_rows(asrun: AsRunLog, count: int = ROWS) -> None:
    """A season of broadcasts: played ones, a missed one now and then, a cut-and-replayed one."""
    for n in range(count):
        key = f"Sáng@{n}"
        when = MORNING + timedelta(days=n)
        if n % 7 == 3:
            asrun.record(key=key, kind="scheduled", slot="Sáng", bulletins=("tin-a",), priority="normal",
                         scheduled=when, status=Status.MISSED, error="tắt máy")
            continue
        row = asrun.start(key=key, kind="scheduled", slot="Sáng", bulletins=("tin-a", "tin-b"), priority="normal",
                          scheduled=when, started=when, engine="gtts")
        if n % 5 == 0:
            asrun.finish(row, ended=when + timedelta(seconds=40), status=Status.INTERRUPTED, error="Cut by emergency.")
            asrun.start(key=key, kind="scheduled", slot="Sáng", bulletins=("tin-a", "tin-b"), priority="normal",
                        scheduled=when, started=when + timedelta(minutes=1), engine="gtts")
        asrun.finish(row, ended=when + timedelta(minutes=4), status=Status.PLAYED, error="ghi chú " * 8)


def original(path: Path) -> dict[int, object]:
    with AsRunLog(path, readonly=True, journal=False) as asrun:
        return {row.id: row for row in asrun.history()}


def cut_mid_file(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size * 11 // 20 + 1234)   # not on a page boundary


def noise_in_the_middle(path: Path) -> None:
    """Two pages of noise: a leaf of rows and, for most layouts, an interior page above others."""
    with open(path, "r+b") as handle:
        for page in (2, 9):
            handle.seek(4096 * (page - 1))
            handle.write(bytes((n * 37 + 11) % 256 for n in range(4096)))


def noise_on_the_first_page(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.write(b"<html>not a database</html>" * 151)


@pytest.mark.parametrize("damage, some_lost", [
    (cut_mid_file, True),
    (noise_in_the_middle, True),
    (noise_on_the_first_page, False),
], ids=["truncated-mid-file", "garbage-pages-in-the-middle", "garbage-header"])
def test_every_readable_row_is_copied_into_the_new_log(tmp_path, caplog, damage, some_lost):
    path = log_path(tmp_path)
    with AsRunLog(path) as asrun:
        write_rows(asrun)
    before = original(path)
    damage(path)
    caplog.set_level(logging.WARNING)
    with AsRunLog(path) as asrun:
        replaced = asrun.replaced
        rows = asrun.history()
        done = asrun.done_keys(MORNING)
    assert replaced is not None and replaced.moved_to.exists() and replaced.salvaged == len(rows)
    assert all(row == before[row.id] for row in rows)            # copied as they were, ids included
    assert 0 < len(rows) < ROWS if some_lost else len(rows) == ROWS
    assert done >= {row.key for row in rows if row.status is Status.PLAYED}
    cut = next(row for row in rows if row.attempts == 2)          # the one-row way survives the salvage
    assert cut.note.startswith("06:00:40 interrupted") and cut.aired_before == 40.0
    [said] = [r.getMessage() for r in caplog.records if "Salvaged" in r.getMessage()]   # said once, with the count
    assert said.startswith(f"Salvaged {len(rows)} readable row(s) from the damaged log {replaced.moved_to}")
    with AsRunLog(path) as again:                                 # the new log is sound and keeps them
        assert again.replaced is None and len(again.history()) == len(rows)
        row = again.start(key="Chiều@1", kind="scheduled", slot="Chiều", bulletins=("tin-a",), priority="normal",
                          scheduled=MORNING, started=MORNING, engine="gtts")
        assert row > max(r.id for r in rows)                      # new ids never reuse a salvaged one


def test_rows_only_in_the_write_ahead_log_and_long_rows_are_salvaged(tmp_path):
    path = log_path(tmp_path / "live")
    asrun = AsRunLog(path)
    try:
        write_rows(asrun, 30)
        long = asrun.record(key="Dài@1", kind="scheduled", slot="Dài", bulletins=("tin-a",), priority="normal",
                            scheduled=MORNING, status=Status.FAILED, error="lỗi thiết bị; " * 900)   # > 4 KB: overflow pages
        copy = log_path(tmp_path / "copy")                         # the files as a power cut leaves them
        copy.parent.mkdir()
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
        before = {row.id: row for row in asrun.history()}
    finally:
        asrun.close()
    assert Path(f"{copy}-wal").stat().st_size > 4096 * 10           # most rows are only in the WAL
    noise_on_the_first_page(copy)
    found = salvage(copy)
    assert [row["id"] for row in found.rows] == sorted(before)
    with AsRunLog(copy) as recovered:
        rows = recovered.history()
    assert {row.id: row for row in rows} == before and len(before[long].error) > 4096 * 3


def test_an_empty_or_noise_only_file_salvages_nothing_and_says_so(tmp_path, caplog):
    path = log_path(tmp_path)
    path.write_bytes(bytes(range(256)) * 64)
    caplog.set_level(logging.WARNING)
    with AsRunLog(path) as asrun:
        assert asrun.replaced.salvaged == 0 and asrun.history() == []
    assert "Salvaged 0 readable row(s)" in caplog.text


def test_a_damaged_log_on_a_read_only_disk_is_salvaged_into_memory_then_into_the_new_log(small_disk, tmp_path,
                                                                                        caplog):
    spare = tmp_path / "spare"
    spare.mkdir()
    written = log_path(tmp_path / "written")                       # (the WAL would not fit on the small disk)
    with AsRunLog(written, journal_folders=[spare]) as asrun:
        write_rows(asrun)
    path = log_path(small_disk.path)
    shutil.copyfile(written, path)
    before = original(path)
    cut_mid_file(path)
    small_disk.read_only()
    caplog.set_level(logging.WARNING)
    try:
        asrun = AsRunLog(path, journal_folders=[spare], retry_every=0.1)
        kept = asrun.history()
        assert asrun.replaced.moved_to is None and asrun.replaced.salvaged == len(kept) > 0
        by_key = {row.key: row for row in before.values()}
        assert all(row.pending and dataclasses.replace(row, id=0, pending=False) ==
                   dataclasses.replace(by_key[row.key], id=0) for row in kept)
        assert asrun.done_keys(MORNING) >= {row.key for row in kept if row.status is Status.PLAYED}
        assert "kept in memory until the log can be written" in caplog.text
    finally:
        small_disk.read_only(False)
    try:
        wait_for(lambda: asrun.fault is None, timeout=5)            # moved aside, salvaged again, written once
        rows = asrun.history()
    finally:
        asrun.close()
    assert [(row.id, row.pending) for row in rows] == [(by_key[row.key].id, False) for row in kept]
    assert asrun.replaced.moved_to is not None and asrun.replaced.salvaged == len(kept)
