"""The daemon's last warnings and errors, kept in memory for the desk's Trang chính.

In: every log record of the `broadcaster` loggers at WARNING or above while the daemon runs.
Out: the newest `KEEP` of them (time in station time, level, one-line message) for the control
socket's `status` reply, newest first. The log itself (journal, file) stays the full record;
this is what an officer at the desk needs to see without a console: why the last slot was late,
why an edit was refused, that the offline voice spoke.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime

KEEP = 20                  # lines kept
LONGEST = 500              # characters of one message shown


class RecentProblems(logging.Handler):
    """A logging handler remembering the last `keep` warnings and errors; `attach()` / `detach()`."""

    def __init__(self, clock: Callable[[], datetime], *, keep: int = KEEP, logger: str = "broadcaster") -> None:
        super().__init__(level=logging.WARNING)
        self.clock = clock
        self._logger = logging.getLogger(logger)
        self._lines: deque[dict] = deque(maxlen=keep)
        self._guard = threading.Lock()

    def attach(self) -> None:
        self._logger.addHandler(self)

    def detach(self) -> None:
        self._logger.removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:          # a bad format string in some log call must not break logging
            message = str(record.msg)
        message = " ".join(message.split())
        line = {"at": self.clock().isoformat(timespec="seconds"), "level": record.levelname.lower(),
                "message": message if len(message) <= LONGEST else message[:LONGEST - 1] + "…"}
        with self._guard:
            self._lines.append(line)

    def to_json(self) -> list[dict]:
        """The lines kept, newest first."""
        with self._guard:
            return list(reversed(self._lines))
