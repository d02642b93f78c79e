#!/usr/bin/env python3
"""Report and make-up planning benchmark on a year of a busy station's as-run log.

Builds a station (4 campaigns, 24 slots a day) and a year (2023) of as-run history: 100,000 rows
by default, with the mix a real log has (played, late, missed, failed, interrupted, make-ups,
emergencies; gTTS and the offline voice). The rows are written in one transaction into the real
schema (the log's own `AsRunLog` creates the file), since writing is not what is measured.

Measured, each next to a baseline from the same run:
- `report --period 2023` in every format: the generation in this process (figures + file, the
  median of 3) and the whole command in its own process (time and peak RSS, VmHWM); baseline:
  a plain SQL count of the same rows by status, in this process and in a process of its own;
- make-up planning (`plan_make_ups`) on 28 December, when the yearly campaign's period holds the
  whole year's rows (median of 5 passes); baseline: expanding the same year of slots
  (`occurrences`).

Targets (issue 10): <= 2 s for md/json/xlsx, <= 5 s for pdf/docx with the chart, <= 200 MB peak;
<= 100 ms per planning pass.

Usage: .venv/bin/python scripts/bench_report.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from broadcaster.asrun.log import AsRunLog, iso, log_path  # noqa: E402
from broadcaster.makeup import plan_make_ups  # noqa: E402
from broadcaster.occurrences import occurrences  # noqa: E402
from broadcaster.report import build, read_rows, write  # noqa: E402
from broadcaster.schedule import load_schedule  # noqa: E402
from tests.measure import run_measured  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FORMATS = ("md", "json", "xlsx", "docx", "pdf")
CAMPAIGNS = ("cchc", "bau-cu", "tiem-chung", "phong-chay")
SLOTS_PER_DAY = 24
BASELINE_SQL = ("SELECT status, COUNT(*), SUM((julianday(ended) - julianday(started)) * 1440) "
                "FROM asrun WHERE scheduled_utc >= ? AND scheduled_utc < ? GROUP BY status")


def write_station(folder: Path) -> Path:
    bulletins = {f"{c}-{n}": {"text": f"Bản tin {n} của kế hoạch {c}: tuyên truyền đến bà con nhân dân."}
                 for c in CAMPAIGNS for n in range(3)}
    lines = ["station:", "  name: Đài truyền thanh xã Vinh Quang", '  air_hours: ["05:00-21:30"]', "bulletins:"]
    lines += [f"  {bid}:\n    text: \"{spec['text']}\"" for bid, spec in bulletins.items()]
    lines.append("campaigns:")
    for n, campaign in enumerate(CAMPAIGNS):
        per = ("week", "month", "quarter", "year")[n]
        amount = (40, 180, 540, 2000)[n]
        lines += [f"  {campaign}:", f"    title: Kế hoạch tuyên truyền {campaign} năm 2023",
                  "    from: 2023-01-01", "    until: 2023-12-31",
                  f"    bulletins: [{', '.join(f'{campaign}-{k}' for k in range(3))}]",
                  f"    target: {{broadcasts: {amount}, per: {per}}}", "    make_up: true"]
    lines.append("slots:")
    for n in range(SLOTS_PER_DAY):
        minute = 5 * 60 + n * 40
        campaign = CAMPAIGNS[n % len(CAMPAIGNS)]
        lines += [f"  - name: Khung {n:02d}", f'    at: "{minute // 60:02d}:{minute % 60:02d}"',
                  f"    play: [{campaign}-{n % 3}, {campaign}-{(n + 1) % 3}]"]
    path = folder / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_history(schedule, rows: int, seed: int = 10) -> int:
    """`rows` as-run rows over 2023 in the real schema; returns how many were written."""
    rnd = random.Random(seed)
    AsRunLog(log_path(schedule.station.state_dir)).close()          # the real schema
    per_day = rows / 365
    records = []
    row_id = 0
    for day_index in range(365):
        day = date(2023, 1, 1) + timedelta(days=day_index)
        count = int(per_day * (day_index + 1)) - int(per_day * day_index)
        for n in range(count):
            scheduled = datetime(day.year, day.month, day.day, 5, tzinfo=VN) + timedelta(seconds=n * 16.5 * 3600 / count)
            campaign = CAMPAIGNS[n % len(CAMPAIGNS)]
            roll = rnd.random()
            kind, slot = "scheduled", f"Khung {n % SLOTS_PER_DAY:02d}"
            bulletins = f"{campaign}-{n % 3}\n{campaign}-{(n + 1) % 3}"
            status = "played" if roll < 0.90 else "late" if roll < 0.93 else "missed" if roll < 0.96 else \
                "failed" if roll < 0.98 else "interrupted"
            if rnd.random() < 0.01:
                kind, slot, status = "make-up", f"bù {campaign}", "played"
            if rnd.random() < 0.002:
                kind, slot, bulletins, status = "emergency", "emergency", "emergency-1", "played"
            started = ended = engine = None
            if status != "missed":
                started = scheduled + timedelta(seconds=rnd.uniform(0, 0.5) if status != "late" else 30)
                ended = started + timedelta(minutes=rnd.uniform(2, 8) if status != "failed" else 0)
                engine = "gtts" if rnd.random() < 0.85 else "espeak-ng"
            row_id += 1
            records.append((row_id, f"{slot}@{scheduled.isoformat()}", kind, slot, bulletins, "normal",
                            iso(scheduled), scheduled.timestamp(), iso(started), iso(ended), status, engine, None))
    with sqlite3.connect(log_path(schedule.station.state_dir)) as db:
        db.executemany("INSERT INTO asrun (id, key, kind, slot, bulletins, priority, scheduled, scheduled_utc, "
                       "started, ended, status, engine, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       records)
    return len(records)


def timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def baseline_process(db: Path) -> tuple[float, int]:
    """The plain SQL count in a process of its own: (seconds, peak RSS KB)."""
    code = ("import sqlite3, sys\n"
            f"db = sqlite3.connect({str(db)!r})\n"
            f"rows = db.execute({BASELINE_SQL!r}, (0, 1e12)).fetchall()\n"
            "with open('/proc/self/status') as s:\n"
            "    sys.stderr.write(next(l for l in s if l.startswith('VmHWM:')).split()[1])\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return time.monotonic() - started, int(result.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        folder = Path(tmp)
        schedule = load_schedule(write_station(folder))
        written = write_history(schedule, args.rows)
        db = log_path(schedule.station.state_dir)
        first, last = date(2023, 1, 1), date(2023, 12, 31)
        print(f"as-run log: {written} rows over 2023, {db.stat().st_size / 1e6:.1f} MB")

        span = (datetime(2023, 1, 1, tzinfo=VN).timestamp(), datetime(2024, 1, 1, tzinfo=VN).timestamp())
        sql_seconds = timed(lambda: sqlite3.connect(db).execute(BASELINE_SQL, span).fetchall(), 3)
        read_seconds = timed(lambda: read_rows(schedule, first, last), 3)
        print(f"\nbaseline, this process: plain SQL count by status {sql_seconds * 1000:.0f} ms; "
              f"reading the rows (AsRunLog.facts) {read_seconds * 1000:.0f} ms")
        base_seconds, base_peak = baseline_process(db)
        print(f"baseline, own process: plain SQL count {base_seconds:.2f} s, peak {base_peak / 1024:.0f} MB")
        _, _, cli_seconds, cli_peak = run_measured(["--version"], cwd=folder)
        print(f"baseline, own process: `broadcaster --version` (the CLI's imports) {cli_seconds:.2f} s, "
              f"peak {cli_peak / 1024:.0f} MB")

        now = datetime(2024, 1, 5, 9, tzinfo=VN)
        print(f"\n{'format':<6} {'generate (median of 3)':>24} {'command':>9} {'peak RSS':>9} {'file':>9}  target")
        for fmt in FORMATS:
            out = folder / f"report.{fmt}"

            def generate():
                report, rows = build(schedule, first, last, now=now)
                write(report, rows, fmt, out)

            seconds = timed(generate, 3)
            status, errors, command_seconds, peak = run_measured(
                ["report", "--schedule", str(folder / "schedule.yaml"), "--period", "2023", "--format", fmt,
                 "--out", str(out)], cwd=folder, timeout=120)
            if status != 0:
                print(errors)
                return 1
            target = 5.0 if fmt in ("pdf", "docx") else 2.0
            print(f"{fmt:<6} {seconds:>22.2f} s {command_seconds:>7.2f} s {peak / 1024:>6.0f} MB "
                  f"{out.stat().st_size / 1e6:>6.1f} MB  <= {target:.0f} s, <= 200 MB")

        rows = read_rows(schedule, first, last)
        # At the end of the year the yearly campaign's period holds every row: the worst pass.
        late = datetime(2023, 12, 28, 9, tzinfo=VN)
        rows = [row for row in rows if row.scheduled_utc < late.timestamp()]
        plans = plan_make_ups(schedule, rows, late)
        plan_seconds = timed(lambda: plan_make_ups(schedule, rows, late), 5)
        expand_seconds = timed(lambda: occurrences(schedule, datetime(2023, 1, 1, tzinfo=VN), late), 5)
        print(f"\nmake-up planning, one pass on {late:%Y-%m-%d %H:%M} (4 campaigns with weekly, monthly, quarterly "
              f"and yearly targets; {len(rows)} rows in the year so far; {SLOTS_PER_DAY} slots a day): "
              f"{plan_seconds * 1000:.0f} ms ({len(plans)} make-ups planned), target <= 100 ms")
        print(f"baseline: expanding the year's slots up to that day (occurrences) {expand_seconds * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
