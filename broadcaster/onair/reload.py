"""Hot reload: notice edits to schedule.yaml (and the files it reads) while the station runs,
and validate the edited schedule away from the daemon.

In: a callable listing the files to watch (`Schedule.source_files()` of the running schedule).
Out: a call to `on_change()` a moment after any of them changed. Polls modification times and
sizes about once a second: no extra dependency, works on every file system the mini-PC may
use, and a second of delay is nothing next to a slot's time. `poke()` looks at once (the desk's
`{"cmd": "reload"}` after a save, which writes by rename, so there is nothing to wait to settle).
What a change means (keep the last good schedule, replace jobs) is the daemon's business.

`validate_off_path()` checks the edited file in a child process with a time budget and an
address-space limit, so however hostile the edit, the daemon's threads (playout, planning)
never share a core or memory with it, and the last good schedule airs while it runs or when it
gives up.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from broadcaster import i18n
from broadcaster.problems import Problem

log = logging.getLogger(__name__)

RELOAD_BUDGET = 30.0                 # seconds a validation of an edited schedule may take
RELOAD_MEMORY = 1024 * 1024 * 1024   # bytes of address space it may use

i18n.register({
    "reload.timeout": ("kiểm tra lịch phát đã sửa quá {seconds:g} giây nên đã dừng",
                       "checking the edited schedule took longer than {seconds:g} s and was stopped"),
    "reload.crashed": ("không kiểm tra được lịch phát đã sửa: {detail}",
                       "the edited schedule could not be checked: {detail}"),
})

# The child reports its own peak memory (VmHWM): a forked child's ru_maxrss also counts the
# parent's memory from before exec, which would hide what the check itself used. The reading
# check of texts only finds warnings, which a reload never shows (`broadcaster validate` and the
# desk's save do), and it is half the check of a 500-bulletin schedule: skipped here.
_CHILD = """
import pickle, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from broadcaster.schedule import check_schedule
result = check_schedule(sys.argv[1], check_texts=False)
with open("/proc/self/status") as status:
    peak = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
sys.stdout.buffer.write(pickle.dumps((*result, peak)))
"""


@dataclass(frozen=True)
class Validation:
    """What a validation off the daemon's path found, and what it cost."""

    schedule: object | None          # a Schedule when the file has no errors
    problems: list[Problem]
    seconds: float
    peak_kb: int                     # the child's peak resident memory (0 when it did not finish)


def validate_off_path(path: Path, *, budget: float = RELOAD_BUDGET, memory: int = RELOAD_MEMORY) -> Validation:
    """`check_schedule(path)` in a child process, killed after `budget` s or at `memory` bytes."""
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), str(memory)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    timer = threading.Timer(budget, process.kill)
    timer.start()
    try:
        out, err = process.communicate()     # both pipes read at once: a large schedule fills one
    finally:
        timer.cancel()
    seconds = time.monotonic() - started
    if process.returncode == 0:
        try:
            schedule, problems, peak_kb = pickle.loads(out)
            return Validation(schedule, problems, seconds, peak_kb)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            detail = str(exc)
        problem = Problem(Path(path), 1, 1, "reload.crashed", {"detail": detail})
    elif seconds >= budget:
        problem = Problem(Path(path), 1, 1, "reload.timeout", {"seconds": budget})
    else:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        problem = Problem(Path(path), 1, 1, "reload.crashed", {"detail": lines[-1] if lines else process.returncode})
    return Validation(None, [problem], seconds, 0)


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
        self._poked = threading.Event()
        self._state = snapshot(files())
        self._thread = threading.Thread(target=self._run, name="schedule-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Look now instead of at the next poll (the files were written whole, by rename)."""
        self._poked.set()

    def _run(self) -> None:
        while True:
            poked = self._poked.wait(self.interval)
            self._poked.clear()
            if self._stop.is_set():
                return
            current = snapshot(self._files())
            if current == self._state:
                continue
            # An editor may still be writing: wait until two looks agree before reading.
            if not poked:
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
        self._poked.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
