"""The as-run log as the desk reads it: filtered, paged and streamed by SQLite, never written.

Where it sits: beside `broadcaster.asrun`, whose daemon-side `AsRunLog` owns the file (schema,
writes, recovery, journal); the daemon is its only writer. The desk reads through the log's
read-only connection (`asrun.log.open_readonly`: `mode=ro`, or as an unchanging file on a
read-only disk), without `AsRunLog`'s integrity check: date range, slot
and status go into the SQL (the range on the `scheduled_utc` index), newest or oldest first,
with LIMIT/OFFSET for pages; an export iterates the cursor row by row, so 100,000 rows stream in
constant memory. `AsRunLog(readonly=True)` would run SQLite's integrity check over every row on
each request; here a damaged header is a 503 with the reason, and damage deeper in the file is
the error SQLite raises when it reads it.

While the daemon's journal holds rows or changes the disk has not taken (a full or read-only
disk), the log is read through `AsRunLog(readonly=True)`, which applies them and shows the rows
as pending; filtering and paging are then done here. That is rare and short-lived.

Out: JSON-ready dicts with times in station time (ISO 8601, milliseconds, offset). The daemon
writes its times in station time already; a value written with another offset (a log moved
between stations, tests) is converted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster import i18n
from broadcaster.asrun import AsRunLog, AsRunRow
from broadcaster.asrun.log import open_readonly
from broadcaster.asrun.journal import Journal, default_folders
from broadcaster.desk.store import DeskError
from broadcaster.errors import AsRunError

COLUMNS = ("id", "key", "kind", "slot", "bulletins", "priority", "scheduled", "started", "ended", "status",
           "engine", "error", "attempts", "note", "pending")
STATUSES = ("played", "late", "missed", "failed", "interrupted", "partial", "playing")
_ISO_LENGTH = len("2026-01-01T06:00:00.000+07:00")
_BUCKET = 900                  # seconds: every change of time falls on a quarter hour (UTC)
_SEPARATOR = "\n"              # how the log joins a row's bulletin ids
_LAST_OFFSET = 2 ** 62         # SQLite integers are 64-bit: a larger ?offset= (or page) is past every row anyway


def day(value: str) -> date:
    """A YYYY-MM-DD query parameter; 400 with the value otherwise."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DeskError(400, i18n.tr("desk.bad_date", value=value)) from None


