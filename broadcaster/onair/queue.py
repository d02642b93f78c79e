"""The programmes waiting for the air, as a typed priority stack.

In: `Entry` objects (a scheduled occurrence, a manual replay or an emergency, each with a future
for its rendered audio). Out: the one entry that should air next. Ranking follows Circular
39/2020/TT-BTTTT: emergency before priority before normal; equal levels keep their scheduled time,
then the order of the slots in schedule.yaml, then arrival. Like obplayer's priority stack, the
queue only answers "what should play now?"; the playout decides when to cut.

Not thread-safe on its own: `onair.playout.Playout` holds its condition's lock around every call.
"""

from __future__ import annotations

import enum
import itertools
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from broadcaster.output.base import safe_label
from broadcaster.output.relay import RelaySource
from broadcaster.schedule.model import Bulletin, Priority


class Kind(str, enum.Enum):
    """Why an entry is on the queue; stored as the as-run row's `kind`."""

    SCHEDULED = "scheduled"
    MAKE_UP = "make-up"          # a campaign's make-up broadcast (phát bù), planned by broadcaster.makeup
    MANUAL = "manual"
    EMERGENCY = "emergency"

    @property
    def timed(self) -> bool:
        """Whether it has a time to keep (and so can be late); a desk request airs when rendered."""
        return self in (Kind.SCHEDULED, Kind.MAKE_UP)


@dataclass(eq=False)
class Entry:
    """One airing to be played. `start_at` is the exact second wanted, None for "as soon as possible"."""

    key: str
    kind: Kind
    slot: str
    bulletins: tuple[str, ...]
    priority: Priority
    scheduled: datetime
    audio: "Future"                     # Future[RenderResult]
    start_at: datetime | None = None
    order: int = 0                      # the slot's position in schedule.yaml, for same-second ties
    attempt: int = 1                    # > 1 when replayed after an emergency cut it
    seq: int = field(default=0, compare=False)
    content: tuple[Bulletin, ...] = ()  # the bulletins themselves: the last resort airs them from their parts
    preempted: bool = False             # set by the daemon when an emergency asked to cut it
    cut_by: str | None = None           # the key of that emergency
    stopped: bool = False               # set by the playout when the desk stopped it: never requeued
    sinks: frozenset[str] | None = None  # follower sinks (zones) it airs on besides the output; None: all
    relay: RelaySource | None = None    # a live `RelaySource` (relay bulletins) instead of a rendered file

    @property
    def ready(self) -> bool:
        return self.audio.done()

    @property
    def label(self) -> str:
        """A file-name-safe label, time first so a folder lists in air order: FileOutput names its WAV after it."""
        base = label_for(self.scheduled, self.slot)
        return base if self.attempt == 1 else f"{base}-{self.attempt}"

    def rank(self) -> tuple:
        return (-int(self.priority), self.scheduled, self.order, self.seq)

    def due(self, now: datetime, lead: timedelta) -> bool:
        return self.start_at is None or self.start_at - lead <= now

    def airable(self, now: datetime, lead: timedelta, wait: timedelta | None = None) -> bool:
        """Due and rendered (or failed), or still rendering `wait` after its time: it airs from its parts."""
        if self.ready:
            return self.due(now, lead)
        return wait is not None and (self.start_at or self.scheduled) + wait <= now


def label_for(scheduled: datetime, slot: str) -> str:
    """The label an airing of `slot` at `scheduled` plays under (and a file output's file name)."""
    return safe_label(f"{scheduled:%Y%m%d-%H%M%S}-{slot}")


class PlayQueue:
    """Entries waiting for the air, best first."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._seq = itertools.count(1)

    def push(self, entry: Entry) -> Entry:
        entry.seq = next(self._seq)
        self._entries.append(entry)
        return entry

    def take(self, now: datetime, lead: timedelta, wait: timedelta | None = None) -> Entry | None:
        """Remove and return the best entry that is due (within `lead`) and rendered (or failed),
        or whose render is still not done `wait` after its time."""
        candidates = [e for e in self._entries if e.airable(now, lead, wait)]
        if not candidates:
            return None
        best = min(candidates, key=Entry.rank)
        self._entries.remove(best)
        return best

    def best_ready(self, now: datetime, lead: timedelta, wait: timedelta | None = None) -> Entry | None:
        """The entry `take` would return, left in place."""
        candidates = [e for e in self._entries if e.airable(now, lead, wait)]
        return min(candidates, key=Entry.rank) if candidates else None

    def next_due(self) -> datetime | None:
        """The earliest `start_at` among entries waiting for their second (None if any is due now)."""
        times = [e.start_at for e in self._entries if e.start_at is not None]
        if any(e.start_at is None for e in self._entries) or not times:
            return None
        return min(times)

    def remove(self, key: str) -> list[Entry]:
        removed = [e for e in self._entries if e.key == key]
        self._entries = [e for e in self._entries if e.key != key]
        return removed

    def keys(self) -> set[str]:
        return {e.key for e in self._entries}

    def entries(self) -> list[Entry]:
        """A snapshot, best first."""
        return sorted(self._entries, key=Entry.rank)

    def __len__(self) -> int:
        return len(self._entries)
