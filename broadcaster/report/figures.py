"""As-run rows -> the figures of a report: what each campaign really got on air, and when the station was off.

Where it sits: after `asrun`. In: the campaigns of the schedule (what counts toward each plan and
its target) and the as-run rows of the period. Out: a `Report`. Every number comes from the rows:
what aired and for how long, measured by the device; the schedule only says which rows belong
to which plan. Pure: rows and dates in, figures out.

Counting rules (one broadcast = one occurrence key, counted once by its outcome):
- `planned`: broadcasts of the campaign in the log (scheduled, make-up and desk plays);
- `aired`: a played or late row (or a relay's partial row) exists for it (a programme cut by an
  emergency and aired again from its start counts as aired); `late` is the part of those that
  only aired late;
- otherwise `interrupted`, `failed` or `missed` by its worst row, in that order;
  so planned = aired + interrupted + failed + missed;
- `minutes`: measured airtime (end - start) of the campaign's played, late, partial and
  interrupted rows:
  the log measures programmes, so a programme carrying one of the campaign's bulletins counts whole;
- a period cut by the report's dates or the campaign's window gets a prorated target.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from broadcaster.asrun.log import Fact, Status
from broadcaster.constants import OFFLINE_ENGINE
from broadcaster.schedule.campaigns import Campaign, Target, period_of, periods
from broadcaster.schedule.model import Schedule

MAKE_UP = "make-up"
COUNTED_KINDS = frozenset(("scheduled", MAKE_UP, "manual"))
OFFLINE_ENGINES = (OFFLINE_ENGINE,)
_AIRED = frozenset(s.value for s in (Status.PLAYED, Status.LATE, Status.PARTIAL))   # a partial relay aired
_ON_AIR = _AIRED | {Status.INTERRUPTED.value}
_PLAYING, _LATE, _PLAYED = Status.PLAYING.value, Status.LATE.value, Status.PLAYED.value


@dataclass
class PeriodFigures:
    first: date
    end: date                       # the day after the last
    broadcasts: int = 0
    minutes: float = 0.0
    target: float | None = None     # prorated to the days of the period in the report and the campaign
    met: bool | None = None
    unit: str = "broadcasts"        # what the target counts

    @property
    def share(self) -> float | None:
        if not self.target:
            return None
        return (self.broadcasts if self.unit == "broadcasts" else self.minutes) / self.target

    def to_json(self) -> dict:
        return {"from": self.first.isoformat(), "to": (self.end - timedelta(days=1)).isoformat(),
                "broadcasts": self.broadcasts, "minutes": round(self.minutes, 2),
                "target": None if self.target is None else round(self.target, 2),
                "share": None if self.share is None else round(self.share, 4), "met": self.met}


@dataclass
class CampaignFigures:
    campaign: Campaign
    planned: int = 0
    aired: int = 0
    late: int = 0
    missed: int = 0
    failed: int = 0
    interrupted: int = 0
    make_ups: int = 0
    minutes: float = 0.0
    periods: list[PeriodFigures] = field(default_factory=list)
    weeks: list[PeriodFigures] = field(default_factory=list)     # airtime per week, for the chart
    voices: dict[str, float] = field(default_factory=dict)       # engine -> minutes on air

    @property
    def target(self) -> Target | None:
        return self.campaign.target

    @property
    def target_met(self) -> bool | None:
        judged = [p.met for p in self.periods if p.met is not None]
        return all(judged) if judged else None

    @property
    def offline_share(self) -> float | None:
        total = sum(self.voices.values())
        offline = sum(m for engine, m in self.voices.items() if engine in OFFLINE_ENGINES)
        return offline / total if total else None

    def to_json(self) -> dict:
        return {
            "id": self.campaign.id, "title": self.campaign.title, "planned": self.planned, "aired": self.aired,
            "late": self.late, "missed": self.missed, "failed": self.failed, "interrupted": self.interrupted,
            "make_ups": self.make_ups, "minutes": round(self.minutes, 2),
            "target": self.target.to_json() if self.target else None, "target_met": self.target_met,
            "periods": [p.to_json() for p in self.periods],
            "voices": {engine: round(minutes, 2) for engine, minutes in sorted(self.voices.items())},
            "offline_share": None if self.offline_share is None else round(self.offline_share, 4),
        }


@dataclass(frozen=True)
class OffAir:
    """A span with the station off the air: slots logged missed, or a crash that cut a programme."""

    first: datetime
    last: datetime                   # when the station aired again (or the last missed slot)
    missed: int

    def to_json(self) -> dict:
        return {"from": self.first.isoformat(timespec="seconds"), "to": self.last.isoformat(timespec="seconds"),
                "missed": self.missed}


@dataclass(frozen=True)
class Event:
    """An emergency or a relay in the period, as the as-run log has it."""

    scheduled: datetime
    kind: str
    name: str
    status: str
    minutes: float
    engine: str | None

    def to_json(self) -> dict:
        return {"scheduled": self.scheduled.isoformat(timespec="seconds"), "kind": self.kind, "name": self.name,
                "status": self.status, "minutes": round(self.minutes, 2), "engine": self.engine}


@dataclass
class Report:
    station: str
    first: date
    last: date                       # inclusive
    generated: datetime
    campaigns: list[CampaignFigures]
    emergencies: list[Event]
    relays: list[Event]
    off_air: list[OffAir]
    rows: int                        # as-run rows read
    zone: ZoneInfo                   # the station's time zone: every time is shown in it

    def to_json(self) -> dict:
        """The shape the desk and scripts read: from, to, campaigns, off_air (plus the details)."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat(),
                "campaigns": [c.to_json() for c in self.campaigns],
                "off_air": [o.to_json() for o in self.off_air],
                "station": self.station, "generated": self.generated.isoformat(timespec="seconds"),
                "emergencies": [e.to_json() for e in self.emergencies],
                "relays": [e.to_json() for e in self.relays], "rows": self.rows}


