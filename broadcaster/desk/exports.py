"""The as-run log as files for the commune's paperwork: CSV that Excel opens, and XLSX.

In: history rows as the desk serves them (dicts, times already in station time). Out: bytes.
The CSV starts with a UTF-8 byte-order mark: without it Excel on a Vietnamese Windows reads the
file as ANSI and every diacritic breaks.
"""

from __future__ import annotations

import csv
import io

FIELDS = ("id", "key", "kind", "slot", "bulletins", "priority", "scheduled", "started", "ended",
          "status", "engine", "error")


def _cells(row: dict) -> list:
    return ["" if row.get(k) is None else (" ".join(row[k]) if k == "bulletins" else row[k]) for k in FIELDS]


def to_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    writer.writerows(_cells(row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "asrun")
    sheet.append(list(FIELDS))
    for row in rows:
        sheet.append(_cells(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
