"""Make-up planning: (schedule, as-run facts, now) -> make-up broadcasts (phát bù) of campaigns that fell behind.

Where it sits: beside `occurrences`, and as pure. The daemon's planner calls it every planning
pass and cues what it returns like any occurrence (as-run kind `make-up`); `agenda` shows it
marked "bù"; reports count it. Nothing here reads the clock or the disk.

Rules, per campaign with `make_up: true` and a target:
- only the current period of its target (week, month, quarter, year), inside the campaign's
  window; a period cut by the window gets a prorated target, as in reports;
- behind = what aired in the period + what is still to air (the regular occurrences to come,
  make-ups already cued) falls short of the target, and broadcasts were lost (missed, failed,
  interrupted without airing again); it makes up at most the lost ones, never a plan's
  structural gap;
- make-ups air inside `station.air_hours`, never overlapping a slot (lengths estimated from the
  text, with a margin each side), never two in a row (one per gap between two broadcasts, across
  all campaigns), spread over days (one a day first, the earliest days first), never after the
  period or the campaign ends;
- each lands at a fixed time (the start of its gap, rounded up to a 5-minute mark), so every pass
  plans the same keys until they are cued; a make-up that fails is one more lost broadcast and
  is planned again, by the same rules, in a later gap.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import attrgetter

from broadcaster.asrun.log import Fact, Status
from broadcaster.occurrences import Occurrence, occurrences
from broadcaster.schedule.campaigns import Campaign, period_of
from broadcaster.schedule.loader import estimated_seconds
from broadcaster.schedule.model import Schedule, Slot

KIND = "make-up"
COUNTED_KINDS = frozenset(("scheduled", KIND, "manual"))
_AIRED = frozenset(s.value for s in (Status.PLAYED, Status.LATE, Status.PARTIAL))
_LOST = frozenset(s.value for s in (Status.MISSED, Status.FAILED, Status.INTERRUPTED))


def slot_name(campaign: Campaign) -> str:
    """The as-run `slot` of a campaign's make-ups (and the first part of their keys)."""
    return f"bù {campaign.id}"


@dataclass(frozen=True)
class Spacing:
    """How make-ups sit in the day (tests shrink these to seconds)."""

    margin: timedelta = timedelta(minutes=5)   # clear air before and after a make-up
    lead: timedelta = timedelta(minutes=10)    # a new make-up is planned at least this far ahead (to render)
    grid: timedelta = timedelta(minutes=5)     # make-ups start on a mark of this step


@dataclass
class _Tally:
    aired: int = 0
    aired_seconds: float = 0.0
    lost: int = 0
    days: set[date] = field(default_factory=set)          # days with a make-up of this campaign


