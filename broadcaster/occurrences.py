"""Schedule + time window -> the dated broadcasts (occurrences) in that window.

Pure expansion: `now` and the window are passed in, nothing reads the clock. Every enabled slot
airs on each date of the window that matches its days (or is one of its dates), lies within
from/until and is not excepted, at each of its times in the station's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from broadcaster.schedule.model import Priority, Schedule, Slot


@dataclass(frozen=True)
class Occurrence:
    start: datetime                 # aware, in the station's time zone
    slot: Slot
    bulletins: tuple[str, ...]
    make_up: str | None = None      # the campaign a make-up broadcast (phát bù) is for; see makeup.py

    @property
    def key(self) -> str:
        """Identifies this broadcast across restarts and reloads (the as-run log's key)."""
        return f"{self.slot.name}@{self.start.isoformat()}"

    def priority(self, schedule: Schedule) -> Priority:
        """A programme ranks as its most urgent bulletin."""
        return max((schedule.bulletins[b].priority for b in self.bulletins if b in schedule.bulletins),
                   default=Priority.NORMAL)


def occurrences(schedule: Schedule, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences with `start <= occurrence.start < end`, sorted by time, then file order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("occurrences() needs timezone-aware datetimes")
    zone = schedule.station.timezone
    first_day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    found: list[tuple[datetime, int, Occurrence]] = []
    for order, slot in enumerate(schedule.slots):
        if not slot.enabled:
            continue
        day = first_day
        while day <= last_day:
            if slot.airs_on(day):
                for at in slot.at:
                    when = datetime.combine(day, at, tzinfo=zone)
                    if start <= when < end:
                        found.append((when, order, Occurrence(when, slot, slot.play)))
            day += timedelta(days=1)
    found.sort(key=lambda item: (item[0], item[1]))
    return [occurrence for _, _, occurrence in found]