class Query:
    """One filter of the log: station days `first`..`last` (inclusive, either open), slot, status."""

    def __init__(self, zone: ZoneInfo, first: str | None = None, last: str | None = None, slot: str = "",
                 status: str = "") -> None:
        self.zone = zone
        self.first = datetime.combine(day(first), time(), tzinfo=zone) if first else None
        self.last = datetime.combine(day(last) + timedelta(days=1), time(), tzinfo=zone) if last else None
        self.slot = slot
        self.status = status
        self._offsets: dict[int, str] = {}

    def where(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.first is not None:
            clauses.append("scheduled_utc >= ?")
            params.append(self.first.timestamp())
        if self.last is not None:
            clauses.append("scheduled_utc < ?")
            params.append(self.last.timestamp())
        if self.slot:
            clauses.append("slot = ?")
            params.append(self.slot)
        if self.status:
            clauses.append("status = ?")
            params.append(self.status)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _offset(self, utc: float) -> str:
        """The station's UTC offset at that instant as ISO writes it ("+07:00"): one look per day
        when the offset is the same at both ends of it, else per quarter hour (a change of time)."""
        day = int(utc // 86400)
        offset = self._offsets.get(day)
        if offset is None:
            first, last = self._offset_at(day * 86400), self._offset_at(day * 86400 + 86400 - _BUCKET)
            offset = self._offsets[day] = first if first == last else ""
        if offset:
            return offset
        return self._offset_at(int(utc // _BUCKET) * _BUCKET)

    def _offset_at(self, utc: float) -> str:
        return datetime.fromtimestamp(utc, timezone.utc).astimezone(self.zone).isoformat()[-6:]

    def local(self, value: str | None, offset: str) -> str | None:
        if value is None or (len(value) == _ISO_LENGTH and value.endswith(offset)):
            return value
        return datetime.fromisoformat(value).astimezone(self.zone).isoformat(timespec="milliseconds")

    def row(self, record: tuple) -> dict:
        """A SELECT of the log's columns (`open_readonly`) + scheduled_utc as the desk serves it."""
        offset = self._offset(record[15])
        return {"id": record[0], "key": record[1], "kind": record[2], "slot": record[3],
                "bulletins": record[4].split(_SEPARATOR) if record[4] else [], "priority": record[5],
                "scheduled": self.local(record[6], offset), "started": self.local(record[7], offset),
                "ended": self.local(record[8], offset), "status": record[9], "engine": record[10],
                "error": record[11], "attempts": record[12], "note": record[13], "pending": False}

    def keeps(self, row: AsRunRow) -> bool:
        return (not self.slot or row.slot == self.slot) and (not self.status or row.status.value == self.status)

    def from_log(self, row: AsRunRow) -> dict:
        """An `AsRunLog` row (the journal path) as the desk serves it."""
        def local(value: datetime | None) -> str | None:
            return value.astimezone(self.zone).isoformat(timespec="milliseconds") if value else None

        return {"id": row.id, "key": row.key, "kind": row.kind, "slot": row.slot, "bulletins": list(row.bulletins),
                "priority": row.priority, "scheduled": local(row.scheduled), "started": local(row.started),
                "ended": local(row.ended), "status": row.status.value, "engine": row.engine, "error": row.error,
                "attempts": row.attempts, "note": row.note, "pending": row.pending}


def _unreadable(path: Path, detail: object) -> DeskError:
    return DeskError(503, i18n.tr("asrun.read_failed", path=path, detail=detail))


def _connect(path: Path) -> tuple[sqlite3.Connection, str] | None:
    """A read-only connection to the log and the columns to select; None when there is no log yet."""
    try:
        return open_readonly(path, timeout=5.0)
    except AsRunError as exc:
        raise DeskError(503, str(exc)) from exc


def _journal_waiting(path: Path) -> bool:
    """Whether the daemon's journal holds changes the log has not taken yet."""
    try:
        return Journal(path, default_folders(path.parent)).waiting()
    except OSError:
        return False


def _through_the_journal(path: Path, query: Query, newest_first: bool, limit: int | None,
                         offset: int) -> list[dict]:
    try:
        with AsRunLog(path, readonly=True) as asrun:
            found = [query.from_log(row) for row in asrun.history(query.first, query.last) if query.keeps(row)]
    except AsRunError as exc:
        raise DeskError(503, str(exc)) from exc
    if newest_first:
        found.reverse()
    return found[offset:] if limit is None else found[offset:offset + limit]


def rows(path: Path, query: Query, *, newest_first: bool = True, limit: int | None = None,
         offset: int = 0) -> Iterator[dict]:
    """The rows of `query`, newest (or oldest) first, read from SQLite as they are consumed."""
    if _journal_waiting(path):
        yield from _through_the_journal(path, query, newest_first, limit, max(0, offset))
        return
    opened = _connect(path)
    if opened is None:
        return
    db, columns = opened
    where, params = query.where()
    order = "DESC" if newest_first else "ASC"
    sql = (f"SELECT {columns}, scheduled_utc FROM asrun{where} "
           f"ORDER BY scheduled_utc {order}, id {order}")
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, min(max(0, offset), _LAST_OFFSET)]
    try:
        cursor = db.execute(sql, params)
        while True:
            batch = cursor.fetchmany(500)
            if not batch:
                return
            for record in batch:
                yield query.row(record)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from exc
    finally:
        db.close()
