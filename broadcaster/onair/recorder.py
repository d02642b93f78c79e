"""The daemon's one way into the as-run log: a row when a programme starts, its end, and the rows
of occurrences that never reached the air.

In: queue entries and occurrences, with the times the playout measured. Out: rows in the SQLite
`AsRunLog`. The planner's reads (what aired already, what a crash cut) go through here too, so
that whatever this class keeps back from the disk (a row not yet written) is still seen by them.

Lock: none of its own; `AsRunLog` serialises its connection with one lock, taken last (no other
lock is taken while it is held).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from broadcaster.asrun.log import AsRunLog, AsRunRow, Fact, Replacement, Status
from broadcaster.occurrences import Occurrence
from broadcaster.onair.queue import Entry, Kind
from broadcaster.schedule.model import Priority


class Recorder:
    """Writes the as-run rows the daemon produces, and answers the planner's questions about them."""

    def __init__(self, log: AsRunLog, tz: tzinfo) -> None:
        self.log = log
        self.tz = tz
        # What to add to the row of a programme that aired: the checks failing at that moment.
        self.note: Callable[[], str | None] | None = None

    @staticmethod
    def _entry_fields(entry: Entry) -> dict:
        return dict(key=entry.key, kind=entry.kind.value, slot=entry.slot, bulletins=entry.bulletins,
                    priority=entry.priority.label, scheduled=entry.scheduled)

    def _local(self, moment: datetime | None) -> datetime | None:
        """A device-measured time in station time, as the as-run log shows it."""
        return moment.astimezone(self.tz) if moment is not None else None

    # -- writing -------------------------------------------------------------------------------
    def started(self, entry: Entry, *, started: datetime, engine: str | None) -> int:
        """The entry's row, PLAYING, written before the sound begins so a crash mid-programme leaves
        a trace; a retry or a replay of the same entry reopens its row (one row per occurrence)."""
        return self.log.start(**self._entry_fields(entry), started=started, engine=engine)

    def finished(self, row: int, *, ended: datetime, status: Status, error: str | None = None,
                 started: datetime | None = None) -> None:
        """Close the row of one airing; `started` is the device's measured start, if it has one."""
        if status in (Status.PLAYED, Status.LATE) and self.note is not None:
            error = "; ".join(part for part in (error, self.note()) if part) or None
        self.log.finish(row, ended=self._local(ended), status=status, error=error, started=self._local(started))

    def never_aired(self, entry: Entry, *, status: Status, ended: datetime, error: str) -> None:
        """The outcome of a queued entry that could not air (its render failed, the desk stopped it):
        a complete row, or the entry's row (a cut programme stopped before its replay) closed."""
        self.log.record(**self._entry_fields(entry), status=status, ended=ended, error=error)

    def occurrence(self, occ: Occurrence, priority: Priority, *, status: Status, started: datetime | None = None,
                   ended: datetime | None = None, error: str | None = None) -> None:
        """A complete row for an occurrence that did not go through the queue: missed, failed to
        cue, or found aired (by a file output's file) after the as-run log was lost."""
        kind = Kind.MAKE_UP if occ.make_up else Kind.SCHEDULED
        self.log.record(key=occ.key, kind=kind.value, slot=occ.slot.name, bulletins=occ.bulletins,
                        priority=priority.label, scheduled=occ.start, status=status, started=started,
                        ended=ended, error=error)

    # -- reading (the planner's decisions) -----------------------------------------------------
    @property
    def replaced(self) -> Replacement | None:
        """Why the log was found damaged and replaced at start-up (None: it can be trusted)."""
        return self.log.replaced

    def recover(self, now: datetime) -> list[AsRunRow]:
        """Rows a crash left PLAYING, now INTERRUPTED (start-up only)."""
        return self.log.recover(now)

    def done_keys(self, since: datetime) -> set[str]:
        """Keys that aired (played or late) scheduled at or after `since`."""
        return self.log.done_keys(since)

    def history(self, start: datetime | None = None, end: datetime | None = None) -> list[AsRunRow]:
        return self.log.history(start, end)

    def facts(self, start: datetime, end: datetime) -> list[Fact]:
        """Light rows for long periods (make-up planning over a yearly target)."""
        return self.log.facts(start, end)

    def status(self) -> dict:
        """The as-run log's health for the control socket's status: a write fault, a replaced log."""
        fault, replaced = self.log.fault, self.log.replaced
        return {"fault": fault.to_json() if fault else None,
                "replaced": {"reason": replaced.reason,
                             "moved_to": str(replaced.moved_to) if replaced.moved_to else None,
                             "salvaged": replaced.salvaged}
                if replaced else None}

    def pending(self) -> list[AsRunRow]:
        """Rows not in SQLite yet (the control socket's `pending`, for `history`)."""
        return self.log.pending()

    def close(self) -> None:
        self.log.close()
