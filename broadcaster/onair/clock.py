"""Station time for every on-air part: `now()` in the station's zone, and waiting.

Every part of the daemon (planner, playout, desk) takes a `Clock` instead of reading the system
time, so its tests drive a `FakeClock` that moves only when told: a device retry, a cue decision
or a cut-in ranking then runs in milliseconds instead of sleeping through real seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo


class Clock:
    """The real clock: wall time in `tz`, real waits."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, cond: threading.Condition, predicate: Callable[[], object], timeout: float | None) -> bool:
        """`cond.wait_for(predicate, timeout)` (caller holds `cond`): True if the predicate came true."""
        return bool(cond.wait_for(predicate, timeout))


class FakeClock(Clock):
    """A clock for tests: stands still until `advance()`; sleeping and timed waits advance it at once."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware start time")
        super().__init__(start.tzinfo)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float | timedelta) -> datetime:
        step = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        with self._lock:
            self._now += step
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def wait(self, cond: threading.Condition, predicate: Callable[[], object], timeout: float | None) -> bool:
        if predicate():
            return True
        if timeout is None:     # nothing else moves a fake clock: waiting forever would hang the test
            raise RuntimeError("FakeClock.wait needs a timeout")
        self.advance(timeout)
        return bool(predicate())
