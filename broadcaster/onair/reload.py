"""Hot reload: notice edits to schedule.yaml (and the files it reads) while the station runs.

In: a callable listing the files to watch (`Schedule.source_files()` of the running schedule).
Out: a call to `on_change()` a moment after any of them changed. Polls modification times and
sizes about once a second: no extra dependency, works on every file system the mini-PC may
use, and a second of delay is nothing next to a slot's time. What a change means (validate,
keep the last good schedule, replace jobs) is the daemon's business.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

Snapshot = dict[Path, tuple[int, int] | None]


def snapshot(files: Sequence[Path]) -> Snapshot:
    """Each file's (mtime in ns, size), None for a file that is missing or unreadable."""
    state: Snapshot = {}
    for path in files:
        try:
            st = Path(path).stat()
            state[Path(path)] = (st.st_mtime_ns, st.st_size)
        except OSError:
            state[Path(path)] = None
    return state


class ScheduleWatcher:
    """A thread that calls `on_change()` when the watched files change (after they settle)."""

    def __init__(self, files: Callable[[], Sequence[Path]], on_change: Callable[[], None], *,
                 interval: float = 1.0) -> None:
        self._files = files
        self._on_change = on_change
        self.interval = interval
        self._stop = threading.Event()
        self._state = snapshot(files())
        self._thread = threading.Thread(target=self._run, name="schedule-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            current = snapshot(self._files())
            if current == self._state:
                continue
            # An editor may still be writing: wait until two looks agree before reading.
            settled = snapshot(self._files()) if self._stop.wait(min(0.2, self.interval)) is False else current
            if settled != current:
                continue
            log.info("schedule files changed: %s",
                     ", ".join(str(p) for p in current if current.get(p) != self._state.get(p)))
            try:
                self._on_change()
            except Exception:  # a failed reload must never stop the watching
                log.exception("reloading the schedule failed")
            # Files new to the list start from now; an edit made during the reload shows next round.
            self._state = {p: current.get(p, v) for p, v in snapshot(self._files()).items()}

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
