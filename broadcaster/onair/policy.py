"""Pure on-air decisions: what to catch up, what was missed, what is late.

In: occurrences, the as-run log's keys, and `now` passed in. Out: plain decisions the daemon acts
on. Nothing here reads the clock, the disk or the log, so every rule is unit-tested with a fixed
`now`.

The rules (the brief's restart and misfire policy):
- an occurrence that already aired (played or late) never airs again;
- one missed by at most `catch_up` airs at once (after a crash, a power cut, or a cue that fired
  late); older ones are logged `missed`, once (while they have no as-run row), and only if they
  fall after the earliest row of the log (a fresh installation has missed nothing);
- a start more than `ON_TIME` after the scheduled second is `late` (Rivendell's +-1 s window);
- when the log cannot be trusted (it was found damaged at start-up and replaced), an occurrence
  in the catch-up window that no other evidence shows as aired is logged `missed`, never aired:
  airing a bulletin twice is worse than missing a catch-up.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from broadcaster.schedule.model import Bulletin, Priority

ON_TIME = timedelta(seconds=1)


class Timed(Protocol):
    """What policy needs of an occurrence."""

    @property
    def start(self) -> datetime: ...

    @property
    def key(self) -> str: ...


@dataclass(frozen=True)
class StartupPlan:
    catch_up: tuple          # air at once, in this order
    missed: tuple            # log as missed
    future: tuple            # schedule normally
    doubtful: tuple = ()     # might have aired before the log was lost: log as missed, do not air


def plan_startup(occurrences: Iterable[Timed], *, now: datetime, catch_up: timedelta,
                 done: set[str], recorded: set[str], since: datetime | None,
                 trusted: bool = True) -> StartupPlan:
    """Sort occurrences found at start-up into catch-up, missed and future.

    `done` holds keys that aired (played/late); `recorded` every key with any as-run row;
    `since` is the earliest scheduled time in the log (None for an empty log): before it the
    station was not installed yet, so nothing there counts as missed. `trusted=False` (the log
    was replaced at start-up) turns the catch-up list into `doubtful`.
    """
    caught, missed, future = [], [], []
    for occ in sorted(occurrences, key=lambda o: o.start):
        if occ.key in done:
            continue
        if occ.start > now:
            future.append(occ)
        elif now - occ.start <= catch_up:
            caught.append(occ)
        elif occ.key not in recorded and since is not None and occ.start > since:
            missed.append(occ)
    if not trusted:
        return StartupPlan((), tuple(missed), tuple(future), tuple(caught))
    return StartupPlan(tuple(caught), tuple(missed), tuple(future))


class CueDecision(enum.Enum):
    AIR = "air"
    MISSED = "missed"
    ALREADY_AIRED = "already-aired"


def decide_cue(key: str, scheduled: datetime, *, now: datetime, catch_up: timedelta,
               done: set[str]) -> CueDecision:
    """What to do when an occurrence's cue fires (possibly late, after a suspend or a stall)."""
    if key in done:
        return CueDecision.ALREADY_AIRED
    if now - scheduled > catch_up:
        return CueDecision.MISSED
    return CueDecision.AIR


def is_late(scheduled: datetime, started: datetime) -> bool:
    return started - scheduled > ON_TIME


def priority_of(bulletins: Sequence[Bulletin]) -> Priority:
    """A programme ranks as its most urgent bulletin."""
    return max((b.priority for b in bulletins), default=Priority.NORMAL)

