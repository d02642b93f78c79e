"""The as-run log as files for the commune's paperwork: CSV that Excel opens, and XLSX.

In: history rows as the desk serves them (dicts, times already in station time). Out: a file.
Run as `python -m broadcaster.desk.exports` by the desk (JSON request on stdin), so the memory a
100,000-row export needs is given back when it exits. The CSV starts with a UTF-8 byte-order
mark: without it Excel on a Vietnamese Windows reads the file as ANSI and every diacritic breaks.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

FIELDS = ("id", "key", "kind", "slot", "bulletins", "priority", "scheduled", "started", "ended",
          "status", "engine", "error", "attempts", "note", "pending")


def _cells(row: dict) -> list:
    """One row's cells; `pending` (not yet in SQLite) is 1 or empty, as in `broadcaster history --csv`."""
    return ["" if row.get(k) is None or row.get(k) is False else
            (" ".join(row[k]) if k == "bulletins" else 1 if row[k] is True else row[k]) for k in FIELDS]


def write_csv(rows: list[dict], out: Path) -> None:
    with open(out, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(FIELDS)
        writer.writerows(_cells(row) for row in rows)


def write_xlsx(rows: list[dict], out: Path, title: str = "nhat-ky") -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(FIELDS))
    for row in rows:
        sheet.append(_cells(row))
    book.save(out)


def main() -> int:
    from zoneinfo import ZoneInfo

    from broadcaster.desk.service import history_rows
    from broadcaster.desk.store import DeskError

    request = json.loads(sys.stdin.read())
    try:
        rows = history_rows(Path(request["log"]), ZoneInfo(request["zone"]), request["first"], request["last"],
                            request["slot"], request["status"])
    except DeskError as exc:             # an unreadable as-run log: said, not a traceback
        print(exc, file=sys.stderr)
        return 1
    rows.reverse()                       # paperwork reads oldest first
    try:
        (write_xlsx if request["kind"] == "xlsx" else write_csv)(rows, Path(request["out"]))
    except OSError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
