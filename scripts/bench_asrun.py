#!/usr/bin/env python3
"""As-run log benchmark: what the one-row rule and the salvage of a damaged log cost.

Builds a log of a busy station's year (100,000 rows by default, written in one transaction into
the real schema) in a temporary folder, then measures, each next to a baseline from the same run
(medians of 3):
- reading: a plain `SELECT *` of the sound file (baseline) beside `salvage()` of the same file
  read page by page, and of the file with noise over one page in ten;
- start-up on a damaged log: `AsRunLog()` on the file with noise over its first page (moved
  aside, salvaged, copied into a new log: the delay before the station can plan), beside
  `AsRunLog()` on the sound file (baseline);
- writing: one programme's `start()` + `finish()` (the row is looked up by key first, so a retry
  or a replay reopens it) beside a `record()` of a missed slot of a new key, on the year-long log.

No target is set for these; they say what a fault costs at start-up.

Usage: .venv/bin/python scripts/bench_asrun.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from broadcaster.asrun import AsRunLog, Status, log_path  # noqa: E402
from broadcaster.asrun.salvage import salvage  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2023, 1, 1, 5, 0, tzinfo=ZONE)


def build(path: Path, rows: int) -> None:
    AsRunLog(path).close()                      # the real schema, migrated
    db = sqlite3.connect(path)
    records = []
    for n in range(rows):
        when = START + timedelta(minutes=30 * n)
        status = ("played", "played", "played", "late", "missed", "interrupted")[n % 6]
        started = None if status == "missed" else when.isoformat(timespec="milliseconds")
        ended = None if status == "missed" else (when + timedelta(minutes=4)).isoformat(timespec="milliseconds")
        records.append((f"Bản tin {n % 24}@{when.isoformat()}", "scheduled", f"Bản tin {n % 24}",
                        "cchc-2023-mo-dau\ncchc-2023-muc-dich", "normal", when.isoformat(timespec="milliseconds"),
                        when.timestamp(), started, ended, status, "gtts", None, 0 if started is None else 1))
    db.executemany("INSERT INTO asrun (key, kind, slot, bulletins, priority, scheduled, scheduled_utc, started, "
                   "ended, status, engine, error, attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", records)
    db.commit()
    db.close()


def noise(path: Path, every: int) -> None:
    """Overwrite one page in `every` (the first page when `every` is 0) with noise."""
    pages = path.stat().st_size // 4096
    with open(path, "r+b") as handle:
        for page in ([0] if every == 0 else range(every // 2, pages, every)):
            handle.seek(page * 4096)
            handle.write(os.urandom(4096))


def median(run, times: int = 3) -> tuple[float, object]:
    spent, result = [], None
    for _ in range(times):
        began = time.perf_counter()
        result = run()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    logging.getLogger("broadcaster.asrun").setLevel(logging.CRITICAL)   # the damaged-log lines, 3 times over
    folder = Path(tempfile.mkdtemp(prefix="bench-asrun-"))
    try:
        sound = log_path(folder / "sound")
        build(sound, args.rows)
        size = sound.stat().st_size / 1e6
        print(f"as-run log of {args.rows:,} rows, {size:.1f} MB; load average {os.getloadavg()[0]:.2f}")

        def select_all() -> int:
            db = sqlite3.connect(sound)
            try:
                return len(db.execute("SELECT * FROM asrun").fetchall())
            finally:
                db.close()

        spent, count = median(select_all)
        print(f"  baseline: plain SELECT *             {spent * 1000:8.0f} ms  {count:,} rows")
        spent, found = median(lambda: salvage(sound))
        print(f"  salvage, sound file                  {spent * 1000:8.0f} ms  {len(found.rows):,} rows")
        spotted = folder / "spotted.sqlite3"
        shutil.copyfile(sound, spotted)
        noise(spotted, 10)
        spent, found = median(lambda: salvage(spotted))
        print(f"  salvage, noise on 1 page in 10       {spent * 1000:8.0f} ms  {len(found.rows):,} rows, "
              f"{found.skipped} damaged cell(s) skipped")

        def open_log(path: Path, damaged: bool) -> float:
            copy = log_path(folder / f"open-{time.monotonic_ns()}")
            copy.parent.mkdir()
            shutil.copyfile(path, copy)
            if damaged:
                noise(copy, 0)
            began = time.perf_counter()
            with AsRunLog(copy, journal_folders=[copy.parent]) as asrun:
                spent = time.perf_counter() - began
                salvaged = asrun.replaced.salvaged if asrun.replaced else None
            shutil.rmtree(copy.parent)
            return spent, salvaged

        sound_open = statistics.median(open_log(sound, False)[0] for _ in range(3))
        print(f"  baseline: AsRunLog() on the sound log{sound_open * 1000:8.0f} ms")
        runs = [open_log(sound, True) for _ in range(3)]
        print(f"  AsRunLog() on a ruined first page    {statistics.median(r[0] for r in runs) * 1000:8.0f} ms  "
              f"{runs[0][1]:,} rows salvaged into the new log")

        with AsRunLog(sound, journal_folders=[folder]) as asrun:
            when = START + timedelta(days=400)
            keys = iter(range(10**9))

            def missed() -> None:
                asrun.record(key=f"lỡ@{next(keys)}", kind="scheduled", slot="lỡ", bulletins=("a",), priority="normal",
                             scheduled=when, status=Status.MISSED, error="x")

            def aired() -> None:
                row = asrun.start(key=f"phát@{next(keys)}", kind="scheduled", slot="phát", bulletins=("a",),
                                  priority="normal", scheduled=when, started=when, engine="gtts")
                asrun.finish(row, ended=when + timedelta(minutes=4), status=Status.PLAYED)

            spent, _ = median(missed, 20)
            print(f"  baseline: record() of a new key      {spent * 1000:8.1f} ms")
            spent, _ = median(aired, 20)
            print(f"  start() + finish() of a programme    {spent * 1000:8.1f} ms  (two commits, FULL sync)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
