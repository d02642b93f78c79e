"""Rows still readable in a damaged as-run log, read page by page.

Where it sits: under `AsRunLog`, right after a damaged log was moved aside at start-up. In: the
moved-aside file (and its `-wal`). Out: every as-run row whose page can still be read, as the
column dict the log writes, so the new log starts with them and the daemon knows what already
aired (nothing is aired twice, fewer slots are written off as "missed").

Why by hand: SQLite reads a table through its b-tree, so one damaged interior page (or a file cut
short) hides every row below it, and a damaged first page hides the whole file. The sqlite3
shell's `.recover` scans pages instead, but Debian 12's build lacks the `sqlite_dbpage` table it
needs ("no such table: sqlite_dbpage"). So this module reads the file format itself
(https://www.sqlite.org/fileformat2.html): every table-leaf page, every cell, every record, then
the WAL's frames (newer versions of pages) on top; a page that does not parse is skipped, and a
record is kept only if it has the shape of an as-run row.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

LEAF = 0x0D                      # a table b-tree leaf page: where rows live
DEFAULT_PAGE = 4096
MAX_BYTES = 512 * 1024 * 1024    # a log bigger than this is not read whole (years of rows are a few MB)
STATUSES = frozenset(("playing", "played", "late", "missed", "failed", "interrupted", "partial"))
# The columns of schema 1, and those schema 2 added after them (see asrun.log).
COLUMNS = ("id", "key", "kind", "slot", "bulletins", "priority", "scheduled", "scheduled_utc", "started",
           "ended", "status", "engine", "error")
NEWER = ("attempts", "note", "aired_before")


@dataclass(frozen=True)
class Salvage:
    rows: list[dict]             # column -> value, `id` included, oldest first
    skipped: int                 # cells (or pages) that looked like rows but did not parse


def salvage(path: Path) -> Salvage:
    """The as-run rows readable in the file at `path` (and its `-wal`), by row id."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES)
    size = _page_size(data)
    # A file cut mid-page keeps the cells of its last page that lie wholly before the cut.
    pages = {n + 1: data[n * size:(n + 1) * size].ljust(size, b"\0") for n in range(-(-len(data) // size))}
    cut = {len(pages): len(data) - (len(pages) - 1) * size} if len(data) % size else {}
    wal = _wal_pages(Path(f"{path}-wal"), size)
    pages.update(wal)
    cut = {number: end for number, end in cut.items() if number not in wal}
    free = _free_pages(pages, size)
    rows: dict[int, dict] = {}
    skipped = 0
    for number in sorted(pages):
        page = pages[number]
        offset = 100 if number == 1 else 0
        if number in free or len(page) < size or page[offset] != LEAF:
            continue
        count = int.from_bytes(page[offset + 3:offset + 5], "big")
        if count > size // 6:            # not a leaf page after all (a cell takes at least 6 bytes)
            skipped += 1
            continue
        for n in range(count):
            try:
                rowid, values = _cell(page, offset, n, cut.get(number, size), pages)
            except (IndexError, ValueError, UnicodeDecodeError, struct.error):
                skipped += 1     # this cell is damaged; the page's other cells may not be
                continue
            row = _as_row(rowid, values)
            if row is not None:
                rows[rowid] = row
    return Salvage([rows[rowid] for rowid in sorted(rows)], skipped)


def _page_size(data: bytes) -> int:
    """The page size the header states, or SQLite's default when the header is gone."""
    if len(data) >= 100 and data.startswith(b"SQLite format 3\x00"):
        size = int.from_bytes(data[16:18], "big")
        size = 65536 if size == 1 else size
        if size >= 512 and not size & (size - 1):
            return size
    return DEFAULT_PAGE


def _wal_pages(path: Path, size: int) -> dict[int, bytes]:
    """The newest committed version of each page in the WAL (frames after the last commit are left out)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES)
    except OSError:
        return {}
    if len(data) < 32 or int.from_bytes(data[8:12], "big") != size:
        return {}
    committed: dict[int, bytes] = {}
    waiting: dict[int, bytes] = {}
    salt = data[16:24]
    frame = 24 + size
    for start in range(32, len(data) - frame + 1, frame):
        header = data[start:start + 24]
        if header[8:16] != salt:
            break                # a frame of an older WAL generation: the rest is stale
        waiting[int.from_bytes(header[0:4], "big")] = data[start + 24:start + frame]
        if int.from_bytes(header[4:8], "big"):       # a commit frame: its transaction is whole
            committed.update(waiting)
            waiting.clear()
    return committed


def _free_pages(pages: dict[int, bytes], size: int) -> set[int]:
    """Pages on the freelist (they may hold old copies of rows); empty when page 1 is unreadable."""
    first = pages.get(1, b"")
    if not first.startswith(b"SQLite format 3\x00"):
        return set()
    free: set[int] = set()
    trunk = int.from_bytes(first[32:36], "big")
    while trunk and trunk not in free and trunk in pages:
        free.add(trunk)
        page = pages[trunk]
        count = min(int.from_bytes(page[4:8], "big"), (size - 8) // 4)
        free.update(int.from_bytes(page[8 + 4 * n:12 + 4 * n], "big") for n in range(count))
        trunk = int.from_bytes(page[0:4], "big")
    return free


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian variable-length integer at `at`: (value, the offset after it)."""
    value = 0
    for n in range(8):
        byte = data[at + n]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + n + 1
    return (value << 8) | data[at + 8], at + 9


def _cell(page: bytes, offset: int, n: int, end: int, pages: dict[int, bytes]) -> tuple[int, list]:
    """(rowid, values) of cell `n` of a table-leaf page whose bytes are real up to `end`;
    raises on a cell that does not parse or does not lie wholly before `end`."""
    size = len(page)
    usable = size - _reserved(pages)
    most = usable - 35
    least = (usable - 12) * 32 // 255 - 23
    at = int.from_bytes(page[offset + 8 + 2 * n:offset + 10 + 2 * n], "big")
    if not offset + 8 <= at < size:
        raise ValueError("cell pointer outside the page")
    length, at = _varint(page, at)
    rowid, at = _varint(page, at)
    if length <= most:
        payload = page[at:at + length]
        if at + length > end:
            raise ValueError("cell cut short")
    else:
        local = least + (length - least) % (usable - 4)
        local = local if local <= most else least
        if at + local + 4 > end:
            raise ValueError("cell cut short")
        payload = page[at:at + local] + _overflow(pages, int.from_bytes(page[at + local:at + local + 4], "big"),
                                                  length - local, usable)
    if len(payload) != length:
        raise ValueError("cell cut short")
    return rowid, _record(payload)


def _reserved(pages: dict[int, bytes]) -> int:
    first = pages.get(1, b"")
    return first[20] if first.startswith(b"SQLite format 3\x00") else 0


def _overflow(pages: dict[int, bytes], number: int, length: int, usable: int) -> bytes:
    parts: list[bytes] = []
    seen: set[int] = set()
    while length > 0:
        if number in seen or number not in pages:
            raise ValueError("overflow chain broken")
        seen.add(number)
        page = pages[number]
        part = page[4:4 + min(length, usable - 4)]
        parts.append(part)
        length -= len(part)
        number = int.from_bytes(page[0:4], "big")
    return b"".join(parts)


_WIDTHS = (0, 1, 2, 3, 4, 6, 8, 8, 0, 0)        # bytes of serial types 0-9 (0: NULL, 7: float, 8/9: 0/1)


def _record(payload: bytes) -> list:
    """The values of one record (https://www.sqlite.org/fileformat2.html#record_format).

    Serial types below 128 (every column of a row but a long text) take one byte: read inline,
    since this loop is most of what salvaging a large log costs.
    """
    header, at = _varint(payload, 0)
    types = []
    while at < header:
        kind = payload[at]
        if kind < 0x80:
            at += 1
        else:
            kind, at = _varint(payload, at)
        types.append(kind)
    values: list = []
    at = header
    for kind in types:
        if kind >= 12:
            width = (kind - 12) >> 1
            raw = payload[at:at + width]
            values.append(raw.decode("utf-8") if kind & 1 else raw)
        elif kind == 10 or kind == 11:
            raise ValueError("reserved serial type")
        else:
            width = _WIDTHS[kind]
            if kind == 0:
                values.append(None)
            elif kind == 7:
                values.append(struct.unpack(">d", payload[at:at + 8])[0])
            elif kind >= 8:
                values.append(kind - 8)
            else:
                values.append(int.from_bytes(payload[at:at + width], "big", signed=True))
        at += width
    if at > len(payload):
        raise ValueError("record cut short")
    return values


def _as_row(rowid: int, values: list) -> dict | None:
    """The record as an as-run row, or None when it is not one (another table, or noise)."""
    if len(values) not in (len(COLUMNS), len(COLUMNS) + len(NEWER)) or values[0] is not None:
        return None
    row = dict(zip(COLUMNS + NEWER, values))
    text = ("key", "kind", "slot", "bulletins", "priority", "scheduled", "status")
    if not all(isinstance(row[c], str) for c in text) or row["status"] not in STATUSES:
        return None
    if not all(row[c] is None or isinstance(row[c], str) for c in ("started", "ended", "engine", "error")):
        return None
    try:
        for column in ("scheduled", "started", "ended"):
            if row[column] is not None and datetime.fromisoformat(row[column]).utcoffset() is None:
                return None
        row["scheduled_utc"] = float(row["scheduled_utc"])
    except (TypeError, ValueError):
        return None
    if len(values) == len(COLUMNS):              # a schema-1 row: the newer columns as schema 2 reads them
        row.update(attempts=0 if row["started"] is None else 1, note=None, aired_before=0.0)
    row["id"] = rowid
    return row
