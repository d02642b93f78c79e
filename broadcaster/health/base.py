"""Check results and their history: what each health check says, and since when.

In: `Result`s from the checks (broadcaster.health.checks), each a name, a state and a one-line
message that names the fix. Out: `CheckStatus`es with `since`, the moment the state last
changed, and exactly one log line per change. A state that stays the same never logs again,
however often the check runs: an unattended station's log must stay readable for a month.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)


class State(enum.IntEnum):
    """Ordered so the worst of several is `max()`; the value is the `status` exit code."""

    OK = 0
    WARNING = 1
    FAILING = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> "State":
        return cls[label.upper()]


@dataclass(frozen=True)
class Result:
    """One check's verdict right now."""

    name: str
    state: State
    message: str


@dataclass(frozen=True)
class CheckStatus:
    """A result with the moment its state last changed."""

    name: str
    state: State
    message: str
    since: datetime

    def to_json(self) -> dict:
        return {"name": self.name, "state": self.state.label, "message": self.message,
                "since": self.since.isoformat(timespec="seconds")}


def overall(statuses: Iterable[CheckStatus | Result]) -> State:
    """The station's state: the worst of its checks (OK when there are none)."""
    return max((s.state for s in statuses), default=State.OK)


class StateTracker:
    """Keeps each check's last state and `since`; logs one line when a state changes.

    `store` (optional) is a small JSON file in the state folder, so a restart or a one-shot
    `broadcaster status` keeps the `since` of states that did not change. It is best effort: a
    read-only or full state folder is itself reported by the checks, not by a crash here.
    Thread-safe: the daemon's minute job and a control-socket `status` may update at once.
    """

    def __init__(self, clock: Callable[[], datetime], *, store: Path | None = None,
                 logger: logging.Logger = log) -> None:
        self.clock = clock
        self.store = store
        self.log = logger
        self._lock = threading.Lock()
        self._statuses: dict[str, CheckStatus] = {}
        self._known: dict[str, tuple[State, datetime]] = self._load()

    def update(self, results: Iterable[Result]) -> list[CheckStatus]:
        """Record `results`; return their statuses. Checks not among them keep their last status."""
        now = self.clock()
        changed = False
        updated = []
        with self._lock:
            for result in results:
                before = self._statuses.get(result.name)
                if before is None:
                    known = self._known.pop(result.name, None)
                    since = known[1] if known and known[0] is result.state else now
                    if result.state is not State.OK:
                        self.log.warning("health: %s %s: %s", result.name, result.state.label, result.message)
                    changed = True
                elif before.state is not result.state:
                    since = now
                    line = self.log.info if result.state is State.OK else self.log.warning
                    line("health: %s %s -> %s: %s", result.name, before.state.label, result.state.label,
                         result.message)
                    changed = True
                else:
                    since = before.since
                status = CheckStatus(result.name, result.state, result.message, since)
                self._statuses[result.name] = status
                updated.append(status)
            if changed:
                self._save()
        return updated

    def forget(self, keep: Iterable[str]) -> None:
        """Drop checks whose subject is gone (an output removed by a schedule edit)."""
        keep = set(keep)
        with self._lock:
            for name in [n for n in self._statuses if n not in keep]:
                del self._statuses[name]

    def statuses(self) -> list[CheckStatus]:
        with self._lock:
            return list(self._statuses.values())

    def _load(self) -> dict[str, tuple[State, datetime]]:
        if self.store is None:
            return {}
        try:
            raw = json.loads(self.store.read_text("utf-8"))
            return {name: (State.parse(item["state"]), datetime.fromisoformat(item["since"]))
                    for name, item in raw.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _save(self) -> None:
        if self.store is None:
            return
        data = {s.name: {"state": s.state.label, "since": s.since.isoformat()} for s in self._statuses.values()}
        temporary: Path | None = None
        try:
            handle, name = tempfile.mkstemp(dir=self.store.parent, prefix=".health-", suffix=".tmp")
            temporary = Path(name)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream)
            os.replace(temporary, self.store)
        except OSError:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
