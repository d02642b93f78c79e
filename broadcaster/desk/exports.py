"""The as-run log as files for the commune's paperwork: CSV that Excel opens, and XLSX.

In: a `history.Query` over the log. Out: bytes for the response. Both read the rows from SQLite
one batch at a time, oldest first (paperwork reads in time order), so memory stays flat however
many rows the range holds.

- CSV is streamed by the desk itself, row by row as the client reads: the first byte leaves at
  once. It starts with a UTF-8 byte-order mark: without it Excel on a Vietnamese Windows reads the
  file as ANSI and every diacritic breaks. Lines end CRLF, as Excel writes them.
- XLSX is a zip whose directory comes last, so it cannot leave before it is whole: openpyxl's
  write-only mode builds it row by row into a temporary file, in a child process
  (`python -m broadcaster.desk.exports`, JSON request on stdin) that gives its memory back when
  it exits and cannot slow the desk's own requests; the desk then streams the file.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.desk.history import COLUMNS, Query, rows
from broadcaster.desk.store import DeskError

CHUNK_ROWS = 500               # rows per piece of a streamed CSV


def _cells(row: dict) -> list:
    """One row's cells; `pending` (not yet in SQLite) is 1 or empty, as in `broadcaster history --csv`."""
    return ["" if row.get(k) is None or row.get(k) is False else
            (" ".join(row[k]) if k == "bulletins" else 1 if row[k] is True else row[k]) for k in COLUMNS]


def csv_chunks(records: Iterable[dict]) -> Iterator[bytes]:
    """The CSV file in pieces: the byte-order mark and header first, then `CHUNK_ROWS` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in records:
        writer.writerow(_cells(row))
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(records: Iterable[dict], out: Path, title: str = "nhat-ky") -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(COLUMNS))
    for row in records:
        sheet.append(_cells(row))
    book.save(out)


def main() -> int:
    request = json.loads(sys.stdin.read())
    query = Query(ZoneInfo(request["zone"]), request["first"], request["last"], request["slot"], request["status"])
    try:
        write_xlsx(rows(Path(request["log"]), query, newest_first=False), Path(request["out"]))
    except (OSError, DeskError) as exc:         # said on stderr for the desk to show, not a traceback
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
