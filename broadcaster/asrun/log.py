"""The as-run log (nhật ký phát thanh): what really aired, when, and what went wrong.

Where it sits: beside the daemon. `broadcaster.onair` writes one row per occurrence (scheduled,
manual or emergency) as it starts and finishes; `broadcaster history` reads the rows back for
the operator and the commune's paperwork. In: occurrence facts and playback reports. Out: rows.

SQLite in WAL mode, one transaction per change, so a row written before a kill -9 or a power
cut is still there after a restart; `recover()` then marks rows left "playing" as interrupted.
Times are stored as ISO 8601 with their offset (milliseconds), plus the scheduled time as a UTC
epoch for range queries.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from broadcaster import i18n
from broadcaster.errors import AsRunError

log = logging.getLogger(__name__)

i18n.register({
    "asrun.open_failed": (
        "Không mở được nhật ký phát thanh {path}: {detail}.",
        "Cannot open the as-run log {path}: {detail}.",
    ),
    "asrun.write_failed": (
        "Không ghi được nhật ký phát thanh {path}: {detail}.",
        "Cannot write the as-run log {path}: {detail}.",
    ),
    "asrun.read_failed": (
        "Không đọc được nhật ký phát thanh {path}: {detail}.",
        "Cannot read the as-run log {path}: {detail}.",
    ),
    "asrun.naive_time": (
        "Thời điểm {value} thiếu múi giờ.",
        "Time {value} has no time zone.",
    ),
    "asrun.recovered": (
        "Chương trình bị ngắt: chương trình phát thanh dừng đột ngột (mất điện hoặc bị tắt) khi đang phát.",
        "Interrupted: the station program stopped abruptly (power cut or kill) while this was playing.",
    ),
})

FILE_NAME = "asrun.sqlite3"
KINDS = ("scheduled", "manual", "emergency")


class Status(str, enum.Enum):
    PLAYING = "playing"          # in progress (or left so by a crash until recover())
    PLAYED = "played"
    LATE = "late"                # aired, but after its start window
    MISSED = "missed"            # never aired
    FAILED = "failed"            # tried and failed (device or render error)
    INTERRUPTED = "interrupted"  # cut short: emergency cut-in, stop, or a crash


@dataclass(frozen=True)
class AsRunRow:
    id: int
    key: str                     # the occurrence key, f"{slot}@{scheduled.isoformat()}"
    kind: str                    # "scheduled" | "manual" | "emergency"
    slot: str
    bulletins: tuple[str, ...]
    priority: str
    scheduled: datetime
    started: datetime | None
    ended: datetime | None
    status: Status
    engine: str | None
    error: str | None

    def to_json(self) -> dict:
        """A JSON-ready dict; times as ISO 8601 with offset and milliseconds."""
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "slot": self.slot,
            "bulletins": list(self.bulletins),
            "priority": self.priority,
            "scheduled": iso(self.scheduled),
            "started": iso(self.started),
            "ended": iso(self.ended),
            "status": self.status.value,
            "engine": self.engine,
            "error": self.error,
        }


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset and milliseconds, e.g. 2023-01-16T06:00:00.012+07:00."""
    return None if value is None else value.isoformat(timespec="milliseconds")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise AsRunError(i18n.tr("asrun.naive_time", value=value.isoformat()))
    return value


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS asrun (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    slot TEXT NOT NULL,
    bulletins TEXT NOT NULL,
    priority TEXT NOT NULL,
    scheduled TEXT NOT NULL,
    scheduled_utc REAL NOT NULL,
    started TEXT,
    ended TEXT,
    status TEXT NOT NULL,
    engine TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS asrun_scheduled ON asrun (scheduled_utc);
CREATE INDEX IF NOT EXISTS asrun_status ON asrun (status);
"""
_COLUMNS = "id, key, kind, slot, bulletins, priority, scheduled, started, ended, status, engine, error"
_SEPARATOR = "\n"   # bulletin ids are YAML keys; a newline cannot appear in one


class AsRunLog:
    """The SQLite as-run log at `path` (usually `station.state_dir / "asrun.sqlite3"`).

    One connection shared by the daemon's threads behind a lock; every change is its own
    committed transaction.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                       timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL syncs the WAL on every commit: a row survives a power cut, not only a kill -9.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise AsRunError(i18n.tr("asrun.open_failed", path=self.path, detail=exc)) from exc

    def _write(self, sql: str, params: tuple) -> int:
        with self._lock:
            try:
                cursor = self._db.execute("BEGIN IMMEDIATE")
                cursor = self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise AsRunError(i18n.tr("asrun.write_failed", path=self.path, detail=exc)) from exc
            return cursor.lastrowid if cursor.lastrowid is not None else 0

    def _insert(self, *, key: str, kind: str, slot: str, bulletins, priority: str,
                scheduled: datetime, status: Status, started: datetime | None,
                ended: datetime | None, engine: str | None, error: str | None) -> int:
        scheduled = _aware(scheduled)
        for value in (started, ended):
            if value is not None:
                _aware(value)
        row_id = self._write(
            "INSERT INTO asrun (key, kind, slot, bulletins, priority, scheduled, scheduled_utc, "
            "started, ended, status, engine, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, kind, slot, _SEPARATOR.join(bulletins), str(priority), iso(scheduled),
             scheduled.timestamp(), iso(started), iso(ended), Status(status).value, engine, error),
        )
        log.debug("as-run row %s: %s %s", row_id, key, Status(status).value)
        return row_id

    def start(self, *, key: str, kind: str, slot: str, bulletins, priority: str,
              scheduled: datetime, started: datetime, engine: str | None) -> int:
        """A row for a programme that just began playing (status PLAYING); returns its id."""
        return self._insert(key=key, kind=kind, slot=slot, bulletins=bulletins, priority=priority,
                            scheduled=scheduled, status=Status.PLAYING, started=started, ended=None,
                            engine=engine, error=None)

    def finish(self, row_id: int, *, ended: datetime, status: Status, error: str | None = None,
               started: datetime | None = None) -> None:
        """Close the row `row_id` with its end time, final status and error (if any).

        `started` replaces the start written by `start()` (which is written before the sound
        begins, so a crash mid-programme still leaves a row) with the start the device measured.
        """
        if started is None:
            self._write("UPDATE asrun SET ended = ?, status = ?, error = ? WHERE id = ?",
                        (iso(_aware(ended)), Status(status).value, error, row_id))
        else:
            self._write("UPDATE asrun SET ended = ?, status = ?, error = ?, started = ? WHERE id = ?",
                        (iso(_aware(ended)), Status(status).value, error, iso(_aware(started)), row_id))

    def record(self, *, key: str, kind: str, slot: str, bulletins, priority: str,
               scheduled: datetime, status: Status, started: datetime | None = None,
               ended: datetime | None = None, engine: str | None = None,
               error: str | None = None) -> int:
        """A complete row in one go (missed, failed, or anything already over); returns its id."""
        return self._insert(key=key, kind=kind, slot=slot, bulletins=bulletins, priority=priority,
                            scheduled=scheduled, status=status, started=started, ended=ended,
                            engine=engine, error=error)

    def recover(self, now: datetime) -> list[AsRunRow]:
        """Mark rows left PLAYING by a crash as INTERRUPTED and return them (call at start-up).

        `ended` stays None: nobody knows when the sound stopped. `now` goes into the log line.
        """
        rows = self._select("WHERE status = ? ORDER BY id", (Status.PLAYING.value,))
        if not rows:
            return []
        message = i18n.tr("asrun.recovered")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "UPDATE asrun SET status = ?, error = ? WHERE id = ? AND status = ?",
                    [(Status.INTERRUPTED.value, message, row.id, Status.PLAYING.value) for row in rows])
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise AsRunError(i18n.tr("asrun.write_failed", path=self.path, detail=exc)) from exc
        log.warning("as-run recovery at %s: %s programme(s) were cut by a crash: %s",
                    iso(now), len(rows), ", ".join(row.key for row in rows))
        return [AsRunRow(**{**row.__dict__, "status": Status.INTERRUPTED, "error": message})
                for row in rows]

    def done_keys(self, since: datetime) -> set[str]:
        """Keys of occurrences that aired (PLAYED or LATE) scheduled at or after `since`."""
        with self._lock:
            try:
                cursor = self._db.execute(
                    "SELECT DISTINCT key FROM asrun WHERE scheduled_utc >= ? AND status IN (?, ?)",
                    (_aware(since).timestamp(), Status.PLAYED.value, Status.LATE.value))
                return {key for (key,) in cursor.fetchall()}
            except sqlite3.Error as exc:
                raise AsRunError(i18n.tr("asrun.read_failed", path=self.path, detail=exc)) from exc

    def history(self, start: datetime | None = None, end: datetime | None = None) -> list[AsRunRow]:
        """Rows scheduled in [start, end), oldest first (then in the order they were written)."""
        clauses, params = [], []
        if start is not None:
            clauses.append("scheduled_utc >= ?")
            params.append(_aware(start).timestamp())
        if end is not None:
            clauses.append("scheduled_utc < ?")
            params.append(_aware(end).timestamp())
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._select(f"{where} ORDER BY scheduled_utc, id", tuple(params))

    def _select(self, tail: str, params: tuple) -> list[AsRunRow]:
        with self._lock:
            try:
                cursor = self._db.execute(f"SELECT {_COLUMNS} FROM asrun {tail}", params)
                records = cursor.fetchall()
            except sqlite3.Error as exc:
                raise AsRunError(i18n.tr("asrun.read_failed", path=self.path, detail=exc)) from exc
        return [
            AsRunRow(id=r[0], key=r[1], kind=r[2], slot=r[3],
                     bulletins=tuple(r[4].split(_SEPARATOR)) if r[4] else (),
                     priority=r[5], scheduled=_parse(r[6]), started=_parse(r[7]),
                     ended=_parse(r[8]), status=Status(r[9]), engine=r[10], error=r[11])
            for r in records
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "AsRunLog":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def log_path(state_dir: Path) -> Path:
    """Where a station keeps its as-run log."""
    return Path(state_dir) / FILE_NAME


__all__ = ["AsRunLog", "AsRunRow", "FILE_NAME", "KINDS", "Status", "iso", "log_path"]
