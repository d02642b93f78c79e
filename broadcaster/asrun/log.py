"""The as-run log (nhật ký phát thanh): what really aired, when, and what went wrong.

Where it sits: beside the daemon. `broadcaster.onair` writes one row per occurrence (scheduled,
make-up, manual or emergency) as it starts and finishes; `broadcaster history` reads the rows
back for the operator and the commune's paperwork. In: occurrence facts and playback reports.
Out: rows.

One row per occurrence, whatever happens on the way: a second airing of the same occurrence (a
device retry, the replay after an emergency cut it, a catch-up after a crash cut it) reopens its
row (`attempts` + 1) and the outcome it replaces moves into the row's `note`, so the row's
status is always the occurrence's final outcome and the note tells how it got there; what a cut
airing was on air before the replay is kept in `aired_before` (seconds), so airtime stays
measured. Logs written before this rule (schema 1) open and keep their rows: the columns are
added at open, and readers still count several rows of one key once.

SQLite in WAL mode, one transaction per change, so a row written before a kill -9 or a power
cut is still there after a restart; `recover()` then marks rows left "playing" as interrupted.
Times are stored as ISO 8601 with their offset (milliseconds), plus the scheduled time as a UTC
epoch for range queries.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from broadcaster import i18n
from broadcaster.asrun.check import SIDE_FILES, inspect, integrity, move_aside
from broadcaster.asrun.journal import Journal, default_folders
from broadcaster.asrun.salvage import salvage
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
    "asrun.damaged": (
        "NHẬT KÝ PHÁT THANH HỎNG: {path}: {reason}. Đã chuyển sang {moved} và mở nhật ký mới; "
        "buổi nào không rõ đã phát hay chưa sẽ không phát lại mà ghi là bị lỡ.",
        "AS-RUN LOG DAMAGED: {path}: {reason}. Moved to {moved} and a new log started; "
        "anything that may already have aired is not aired again but logged missed.",
    ),
    "asrun.damaged_stuck": (
        "nhật ký {path} hỏng ({reason}) và không chuyển đi được ({detail}).",
        "the log {path} is damaged ({reason}) and cannot be moved aside ({detail}).",
    ),
    "asrun.fault": (
        "LỖI GHI NHẬT KÝ PHÁT THANH: {detail} Chương trình vẫn phát; các dòng nhật ký được giữ trong "
        "bộ nhớ và sổ tạm, thử ghi lại mỗi {every:g} giây.",
        "AS-RUN LOG WRITE FAULT: {detail} Programmes keep airing; rows are kept in memory and in the "
        "journal and written again every {every:g} s.",
    ),
    "asrun.fault_over": (
        "Nhật ký phát thanh {path} ghi được trở lại: đã ghi {count} thay đổi đang chờ.",
        "The as-run log {path} is writable again: {count} waiting change(s) written.",
    ),
    "asrun.journal_found": (
        "Tìm thấy {count} dòng nhật ký phát thanh chưa ghi từ lần chạy trước; đang ghi vào nhật ký.",
        "Found {count} as-run change(s) an earlier run could not write; writing them to the log.",
    ),
    "asrun.closed_pending": (
        "Dừng khi nhật ký phát thanh chưa ghi được: {count} thay đổi nằm trong sổ tạm {journal}, "
        "sẽ được ghi khi khởi động lại.",
        "Stopping while the as-run log cannot be written: {count} change(s) are in the journal "
        "{journal} and will be written at the next start.",
    ),
    "asrun.naive_time": (
        "Thời điểm {value} thiếu múi giờ.",
        "Time {value} has no time zone.",
    ),
    "asrun.recovered": (
        "Chương trình bị ngắt: chương trình phát thanh dừng đột ngột (mất điện hoặc bị tắt) khi đang phát.",
        "Interrupted: the station program stopped abruptly (power cut or kill) while this was playing.",
    ),
    "asrun.way": ("{at} {status}: {detail}", "{at} {status}: {detail}"),
    "asrun.salvaged": (
        "Đã cứu được {count} dòng còn đọc được từ nhật ký hỏng {moved} sang nhật ký mới{lost}; "
        "các buổi trong đó đã phát sẽ không phát lại.",
        "Salvaged {count} readable row(s) from the damaged log {moved} into the new log{lost}; "
        "what they show as aired is not aired again.",
    ),
    "asrun.salvaged_memory": (
        "Đã cứu được {count} dòng còn đọc được từ nhật ký hỏng {moved}{lost}; giữ trong bộ nhớ tới khi ghi được "
        "nhật ký; các buổi trong đó đã phát sẽ không phát lại.",
        "Salvaged {count} readable row(s) from the damaged log {moved}{lost}; kept in memory until the log can "
        "be written; what they show as aired is not aired again.",
    ),
    "asrun.salvage_lost": ("; bỏ qua {count} ô hỏng", "; {count} damaged cell(s) skipped"),
    "asrun.salvage_failed": (
        "Không cứu được dòng nào từ nhật ký hỏng {moved}: {detail}",
        "Nothing could be salvaged from the damaged log {moved}: {detail}",
    ),
    "asrun.way_bare": ("{at} {status}", "{at} {status}"),
    "status.playing": ("đang phát", "playing"),
    "status.played": ("đã phát", "played"),
    "status.late": ("phát muộn", "late"),
    "status.missed": ("bị lỡ", "missed"),
    "status.failed": ("lỗi", "failed"),
    "status.interrupted": ("bị ngắt", "interrupted"),
    "status.partial": ("phát không trọn", "partial"),
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
    PARTIAL = "partial"          # a relay that aired with gaps (its source dropped); the note lists them


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
    attempts: int = 1            # times it went to the air (device tries, replays); 0 if it never did
    note: str | None = None      # what happened on the way to the final status, oldest first
    aired_before: float = 0.0    # seconds on air of earlier airings that were cut (then replayed)
    pending: bool = False        # still waiting in memory or the journal, not yet in SQLite

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
            "attempts": self.attempts,
            "note": self.note,
            "pending": self.pending,
        }

    @classmethod
    def from_json(cls, data: dict) -> "AsRunRow":
        """The row `to_json()` wrote (a running daemon's answer to `{"cmd": "pending"}`)."""
        return cls(id=int(data["id"]), key=data["key"], kind=data["kind"], slot=data["slot"],
                   bulletins=tuple(data["bulletins"]), priority=data["priority"],
                   scheduled=_parse(data["scheduled"]), started=_parse(data["started"]),
                   ended=_parse(data["ended"]), status=Status(data["status"]), engine=data["engine"],
                   error=data["error"], attempts=int(data.get("attempts", 1)), note=data.get("note"),
                   pending=bool(data.get("pending", False)))


class Fact(NamedTuple):
    """One row, light, for reports over long periods: times as written (ISO 8601), airtime measured."""

    id: int
    key: str
    kind: str
    slot: str
    bulletins: tuple[str, ...]
    scheduled_utc: float         # the scheduled time as a UTC epoch
    scheduled: str
    started: str | None
    ended: str | None
    status: str
    engine: str | None
    minutes: float               # ended - started (0 when either is missing) + what cut airings aired before
    error: str | None
    attempts: int = 1            # as in `AsRunRow`: times it went to the air, and the way there
    note: str | None = None


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
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    note TEXT,
    aired_before REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS asrun_scheduled ON asrun (scheduled_utc);
CREATE INDEX IF NOT EXISTS asrun_status ON asrun (status);
"""
# Schema 2 added `attempts`, `note` and `aired_before` (one row per occurrence) and an index on
# `key` (the row of an occurrence is looked up when it airs again). A schema-1 log gets them at
# open; its rows keep their values, with `attempts` 1 for a row that started and 0 for one that
# never did.
SCHEMA_VERSION = 2
_MIGRATE = {
    "attempts": ("ALTER TABLE asrun ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1",
                 "UPDATE asrun SET attempts = 0 WHERE started IS NULL"),
    "note": ("ALTER TABLE asrun ADD COLUMN note TEXT",),
    "aired_before": ("ALTER TABLE asrun ADD COLUMN aired_before REAL NOT NULL DEFAULT 0",),
}
_KEY_INDEX = "CREATE INDEX IF NOT EXISTS asrun_key ON asrun (key)"
_COLUMNS = ("id, key, kind, slot, bulletins, priority, scheduled, started, ended, status, engine, error, "
            "attempts, note, aired_before")
# How a schema-1 log that cannot be migrated (read-only) answers for the newer columns.
_OLD_COLUMNS = _COLUMNS.replace("attempts, note, aired_before", "CASE WHEN started IS NULL THEN 0 ELSE 1 END, NULL, 0")
_SEPARATOR = "\n"   # bulletin ids are YAML keys; a newline cannot appear in one


_AIRED = (Status.PLAYED.value, Status.LATE.value, Status.PARTIAL.value)   # a partial relay aired: never again
LAST_GOOD_NAME = "asrun-last-good.json"
LAST_GOOD_KEEP = 1000     # aired keys kept: weeks of slots, more than the daemon's 7-day look-back


@dataclass(frozen=True)
class Replacement:
    """A damaged log found at start-up: why, and where it was moved (None if it could not be)."""

    reason: str
    moved_to: Path | None
    salvaged: int = 0            # readable rows copied from the damaged file into the new log


@dataclass(frozen=True)
class Fault:
    """The as-run log cannot be written right now; rows wait in memory (and in the journal)."""

    message: str
    since: datetime
    pending: int
    journal: Path | None

    def to_json(self) -> dict:
        return {"message": self.message, "since": iso(self.since), "pending": self.pending,
                "journal": str(self.journal) if self.journal else None}


class AsRunLog:
    """The SQLite as-run log at `path` (usually `station.state_dir / "asrun.sqlite3"`).

    One connection shared by the daemon's threads behind a lock; every change is its own
    committed transaction. The daemon's log (`readonly=False`) never raises on a write: a
    change the disk refuses (full, read-only, the log being replaced) is kept in memory and in
    the journal, reported once (`fault`, one log line), retried every `retry_every` seconds
    and written, in order, as soon as the log takes it; reads see it meanwhile. At open, a
    truncated, corrupt or unreadable log is moved aside and a fresh one started
    (`replaced`), and what the journal kept from an earlier run is written first.
    `readonly=True` (the `history` command) changes nothing and raises `AsRunError` instead;
    it shows what the journal holds as pending rows unless `journal=False` (a running daemon
    was asked for them instead).
    """

    def __init__(self, path: Path, *, readonly: bool = False, journal_folders: list[Path] | None = None,
                 retry_every: float = 5.0, clock: Callable[[], datetime] | None = None,
                 journal: bool = True) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.retry_every = retry_every
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None   # read-only view of a log we cannot write
        self._run = uuid.uuid4().hex[:12]                  # tells this run's journal entries apart
        self._pending: dict[int, dict] = {}               # handle (< 0) -> a row not in SQLite yet
        self._updates: dict[int, dict] = {}               # row id -> changes not in SQLite yet
        self._alias: dict[int, int] = {}                  # handle -> row id once written
        self._known: dict[int, tuple[str, float]] = {}    # row id -> (key, scheduled UTC) of rows written here
        self._handles = itertools.count(-1, -1)
        self._fault: tuple[str, datetime] | None = None
        self._stop = threading.Event()
        self._retry: threading.Thread | None = None
        self.replaced: Replacement | None = None
        self._journal = Journal(self.path, journal_folders or default_folders(self.path.parent))
        self._last_good = self.path.with_name(LAST_GOOD_NAME)
        self._aired: dict[str, float] = {}                # key -> scheduled (UTC epoch) of aired rows
        self._columns = _COLUMNS                          # what SELECTs read (an unmigrated log: _OLD_COLUMNS)
        self._salvaged_from: Path | None = None           # the damaged log whose rows were copied in
        # Told when a write fault begins and ends (the daemon's health check runs at once). Called
        # with this log's lock held: it must not call back into the log.
        self.on_fault: Callable[[], None] | None = None
        if readonly:
            self._open_readonly(journal)
            return
        self._aired = self._read_last_good()
        with self._lock:
            self._open()
            self._replay_journal()

    # -- opening -------------------------------------------------------------------------------
    def _open_readonly(self, journal: bool) -> None:
        """Open for reading only; with `journal`, what the journal holds (rows a daemon could not
        write yet) is read too and shown as pending. An absent log reads as empty."""
        if journal:
            self._load_journal()
        opened = open_readonly(self.path, timeout=10.0)
        if opened is None:
            return                     # no log yet: nothing written, or only what the journal holds
        self._db, self._columns = opened
        try:
            damage = integrity(self._db)
        except sqlite3.Error as exc:
            raise AsRunError(i18n.tr("asrun.read_failed", path=self.path, detail=exc)) from exc
        if damage is not None:
            self._db.close()
            raise AsRunError(i18n.tr("asrun.read_failed", path=self.path, detail=damage))

    def _open(self) -> bool:
        """Open (or reopen) the log for writing, replacing a damaged file; lock held. True if open."""
        self._close_connections()
        reason = inspect(self.path)
        if reason is not None and not self._replace(reason):
            return False
        created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect()
            damage = integrity(db)
            if damage is not None:
                db.close()
                if not self._replace(damage):
                    return False
                db = self._connect()
        except (OSError, sqlite3.Error) as exc:
            if created:
                _remove_if_empty(self.path)
            self._failed(i18n.tr("asrun.open_failed", path=self.path, detail=exc))
            self._open_reader()
            return False
        self._db = db
        if self.replaced is not None and self.replaced.moved_to is not None:
            self._salvage(self.replaced.moved_to)
        return True

    def _salvage(self, source: Path) -> None:
        """Every row still readable in the damaged log at `source`, once per file (lock held).

        Copied, with their ids, into the new log; when there is no log to write to (the disk
        refuses), kept in memory until there is (the damaged file is read again then, and the
        copies held in memory are not written twice). What they show as aired counts for
        `done_keys` at once, and in the last-good record.
        """
        if self._salvaged_from == source:
            return
        self._salvaged_from = source
        try:
            found = salvage(source)
        except OSError as exc:
            log.warning("%s", i18n.tr("asrun.salvage_failed", moved=source, detail=exc.strerror or exc))
            return
        aired = {row["key"]: float(row["scheduled_utc"]) for row in found.rows if row["status"] in _AIRED}
        if aired.keys() - self._aired.keys():
            self._aired.update(aired)
            self._write_last_good()
        where = "asrun.salvaged"
        if self._db is None or not self._copy(found.rows, source):
            where = "asrun.salvaged_memory"
            for row in found.rows:
                self._pending[next(self._handles)] = {**{c: row[c] for c in _WRITTEN if c in row}, "replayed": True}
        self.replaced = dataclasses.replace(self.replaced, salvaged=len(found.rows))
        lost = i18n.tr("asrun.salvage_lost", count=found.skipped) if found.skipped else ""
        log.warning("%s", i18n.tr(where, count=len(found.rows), moved=source, lost=lost))

    def _copy(self, rows: list[dict], source: Path) -> bool:
        """INSERT salvaged rows into the new log, ids included, in one transaction (lock held)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for row in rows:
                names = ["id"] + [c for c in _WRITTEN if c in row]
                self._db.execute(f"INSERT INTO asrun ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                                 tuple(row[c] for c in names))
            self._db.execute("COMMIT")
        except (OSError, sqlite3.Error) as exc:
            self._rollback()
            log.error("%s", i18n.tr("asrun.salvage_failed", moved=source, detail=exc))
            return False
        return True

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # FULL syncs the WAL on every commit: a row survives a power cut, not only a kill -9.
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            _migrate(db)
        except BaseException:
            db.close()
            raise
        self._columns = _COLUMNS
        return db

    def _open_reader(self) -> None:
        """A read-only view of a sound log on a disk that refuses writes (what aired stays known)."""
        if not self.path.exists() or inspect(self.path) is not None:
            return
        try:
            self._reader = sqlite3.connect(f"file:{quote(str(self.path.absolute()))}?immutable=1", uri=True,
                                           check_same_thread=False)
            self._reader.execute("SELECT count(*) FROM asrun").fetchone()
            self._columns = _select_list(self._reader)
        except sqlite3.Error:
            if self._reader is not None:
                self._reader.close()
            self._reader = None

    def _replace(self, reason: str) -> bool:
        """Move a damaged log aside and say so loudly (once); False when it cannot even be moved."""
        try:
            moved: Path | None = move_aside(self.path, self._clock())
        except OSError as exc:
            if self.replaced is None:          # retried every few seconds: said, and read, once
                self.replaced = Replacement(reason, None)
            self._failed(i18n.tr("asrun.damaged_stuck", path=self.path, reason=reason, detail=exc.strerror or exc))
            self._salvage(self.path)
            return False
        log.error("%s", i18n.tr("asrun.damaged", path=self.path, reason=reason, moved=moved))
        self.replaced = Replacement(reason, moved)
        return True

    def _close_connections(self) -> None:
        for db in (self._db, self._reader):
            if db is not None:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
        self._db = self._reader = None

    # -- faults --------------------------------------------------------------------------------
    @property
    def fault(self) -> Fault | None:
        """The write fault in progress (for `status` and the log), or None when all is written."""
        with self._lock:
            if self._fault is None:
                return None
            return Fault(self._fault[0], self._fault[1], len(self._pending) + len(self._updates),
                         self._journal.path)

    def _failed(self, message: str) -> None:
        """Note a write fault (lock held): one log line when it begins, then a retry thread."""
        if self._fault is not None:
            return
        self._fault = (message, self._clock())
        log.error("%s", i18n.tr("asrun.fault", detail=message, every=self.retry_every))
        if self.on_fault is not None:
            self.on_fault()
        if self._retry is None or not self._retry.is_alive():
            self._retry = threading.Thread(target=self._retry_loop, name="asrun-retry", daemon=True)
            self._retry.start()

    def _retry_loop(self) -> None:
        while not self._stop.wait(self.retry_every):
            with self._lock:
                if self._fault is None:
                    return
                self._flush()

    # -- writing -------------------------------------------------------------------------------
    def _flush(self) -> bool:
        """Write what waits in memory (lock held); True when the log is open and nothing waits."""
        if self._db is None and not self._open():
            return False
        if not self._pending and not self._updates:
            self._healthy(0)
            return True
        written: dict[int, int] = {}
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for handle, fields in self._pending.items():
                written[handle] = self._insert_row(fields)
            for row_id, change in self._updates.items():
                self._update_row(row_id, change)
            self._db.execute("COMMIT")
        except (OSError, sqlite3.Error) as exc:
            self._rollback()
            self._write_failed(exc)
            return False
        count = len(self._pending) + len(self._updates)
        for handle, row_id in written.items():
            self._alias[handle] = row_id
            self._known[row_id] = (self._pending[handle]["key"], self._pending[handle]["scheduled_utc"])
        self._pending.clear()
        self._updates.clear()
        self._journal.clear()
        self._healthy(count)
        return True

    def _healthy(self, count: int) -> None:
        if self._fault is not None:
            log.warning("%s", i18n.tr("asrun.fault_over", path=self.path, count=count))
            self._fault = None
            if self.on_fault is not None:
                self.on_fault()

    def _rollback(self) -> None:
        try:
            if self._db is not None and self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _write_failed(self, exc: Exception) -> None:
        self._failed(i18n.tr("asrun.write_failed", path=self.path, detail=exc))
        # A full disk clears on its own and the connection stays good; anything else (read-only
        # remount, a log deleted or replaced under us) needs a fresh open, with its checks.
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_FULL":
            self._close_connections()

    def _insert_row(self, fields: dict) -> int:
        """INSERT one row (in the caller's transaction), or bring the occurrence's row up to date.

        A row that waited in memory while SQLite could not be read may belong to an occurrence
        that already has a row there: it is merged into that row, never written as a second one.
        An identical row replayed twice from the journal is not doubled.
        """
        existing = self._db.execute(f"SELECT {_COLUMNS} FROM asrun WHERE key = ? ORDER BY id DESC LIMIT 1",
                                    (fields["key"],)).fetchone()
        if existing:
            old = dict(zip(_COLUMN_NAMES, existing))
            if fields.get("replayed") and all(old[c] == fields[c] for c in ("kind", "scheduled", "started", "status")):
                return existing[0]
            self._update_row(existing[0], _merged(old, fields))
            return existing[0]
        names = [c for c in _WRITTEN if c in fields]
        cursor = self._db.execute(
            f"INSERT INTO asrun ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            tuple(fields[c] for c in names))
        return cursor.lastrowid

    def _update_row(self, row_id: int, change: dict) -> None:
        names = [c for c in _MUTABLE if c in change]
        self._db.execute(
            f"UPDATE asrun SET {', '.join(f'{c} = ?' for c in names)} WHERE id = ? AND (? IS NULL OR key = ?)",
            (*(change[c] for c in names), row_id, change.get("key"), change.get("key")))

    def _keep(self, change: dict) -> None:
        """Journal one change the log could not take (lock held)."""
        if self._journal.append({"run": self._run, **change}) is None and not self._journal.full:
            log.debug("no disk took the as-run journal entry; it stays in memory")

    def _existing(self, key: str) -> tuple[int, dict] | None:
        """The occurrence's row so far (id or handle, its fields as they stand), or None (lock held)."""
        for handle in reversed(self._pending):
            if self._pending[handle]["key"] == key:
                return handle, self._pending[handle]
        db = self._db or self._reader
        if db is None:
            return None
        try:
            record = db.execute(f"SELECT {self._columns} FROM asrun WHERE key = ? ORDER BY id DESC LIMIT 1",
                                (key,)).fetchone()
        except sqlite3.Error:
            return None          # unreadable now: the flush merges the rows by key when it can
        if record is None:
            return None
        fields = {**dict(zip(_COLUMN_NAMES, record)), **self._updates.get(record[0], {})}
        scheduled = _parse(fields["scheduled"])
        self._known.setdefault(record[0], (key, scheduled.timestamp()))
        return record[0], fields

    def _insert(self, *, key: str, kind: str, slot: str, bulletins, priority: str,
                scheduled: datetime, status: Status, started: datetime | None,
                ended: datetime | None, engine: str | None, error: str | None) -> int:
        """The occurrence's one row: written new, or its existing row brought to this state."""
        scheduled = _aware(scheduled)
        for value in (started, ended):
            if value is not None:
                _aware(value)
        fields = dict(key=key, kind=kind, slot=slot, bulletins=_SEPARATOR.join(bulletins), priority=str(priority),
                      scheduled=iso(scheduled), scheduled_utc=scheduled.timestamp(), started=iso(started),
                      ended=iso(ended), status=Status(status).value, engine=engine, error=error,
                      attempts=0 if started is None else 1, note=None, aired_before=0.0)
        with self._lock:
            written = self._flush()
            found = self._existing(key)
            if found is not None:
                row_id, old = found
                self._change(row_id, _merged(old, fields))
                log.debug("as-run row %s again: %s %s", row_id, key, fields["status"])
                return row_id
            if written:
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    row_id = self._insert_row(fields)
                    self._db.execute("COMMIT")
                except (OSError, sqlite3.Error) as exc:
                    self._rollback()
                    self._write_failed(exc)
                else:
                    self._known[row_id] = (key, fields["scheduled_utc"])
                    self._note_aired(fields)
                    log.debug("as-run row %s: %s %s", row_id, key, fields["status"])
                    return row_id
            handle = next(self._handles)
            self._pending[handle] = fields
            self._keep({"op": "row", "handle": handle, "fields": fields})
            self._note_aired(fields)
            log.debug("as-run row %s kept in memory: %s %s", handle, key, fields["status"])
            return handle

    def start(self, *, key: str, kind: str, slot: str, bulletins, priority: str,
              scheduled: datetime, started: datetime, engine: str | None) -> int:
        """The occurrence's row, PLAYING: its programme just began (again); returns the row id.

        A second start of the same key (a device retry, a replay after a cut, a catch-up after a
        crash) reopens the same row: `attempts` + 1, the outcome it replaces goes into `note`.
        The id is negative while the row waits in memory for the disk; pass it to `finish()`
        all the same.
        """
        return self._insert(key=key, kind=kind, slot=slot, bulletins=bulletins, priority=priority,
                            scheduled=scheduled, status=Status.PLAYING, started=started, ended=None,
                            engine=engine, error=None)

    def finish(self, row_id: int, *, ended: datetime, status: Status, error: str | None = None,
               started: datetime | None = None) -> None:
        """Close the row `row_id` with its end time, final status and error (if any).

        `started` replaces the start written by `start()` (which is written before the sound
        begins, so a crash mid-programme still leaves a row) with the start the device measured.
        """
        change = {"ended": iso(_aware(ended)), "status": Status(status).value, "error": error}
        if started is not None:
            change["started"] = iso(_aware(started))
        with self._lock:
            self._change(row_id, change)

    def _change(self, row_id: int, change: dict) -> None:
        """Update one row, in SQLite or, while the disk refuses, in memory and the journal (lock held)."""
        row_id = self._alias.get(row_id, row_id)
        if row_id in self._pending:
            self._pending[row_id].update(change)
            self._keep({"op": "update", "handle": row_id, "fields": change})
            self._note_aired(self._pending[row_id])
            self._flush()
            return
        key, scheduled_utc = self._known.get(row_id, (None, None))
        change = {**change, "key": key}
        aired = {"key": key, "scheduled_utc": scheduled_utc, "status": change.get("status")}
        if self._flush():
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._update_row(row_id, change)
                self._db.execute("COMMIT")
            except (OSError, sqlite3.Error) as exc:
                self._rollback()
                self._write_failed(exc)
            else:
                self._note_aired(aired)
                return
        self._updates.setdefault(row_id, {}).update(change)
        self._keep({"op": "update", "id": row_id, "fields": change})
        self._note_aired(aired)

    def record(self, *, key: str, kind: str, slot: str, bulletins, priority: str,
               scheduled: datetime, status: Status, started: datetime | None = None,
               ended: datetime | None = None, engine: str | None = None,
               error: str | None = None) -> int:
        """The occurrence's row in one go (missed, failed, or anything already over); returns its id.

        An occurrence that has a row already (cut, then stopped before it aired again) gets that
        row brought to this outcome, not a second row.
        """
        return self._insert(key=key, kind=kind, slot=slot, bulletins=bulletins, priority=priority,
                            scheduled=scheduled, status=status, started=started, ended=ended,
                            engine=engine, error=error)

    def _load_journal(self) -> None:
        """Changes an earlier run (or a running daemon) could not write, into memory (lock held or opening)."""
        handles: dict[tuple, int] = {}
        for change in self._journal.read():
            fields = change.get("fields")
            if not isinstance(fields, dict):
                continue
            origin = (change.get("run"), change.get("handle"))
            if change.get("op") == "row" and isinstance(fields.get("key"), str):
                handle = next(self._handles)
                handles[origin] = handle
                self._pending[handle] = {"attempts": 0 if fields.get("started") is None else 1, "note": None,
                                         "aired_before": 0.0, **fields, "replayed": True}
                self._note_aired(fields)
            elif change.get("op") == "update" and origin in handles:
                self._pending[handles[origin]].update(fields)
                self._note_aired(self._pending[handles[origin]])
            elif change.get("op") == "update" and isinstance(change.get("id"), int):
                self._updates.setdefault(change["id"], {}).update(fields)

    def _replay_journal(self) -> None:
        """Changes an earlier run could not write: back into memory, then into the log (lock held)."""
        held = len(self._pending) + len(self._updates)     # rows salvaged into memory at open are not the journal's
        self._load_journal()
        found = len(self._pending) + len(self._updates) - held
        if not found:
            return
        log.warning("%s", i18n.tr("asrun.journal_found", count=found))
        if self._flush():
            return
        for handle, fields in self._pending.items():      # still no disk: this run's journal holds them
            self._keep({"op": "row", "handle": handle, "fields": fields})
        for row_id, change in self._updates.items():
            self._keep({"op": "update", "id": row_id, "fields": change})

    # -- the last-good record of what aired ------------------------------------------------------
    def _read_last_good(self) -> dict[str, float]:
        try:
            with open(self._last_good, "rb") as handle:
                data = json.loads(handle.read(1024 * 1024))
            aired = data.get("aired", {})
            return {k: float(v) for k, v in aired.items() if isinstance(k, str) and isinstance(v, (int, float))}
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("as-run last-good record %s unreadable, ignored: %s", self._last_good, exc)
            return {}

    def _note_aired(self, fields: dict) -> None:
        if fields.get("status") in _AIRED and fields.get("key") and fields.get("scheduled_utc") is not None \
                and fields["key"] not in self._aired:
            self._aired[fields["key"]] = float(fields["scheduled_utc"])
            self._write_last_good()

    def _write_last_good(self) -> None:
        """Keep the keys that aired in a small file apart from SQLite: evidence if the log is lost."""
        if self.readonly:
            return
        if len(self._aired) > LAST_GOOD_KEEP:
            latest = sorted(self._aired.items(), key=lambda item: item[1])[-LAST_GOOD_KEEP:]
            self._aired = dict(latest)
        temporary = self._last_good.with_name(f".{LAST_GOOD_NAME}.tmp")
        try:
            temporary.write_text(json.dumps({"aired": self._aired}, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, self._last_good)
        except OSError as exc:
            log.debug("as-run last-good record not written: %s", exc)

    # -- reading -------------------------------------------------------------------------------
    def recover(self, now: datetime) -> list[AsRunRow]:
        """Mark rows left PLAYING by a crash as INTERRUPTED and return them (call at start-up).

        `ended` stays None: nobody knows when the sound stopped. `now` goes into the log line.
        """
        rows = self._select("ORDER BY id", (), lambda r: r.status is Status.PLAYING)
        if not rows:
            return []
        message = i18n.tr("asrun.recovered")
        with self._lock:
            for row in rows:
                self._change(row.id, {"status": Status.INTERRUPTED.value, "error": message})
        log.warning("as-run recovery at %s: %s programme(s) were cut by a crash: %s",
                    iso(now), len(rows), ", ".join(row.key for row in rows))
        return [AsRunRow(**{**row.__dict__, "status": Status.INTERRUPTED, "error": message})
                for row in rows]

    def done_keys(self, since: datetime) -> set[str]:
        """Keys of occurrences that aired (PLAYED, LATE or PARTIAL) scheduled at or after `since`.

        Includes rows still waiting for the disk and the last-good record kept beside the log.
        """
        since_utc = _aware(since).timestamp()
        with self._lock:
            keys = {key for key, when in self._aired.items() if when >= since_utc}
        rows = self._select("WHERE scheduled_utc >= ?", (since_utc,),
                            lambda r: r.status.value in _AIRED and r.scheduled.timestamp() >= since_utc)
        return keys | {row.key for row in rows}

    def history(self, start: datetime | None = None, end: datetime | None = None) -> list[AsRunRow]:
        """Rows scheduled in [start, end), oldest first (then in the order they were written)."""
        clauses, params = [], []
        first = _aware(start).timestamp() if start is not None else None
        last = _aware(end).timestamp() if end is not None else None
        if first is not None:
            clauses.append("scheduled_utc >= ?")
            params.append(first)
        if last is not None:
            clauses.append("scheduled_utc < ?")
            params.append(last)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._select(where, tuple(params), lambda r: (first is None or r.scheduled.timestamp() >= first)
                            and (last is None or r.scheduled.timestamp() < last))
        return sorted(rows, key=lambda r: (r.scheduled.timestamp(), r.id < 0, abs(r.id)))

    def facts(self, start: datetime, end: datetime) -> list[Fact]:
        """Rows scheduled in [start, end) as light `Fact` tuples, oldest first (reports over a year).

        The airtime is computed by SQLite (to the millisecond the log keeps) and times stay text,
        so a year of a busy station reads in a fraction of `history()`'s time and memory; rows
        still waiting in memory are included.
        """
        first, last = _aware(start).timestamp(), _aware(end).timestamp()
        with self._lock:
            db = self._db or self._reader
            waiting = bool(self._pending or self._updates)
            records = []
            if db is not None and not waiting:
                newer = self._columns.split(", ")[-3:]          # attempts, note, aired_before (or stand-ins)
                try:
                    records = db.execute(
                        "SELECT id, key, kind, slot, bulletins, scheduled_utc, scheduled, started, ended, status, "
                        "engine, COALESCE(ROUND((julianday(ended) - julianday(started)) * 86400000) / 60000.0, 0)"
                        f" + {newer[2]} / 60.0, error, {newer[0]}, {newer[1]} "
                        "FROM asrun "
                        "WHERE scheduled_utc >= ? AND scheduled_utc < ? ORDER BY scheduled_utc, id",
                        (first, last)).fetchall()
                except sqlite3.Error as exc:
                    raise AsRunError(i18n.tr("asrun.read_failed", path=self.path, detail=exc)) from exc
        if waiting:
            return [Fact(r.id, r.key, r.kind, r.slot, r.bulletins, r.scheduled.timestamp(), iso(r.scheduled),
                         iso(r.started), iso(r.ended), r.status.value, r.engine,
                         ((r.ended - r.started).total_seconds() if r.started and r.ended else 0.0) / 60
                         + r.aired_before / 60, r.error, r.attempts, r.note)
                    for r in self.history(start, end)]
        # The same few slots, kinds, statuses, engines and bulletin lists repeat on every row: one
        # object each keeps a year of rows small.
        shared: dict = {}

        def one(value):
            return shared.setdefault(value, value)

        bulletins: dict[str, tuple[str, ...]] = {}
        facts = []
        for r in records:
            ids = bulletins.get(r[4])
            if ids is None:
                ids = bulletins[r[4]] = tuple(r[4].split(_SEPARATOR)) if r[4] else ()
            facts.append(Fact(r[0], r[1], one(r[2]), one(r[3]), ids, r[5], r[6], r[7], r[8], one(r[9]),
                              one(r[10]), r[11], r[12], r[13], r[14]))
        return facts

    def _select(self, tail: str, params: tuple, keep: Callable[[AsRunRow], bool]) -> list[AsRunRow]:
        """Rows from SQLite with the changes still in memory applied, plus the rows still in memory,
        filtered by `keep` (a status may differ in memory from what SQLite holds)."""
        with self._lock:
            records: list[tuple] = []
            db = self._db or self._reader
            if db is not None:
                try:
                    records = db.execute(f"SELECT {self._columns} FROM asrun {tail}", params).fetchall()
                except sqlite3.Error as exc:
                    if self.readonly:
                        raise AsRunError(i18n.tr("asrun.read_failed", path=self.path, detail=exc)) from exc
                    self._failed(i18n.tr("asrun.read_failed", path=self.path, detail=exc))
            rows = [_from_record(r, self._updates.get(r[0])) for r in records]
            rows += [_from_record(tuple([handle] + [f.get(c) for c in _COLUMN_NAMES[1:]]), None, pending=True)
                     for handle, f in self._pending.items()]
        return [row for row in rows if keep(row)]

    def pending(self) -> list[AsRunRow]:
        """Rows whose latest state is not in SQLite yet (in memory and the journal), oldest first.

        The control socket's `{"cmd": "pending"}` answers with these, so `history` can show them.
        """
        with self._lock:
            waiting = list(self._updates)
        rows = self._select(f"WHERE id IN ({', '.join('?' for _ in waiting)})" if waiting else "WHERE 0", tuple(waiting),
                            lambda r: r.pending)
        return sorted(rows, key=lambda r: (r.scheduled.timestamp(), r.id < 0, abs(r.id)))

    def close(self) -> None:
        """Write what waits if the log takes it now; what does not stays in the journal for next start."""
        self._stop.set()
        with self._lock:
            if not self.readonly and (self._pending or self._updates) and not self._flush():
                log.error("%s", i18n.tr("asrun.closed_pending", count=len(self._pending) + len(self._updates),
                                        journal=self._journal.path or "-"))
            self._close_connections()
        if self._retry is not None and self._retry is not threading.current_thread():
            self._retry.join(timeout=2)

    def __enter__(self) -> "AsRunLog":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()



_COLUMN_NAMES = tuple(_COLUMNS.split(", "))
_WRITTEN = _COLUMN_NAMES[1:7] + ("scheduled_utc",) + _COLUMN_NAMES[7:]
_MUTABLE = ("started", "ended", "status", "error", "engine", "attempts", "note", "aired_before")   # what a change may set
_ON_AIR = _AIRED + (Status.INTERRUPTED.value,)    # an airing with measured airtime (a cut one included)


def _from_record(r: tuple, change: dict | None, *, pending: bool = False) -> AsRunRow:
    """An `AsRunRow` from a SELECT of `_COLUMNS`, with the changes still in memory applied."""
    if change:
        r = tuple(change.get(name, value) if name in _MUTABLE else value for name, value in zip(_COLUMN_NAMES, r))
    return AsRunRow(id=r[0], key=r[1], kind=r[2], slot=r[3],
                    bulletins=tuple(r[4].split(_SEPARATOR)) if r[4] else (),
                    priority=r[5], scheduled=_parse(r[6]), started=_parse(r[7]),
                    ended=_parse(r[8]), status=Status(r[9]), engine=r[10], error=r[11],
                    attempts=1 if r[12] is None else int(r[12]), note=r[13], aired_before=float(r[14] or 0),
                    pending=pending or bool(change))


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a schema-1 log to schema 2 in one transaction; every row keeps its values."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    columns = {record[1] for record in db.execute("PRAGMA table_info(asrun)")}
    db.execute("BEGIN IMMEDIATE")
    try:
        for column, statements in _MIGRATE.items():
            if column not in columns:
                for statement in statements:
                    db.execute(statement)
        db.execute(_KEY_INDEX)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def open_readonly(path: Path, *, timeout: float) -> tuple[sqlite3.Connection, str] | None:
    """A read-only connection to the log at `path` and the columns to SELECT from it (see
    `_select_list`); None when there is no log yet. A damaged or unreadable file raises `AsRunError`.

    Shared by `AsRunLog(readonly=True)` and the desk's history, which reads pages straight from SQL.
    """
    try:
        os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AsRunError(i18n.tr("asrun.read_failed", path=path, detail=exc.strerror or exc)) from exc
    reason = inspect(path)             # a truncated or foreign file: the daemon's to move aside
    if reason is not None:
        raise AsRunError(i18n.tr("asrun.read_failed", path=path, detail=reason))
    location = f"file:{quote(str(Path(path).absolute()))}"
    try:
        db = sqlite3.connect(f"{location}?mode=ro", uri=True, check_same_thread=False, timeout=timeout)
        try:
            return db, _select_list(db)
        except sqlite3.OperationalError:
            # A WAL log on a read-only disk cannot get its -shm file; nobody can write there either,
            # so reading it as an unchanging file is safe.
            db.close()
            db = sqlite3.connect(f"{location}?immutable=1", uri=True, check_same_thread=False)
            return db, _select_list(db)
    except sqlite3.Error as exc:
        raise AsRunError(i18n.tr("asrun.read_failed", path=path, detail=exc)) from exc


def _select_list(db: sqlite3.Connection) -> str:
    """The columns to SELECT from this log: a schema-1 log opened read-only answers for the new ones."""
    columns = {record[1] for record in db.execute("PRAGMA table_info(asrun)")}
    return _COLUMNS if set(_MIGRATE) <= columns else _OLD_COLUMNS


def _merged(old: dict, new: dict) -> dict:
    """The occurrence's row after `new` (a start again, or an outcome) on top of `old`.

    The new state wins; the outcome it replaces is kept in the note (with its time), the
    attempts add up, the airtime of a cut airing adds to `aired_before`, and a start or engine
    the new state does not know stays as it was.
    """
    notes = [part for part in (old.get("note"), _way(old), new.get("note")) if part]
    aired = float(old.get("aired_before") or 0) + float(new.get("aired_before") or 0)
    if old["status"] in _ON_AIR and old.get("started") and old.get("ended"):
        aired += max(0.0, (_parse(old["ended"]) - _parse(old["started"])).total_seconds())
    return {"status": new["status"], "started": new["started"] if new.get("started") is not None else old["started"],
            "ended": new.get("ended"), "error": new.get("error"), "engine": new.get("engine") or old.get("engine"),
            "attempts": int(old.get("attempts") or 0) + int(new.get("attempts") or 0),
            "note": "; ".join(notes) or None, "aired_before": round(aired, 3)}


def _way(fields: dict) -> str | None:
    """One step of an occurrence's way, for its note: when, what status, why ("06:02:10 bị ngắt: ...")."""
    moment = _parse(fields.get("ended") or fields.get("started"))
    scheduled = _parse(fields["scheduled"])
    at = (moment.astimezone(scheduled.tzinfo) if moment else scheduled).strftime("%H:%M:%S")
    status = i18n.tr(f"status.{fields['status']}")
    if fields.get("error"):
        return i18n.tr("asrun.way", at=at, status=status, detail=fields["error"])
    return i18n.tr("asrun.way_bare", at=at, status=status)


def _remove_if_empty(path: Path) -> None:
    """Remove the empty log (and side files) this open just created on a disk that then refused it.

    A full disk still has inodes: SQLite creates a 0-byte file and fails at its first page. Left
    there, the next open would find an "empty (0 bytes)" log, call it damaged and move it aside,
    once per retry for as long as the disk stays full.
    """
    for name in (path.name, *(path.name + suffix for suffix in SIDE_FILES)):
        try:
            if (path.parent / name).stat().st_size == 0:
                (path.parent / name).unlink()
        except OSError:
            pass


def log_path(state_dir: Path) -> Path:
    """Where a station keeps its as-run log."""
    return Path(state_dir) / FILE_NAME


__all__ = ["AsRunLog", "AsRunRow", "FILE_NAME", "Fact", "KINDS", "Status", "iso", "log_path"]