def minutes_on_air(row: Fact) -> float:
    return max(0.0, row.minutes) if row.status in _ON_AIR else 0.0


def compute(schedule: Schedule, rows: list[Fact], first: date, last: date, *, now: datetime,
            campaigns: list[str] | None = None) -> Report:
    """The report of `rows` (as-run rows scheduled from `first` to `last`, inclusive, station time)."""
    zone = schedule.station.timezone
    chosen = [c for c in schedule.campaigns.values() if campaigns is None or c.id in campaigns]
    relay_ids = {b.id for b in schedule.bulletins.values() if getattr(b, "relay", None)}
    days = _local_days(rows, zone)
    figures = [_campaign(c, rows, days, first, last) for c in chosen]
    events = [_event(r, zone) for r in rows if r.kind == "emergency"]
    relays = [_event(r, zone) for r in rows if r.kind == "relay" or relay_ids.intersection(r.bulletins)]
    return Report(station=schedule.station.name, first=first, last=last, generated=now, campaigns=figures,
                  emergencies=events, relays=relays, off_air=off_air_spans(rows, zone), rows=len(rows), zone=zone)


def _local_days(rows: list[Fact], zone: ZoneInfo) -> list[date]:
    """Each row's scheduled day in station time, one zone conversion per quarter hour.

    Every time zone's offset (and every DST change) is a whole number of quarter hours, so a
    local day always starts on a UTC quarter hour and one quarter hour never spans two days.
    """
    by_quarter: dict[int, date] = {}
    days = []
    for row in rows:
        quarter = int(row.scheduled_utc // 900)
        day = by_quarter.get(quarter)
        if day is None:
            day = by_quarter[quarter] = datetime.fromtimestamp(quarter * 900, zone).date()
        days.append(day)
    return days


def _event(row: Fact, zone: ZoneInfo) -> Event:
    return Event(datetime.fromtimestamp(row.scheduled_utc, zone), row.kind, row.slot, row.status,
                 minutes_on_air(row), row.engine)


def _campaign(campaign: Campaign, rows: list[Fact], days: list[date], first: date, last: date) -> CampaignFigures:
    figures = CampaignFigures(campaign)
    end = last + timedelta(days=1)
    window_first = max(first, campaign.start or first)
    window_end = min(end, campaign.until + timedelta(days=1) if campaign.until else end)
    counted = frozenset(campaign.bulletins)
    by_key: dict[str, tuple[date, set[str], bool]] = {}
    airtime: dict[date, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
    voices = figures.voices
    for row, day in zip(rows, days):
        if row.kind not in COUNTED_KINDS or counted.isdisjoint(row.bulletins) or not window_first <= day < window_end:
            continue
        seen = by_key.get(row.key)
        if seen is None:
            by_key[row.key] = (day, {row.status}, row.kind == MAKE_UP)
        else:
            seen[1].add(row.status)
        if row.minutes > 0 and row.status in _ON_AIR:
            figures.minutes += row.minutes
            engine = row.engine or "-"
            voices[engine] = voices.get(engine, 0.0) + row.minutes
            count, total = airtime[day]
            airtime[day] = (count, total + row.minutes)
    for day, statuses, make_up in by_key.values():
        if statuses == {_PLAYING}:
            continue                   # on air as the report is made: neither aired nor lost yet
        figures.planned += 1
        aired = statuses & _AIRED
        if aired:
            figures.aired += 1
            figures.late += aired == {_LATE}
            figures.make_ups += make_up
            count, total = airtime[day]
            airtime[day] = (count + 1, total)
        elif Status.INTERRUPTED.value in statuses:
            figures.interrupted += 1
        elif Status.FAILED.value in statuses:
            figures.failed += 1
        else:
            figures.missed += 1
    if window_first < window_end:
        figures.weeks = _periods(airtime, window_first, window_end, "week", None)
        if campaign.target:
            figures.periods = _periods(airtime, window_first, window_end, campaign.target.per, campaign.target)
    return figures


def _periods(airtime: dict[date, tuple[int, float]], first: date, end: date, per: str,
             target: Target | None) -> list[PeriodFigures]:
    found = []
    for period_first, period_end in periods(first, end, per):
        clipped_first, clipped_end = max(first, period_first), min(end, period_end)
        figures = PeriodFigures(clipped_first, clipped_end, unit=target.unit if target else "broadcasts")
        day = clipped_first
        while day < clipped_end:
            count, minutes = airtime.get(day, (0, 0.0))
            figures.broadcasts += count
            figures.minutes += minutes
            day += timedelta(days=1)
        if target is not None:
            whole = (period_end - period_first).days
            figures.target = target.amount * (clipped_end - clipped_first).days / whole
            figures.met = figures.share >= 1 - 1e-9
        found.append(figures)
    return found


def off_air_spans(rows: list[Fact], zone: ZoneInfo) -> list[OffAir]:
    """When the station was off: runs of missed slots, and crashes that cut a programme, until it aired again."""
    spans: list[OffAir] = []
    opened: datetime | None = None
    last_missed: datetime | None = None
    missed = 0
    for row in rows:                                  # oldest first
        is_missed = row.status == Status.MISSED.value
        crash_cut = row.status == Status.INTERRUPTED.value and row.ended is None and row.started is not None
        if is_missed or crash_cut:
            start = datetime.fromisoformat(row.scheduled if is_missed else row.started)
            opened = start if opened is None else min(opened, start)
            last_missed = start if last_missed is None else max(last_missed, start)
            missed += is_missed
            continue
        if opened is not None and row.started is not None:
            spans.append(OffAir(opened.astimezone(zone), datetime.fromisoformat(row.started).astimezone(zone), missed))
            opened, last_missed, missed = None, None, 0
    if opened is not None:
        spans.append(OffAir(opened.astimezone(zone), last_missed.astimezone(zone), missed))
    return spans


def period_bounds(text: str) -> tuple[date, date]:
    """`2023-03`, `2023-Q1` or `2023` -> (first day, last day); raises ValueError otherwise."""
    text = text.strip()
    if len(text) == 4 and text.isdigit():
        return date(int(text), 1, 1), date(int(text), 12, 31)
    year, _, part = text.partition("-")
    if not (len(year) == 4 and year.isdigit()):
        raise ValueError(text)
    if part.upper().startswith("Q") and part[1:].isdigit() and 1 <= int(part[1:]) <= 4:
        first = date(int(year), 3 * int(part[1:]) - 2, 1)
        return first, period_of(first, "quarter")[1] - timedelta(days=1)
    if part.isdigit() and len(part) == 2 and 1 <= int(part) <= 12:
        first = date(int(year), int(part), 1)
        return first, period_of(first, "month")[1] - timedelta(days=1)
    raise ValueError(text)