def _ceil_grid(moment: datetime, grid: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = math.ceil((moment - midnight) / grid - 1e-9)
    return midnight + steps * grid


class _Day:
    """One day's air: the free gaps inside air hours, each known by how many broadcasts come before it.

    Two make-ups after the same number of regular broadcasts would air in a row (even across
    two air-hour windows), so each such "turn" holds one make-up at most.
    """

    def __init__(self, day: date, busy: list[tuple[datetime, datetime]], schedule: Schedule,
                 spacing: Spacing) -> None:
        zone = schedule.station.timezone
        self.spacing = spacing
        margin = spacing.margin
        self.starts = sorted(start for start, _ in busy)
        self.gaps: list[tuple[datetime, datetime]] = []
        for first, last in schedule.station.air_hours:
            opens = datetime.combine(day, first, tzinfo=zone)
            closes = datetime.combine(day, last, tzinfo=zone)
            cursor = opens
            for start, end in sorted(busy):
                if end + margin <= cursor or start - margin >= closes:
                    continue
                if start - margin > cursor:
                    self.gaps.append((cursor, start - margin))
                cursor = max(cursor, end + margin)
            if cursor < closes:
                self.gaps.append((cursor, closes))
        self.used: set[int] = set()

    def turn(self, moment: datetime) -> int:
        """How many regular broadcasts of the day start before `moment`."""
        return sum(1 for start in self.starts if start < moment)

    def place(self, length: timedelta, earliest: datetime) -> datetime | None:
        """The start of the first free gap that fits `length` and starts at or after `earliest`."""
        for start, end in self.gaps:
            at = _ceil_grid(start, self.spacing.grid)
            if at >= earliest and at + length <= end and self.turn(at) not in self.used:
                self.used.add(self.turn(at))
                return at
        return None


def plan_make_ups(schedule: Schedule, rows: Iterable[Fact], now: datetime, *,
                  cued: Iterable[Occurrence] = (), spacing: Spacing = Spacing()) -> list[Occurrence]:
    """The make-ups to air from `now` on, sorted by time.

    `rows`: the as-run rows of at least the current target periods (`facts_since`); `cued`:
    make-ups the daemon has already cued and that have no as-run row yet (they count as to come
    and hold their turns).
    """
    zone = schedule.station.timezone
    now = now.astimezone(zone)
    today = now.date()
    campaigns = [c for c in schedule.campaigns.values()
                 if c.make_up and c.target is not None and c.covers(today) and schedule.station.air_hours]
    if not campaigns:
        return []
    rows = sorted(rows, key=attrgetter("scheduled_utc"))      # already in order from the log: linear
    times = [row.scheduled_utc for row in rows]
    cued = list(cued)
    lengths: dict[str, timedelta] = {}

    def length_of(slot: Slot) -> timedelta:
        if slot.name not in lengths:
            lengths[slot.name] = timedelta(seconds=estimated_seconds(slot, schedule.bulletins))
        return lengths[slot.name]

    windows = {c.id: _window(c, today) for c in campaigns}
    days: dict[date, _Day] = {}

    def day_of(day: date) -> _Day:
        """The day's gaps, from its regular broadcasts (expanded only for days a make-up may use)."""
        if day not in days:
            begin = datetime.combine(day, time(), tzinfo=zone)
            busy = [(o.start, o.start + length_of(o.slot))
                    for o in occurrences(schedule, begin, begin + timedelta(days=1))]
            days[day] = _Day(day, busy, schedule, spacing)
        return days[day]

    # Make-ups already on the air or logged hold their gaps, whichever campaign they belong to.
    held = [datetime.fromtimestamp(r.scheduled_utc, zone) for r in rows if r.kind == KIND] + \
        [o.start.astimezone(zone) for o in cued]
    for moment in held:
        if moment.date() >= today:
            day = day_of(moment.date())
            day.used.add(day.turn(moment))

    tallies = _tallies(campaigns, windows, rows, times, zone)
    planned: list[Occurrence] = []
    for campaign in campaigns:
        first, end = windows[campaign.id]
        tally = tallies[campaign.id]
        name = slot_name(campaign)
        make_up_slot = Slot(name=name, at=(time(),), play=campaign.bulletins)
        length = length_of(make_up_slot)
        to_come, to_come_seconds = _to_come(schedule, campaign, now, end, length_of)
        mine = [o for o in cued if o.slot.name == name]
        tally.days |= {o.start.date() for o in mine}
        target = campaign.target
        whole = period_of(first, target.per)
        share = (end - first).days / (whole[1] - whole[0]).days
        needed = target.amount * share
        if target.unit == "broadcasts":
            shortfall = needed - tally.aired - to_come - len(mine)
            count = math.ceil(shortfall - 1e-9)
        else:
            expected = tally.aired_seconds + to_come_seconds + sum(length_of(o.slot).total_seconds() for o in mine)
            count = math.ceil((needed * 60 - expected) / max(length.total_seconds(), 1) - 1e-9)
        count = min(count, tally.lost - len(mine))
        if count <= 0:
            continue
        earliest = now + spacing.lead
        candidates = [first + timedelta(days=n) for n in range((end - first).days)]
        candidates = [d for d in candidates if d >= today]
        per_day: dict[date, int] = defaultdict(int)
        for day in tally.days:
            per_day[day] += 1
        found = 0
        for round_ in range(count + max(per_day.values(), default=0) + 1):   # a turn of each day per round
            for day in candidates:
                if found == count:
                    break
                if per_day[day] > round_:
                    continue
                at = day_of(day).place(length, earliest)
                if at is None:
                    continue
                per_day[day] += 1
                found += 1
                planned.append(Occurrence(at, Slot(name=name, at=(at.time(),), play=campaign.bulletins,
                                                   dates=(day,)), campaign.bulletins, make_up=campaign.id))
            if found == count:
                break
    return sorted(planned, key=lambda o: o.start)


def _to_come(schedule: Schedule, campaign: Campaign, now: datetime, end: date, length_of) -> tuple[int, float]:
    """The campaign's regular broadcasts from `now` to `end`: (how many, estimated seconds).

    Counted slot by slot without building the occurrences: a yearly target looks months ahead.
    """
    zone = schedule.station.timezone
    today = now.date()
    count, seconds = 0, 0.0
    for slot in schedule.slots:
        if not slot.enabled or not campaign.counts(slot.play):
            continue
        length = length_of(slot).total_seconds()
        day = today
        while day < end:
            if slot.airs_on(day):
                times = len(slot.at) if day != today else \
                    sum(1 for at in slot.at if datetime.combine(day, at, tzinfo=zone) >= now)
                count += times
                seconds += times * length
            day += timedelta(days=1)
    return count, seconds


def facts_since(schedule: Schedule, today: date) -> date | None:
    """The first day whose as-run rows `plan_make_ups` needs today (the earliest current period)."""
    firsts = [_window(c, today)[0] for c in schedule.campaigns.values()
              if c.make_up and c.target is not None and c.covers(today)]
    return min(firsts, default=None)


def _window(campaign: Campaign, today: date) -> tuple[date, date]:
    """The current target period, cut to the campaign's window: (first day, day after the last)."""
    first, end = period_of(today, campaign.target.per)
    if campaign.start:
        first = max(first, campaign.start)
    if campaign.until:
        end = min(end, campaign.until + timedelta(days=1))
    return first, end


def _tallies(campaigns: list[Campaign], windows: dict[str, tuple[date, date]], rows: list[Fact],
             times: list[float], zone) -> dict[str, _Tally]:
    """What aired and what was lost of each campaign in its current period.

    One pass sorts the rows to the campaigns they count for (a bulletin list is looked up once),
    then each campaign reads only its own rows of its own period.
    """
    bounds = {c.id: tuple(datetime.combine(d, time(), tzinfo=zone).timestamp() for d in windows[c.id])
              for c in campaigns}
    low = bisect_left(times, min(first for first, _ in bounds.values()))
    high = bisect_left(times, max(end for _, end in bounds.values()))
    counting: dict[tuple[str, ...], tuple[str, ...]] = {}       # a bulletin list -> the campaigns it counts for
    own: dict[str, list[Fact]] = {c.id: [] for c in campaigns}
    for row in rows[low:high]:
        hits = counting.get(row.bulletins)
        if hits is None:
            hits = counting[row.bulletins] = tuple(c.id for c in campaigns if c.counts(row.bulletins))
        for campaign_id in hits:
            own[campaign_id].append(row)
    tallies = {}
    for campaign_id, mine in own.items():
        first, end = bounds[campaign_id]
        stamps = [row.scheduled_utc for row in mine]
        tallies[campaign_id] = _tally(mine[bisect_left(stamps, first):bisect_left(stamps, end)], zone)
    return tallies


def _tally(rows: list[Fact], zone) -> _Tally:
    """What aired and what was lost among one campaign's rows of its period."""
    tally = _Tally()
    by_key: dict[str, list[Fact]] = defaultdict(list)
    for row in rows:
        if row.kind in COUNTED_KINDS:
            by_key[row.key].append(row)
    playing = Status.PLAYING.value
    for key_rows in by_key.values():
        if len(key_rows) == 1:                 # most broadcasts have one row: no sets to build
            row = key_rows[0]
            if row.kind == KIND:
                tally.days.add(datetime.fromtimestamp(row.scheduled_utc, zone).date())
            if row.status in _AIRED or row.status == playing:     # on the air now: counts as aired
                tally.aired += 1
                tally.aired_seconds += row.minutes * 60 if row.status in _AIRED else 0.0
            elif row.status in _LOST:
                tally.lost += 1
            continue
        statuses = {r.status for r in key_rows}
        if any(r.kind == KIND for r in key_rows):
            tally.days.add(datetime.fromtimestamp(key_rows[0].scheduled_utc, zone).date())
        if statuses & _AIRED or statuses == {playing}:
            tally.aired += 1
            tally.aired_seconds += sum(r.minutes * 60 for r in key_rows if r.status in _AIRED)
        elif statuses & _LOST:
            tally.lost += 1
    return tally


__all__ = ["KIND", "Spacing", "facts_since", "plan_make_ups", "slot_name"]
