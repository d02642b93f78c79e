"""Publicity campaigns (kế hoạch tuyên truyền) and the station's air hours in schedule.yaml.

Where it sits: read by the loader (`campaigns:` at the top, `station.air_hours`); the model is
used by reports (what counts toward a plan, and its target) and by make-up planning (which
campaigns may be made up, and when the station may air). Parsing reports every problem at its
line and column through the loader's reader, like the rest of the file.

A campaign counts every broadcast that plays at least one of its `bulletins` between `from` and
`until`; its `target` is a number of broadcasts or minutes per week, month, quarter or year.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any, Iterator

import yaml

from broadcaster import i18n
from broadcaster.problems import WARNING, Location
from broadcaster.schedule.model import Bulletin, Slot, Station

if TYPE_CHECKING:
    from broadcaster.schedule.loader import _Reader

CAMPAIGN_KEYS = ("title", "plan", "from", "until", "bulletins", "target", "make_up")
TARGET_UNITS = ("broadcasts", "minutes")
PERIODS = ("week", "month", "quarter", "year")
AIR_HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")
UNBOUNDED_CHECK = timedelta(days=366)   # how far a campaign without `until` is checked for reach

i18n.register({
    "section.campaign": ("chiến dịch '{name}'", "campaign '{name}'"),
    "section.target": ("mục tiêu của chiến dịch '{name}'", "target of campaign '{name}'"),
    "campaign.id_invalid": (
        "mã chiến dịch '{value}' chỉ được dùng chữ không dấu, số, '-', '_' và '.'",
        "campaign id '{value}' may only use letters without accents, digits, '-', '_' and '.'"),
    "campaign.no_bulletins": (
        "chiến dịch '{campaign}' chưa có bản tin nào ('bulletins')",
        "campaign '{campaign}' has no bulletins ('bulletins')"),
    "campaign.unknown_bulletin": (
        "chiến dịch '{campaign}' tính bản tin không có trong 'bulletins': '{bulletin}'{hint}",
        "campaign '{campaign}' counts a bulletin that is not in 'bulletins': '{bulletin}'{hint}"),
    "campaign.target_unit": (
        "mục tiêu cần đúng một trong 'broadcasts' (số buổi) hoặc 'minutes' (số phút)",
        "a target needs exactly one of 'broadcasts' or 'minutes'"),
    "campaign.make_up_target": (
        "chiến dịch '{campaign}' phát bù ('make_up: true') nhưng chưa có 'target' để biết thiếu bao nhiêu",
        "campaign '{campaign}' has 'make_up: true' but no 'target' to tell how much is missing"),
    "campaign.make_up_air_hours": (
        "chiến dịch '{campaign}' phát bù nhưng station chưa có 'air_hours' (giờ được phát bù), ví dụ [\"05:00-21:30\"]",
        "campaign '{campaign}' makes up missed broadcasts but station has no 'air_hours' "
        "(when make-ups may air), for example [\"05:00-21:30\"]"),
    "campaign.never_played": (
        "chiến dịch '{campaign}': không khung giờ nào phát bản tin của nó từ {start} đến {until}",
        "campaign '{campaign}': no slot plays its bulletins between {start} and {until}"),
    "campaign.unreachable": (
        "chiến dịch '{campaign}' cần {target} {unit} mỗi {per} nhưng các khung giờ của nó chỉ cho nhiều nhất {reach}",
        "campaign '{campaign}' needs {target} {unit} a {per} but its slots give at most {reach}"),
    "unit.broadcasts": ("buổi", "broadcasts"),
    "unit.minutes": ("phút", "minutes"),
    "per.week": ("tuần", "week"),
    "per.month": ("tháng", "month"),
    "per.quarter": ("quý", "quarter"),
    "per.year": ("năm", "year"),
    "air_hours.invalid": (
        "giờ phát không hợp lệ '{value}': viết \"HH:MM-HH:MM\", ví dụ \"05:00-21:30\"",
        "invalid air hours '{value}': write \"HH:MM-HH:MM\", for example \"05:00-21:30\""),
    "air_hours.empty": ("'air_hours' trống", "'air_hours' is empty"),
})


@dataclass(frozen=True)
class _Word:
    """A catalogue word put into a message when it is printed, so the problem reads in either language."""

    key: str

    def __format__(self, spec: str) -> str:
        return format(i18n.tr(self.key), spec)


@dataclass(frozen=True)
class Target:
    """How much airtime a plan asks for: `amount` broadcasts or minutes `per` period."""

    amount: float
    unit: str          # "broadcasts" | "minutes"
    per: str           # "week" | "month" | "quarter" | "year"
    location: Location | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return {self.unit: amount, "per": self.per}


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    bulletins: tuple[str, ...]
    plan: str = ""                       # the document it comes from, for reports
    start: date | None = None            # `from:`
    until: date | None = None
    target: Target | None = None
    make_up: bool = False
    location: Location | None = None

    def covers(self, day: date) -> bool:
        return not (self.start and day < self.start or self.until and day > self.until)

    def counts(self, bulletins) -> bool:
        """Whether a broadcast playing `bulletins` counts toward this campaign."""
        return any(b in self.bulletins for b in bulletins)


def period_of(day: date, per: str) -> tuple[date, date]:
    """The period (`per`) containing `day`, as (first day, day after the last)."""
    if per == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    if per == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    months = 3 if per == "quarter" else 1
    first_month = (day.month - 1) // months * months + 1
    first = date(day.year, first_month, 1)
    month_after = first_month + months
    return first, date(day.year + (month_after - 1) // 12, (month_after - 1) % 12 + 1, 1)


def periods(first: date, end: date, per: str) -> Iterator[tuple[date, date]]:
    """The periods overlapping [first, end), whole (not clipped)."""
    day = first
    while day < end:
        period = period_of(day, per)
        yield period
        day = period[1]


def parse_air_hours(reader: "_Reader", node: yaml.Node) -> tuple[tuple[time, time], ...] | None:
    """`air_hours: ["05:00-21:30", ...]` -> sorted (first, last) pairs."""
    items = reader.sequence(node, "air_hours")
    if items is None:
        return None
    if not items:
        reader.report(node, "air_hours.empty")
        return None
    spans = []
    for item in items:
        raw = item.value if isinstance(item, yaml.ScalarNode) else ""
        match = AIR_HOURS.match(str(raw))
        span = None
        if match:
            try:
                span = tuple(time.fromisoformat(f"{part:0>5}") for part in match.groups())
            except ValueError:
                span = None
        if span is None or span[0] >= span[1]:
            reader.report(item, "air_hours.invalid", value=raw)
            continue
        spans.append(span)
    return tuple(sorted(spans)) or None


def parse_campaigns(reader: "_Reader", entry, bulletins: dict[str, Bulletin],
                    station: Station | None) -> dict[str, Campaign]:
    """The `campaigns:` mapping, every problem reported at its place."""
    from broadcaster.schedule.loader import BULLETIN_ID

    campaigns: dict[str, Campaign] = {}
    if entry is None:
        return campaigns
    _, node = entry
    if not reader.mapping(node, "campaigns"):
        return campaigns
    for campaign_id, (id_node, body) in reader.items(node, "campaigns", None).items():
        if not BULLETIN_ID.match(campaign_id):
            reader.report(id_node, "campaign.id_invalid", value=campaign_id)
            continue
        campaign = _campaign(reader, campaign_id, id_node, body, bulletins, station)
        if campaign is not None:
            campaigns[campaign_id] = campaign
    return campaigns


def _campaign(reader: "_Reader", campaign_id: str, id_node: yaml.Node, node: yaml.Node,
              bulletins: dict[str, Bulletin], station: Station | None) -> Campaign | None:
    section = i18n.tr("section.campaign", name=campaign_id)
    if not reader.mapping(node, campaign_id):
        if reader.is_null(node):
            reader.report(id_node, "key.missing", key="bulletins", section=section)
        return None
    fields = reader.items(node, section, CAMPAIGN_KEYS)
    ok = True
    values: dict[str, Any] = {"id": campaign_id, "title": campaign_id, "location": reader.at(id_node)}
    for key in ("title", "plan"):
        if key in fields:
            text = reader.text(fields[key][1], key)
            ok = ok and text is not None
            if text:
                values[key] = text.strip()
    for key, name in (("from", "start"), ("until", "until")):
        if key in fields:
            values[name] = reader.date(fields[key][1])
            ok = ok and values[name] is not None
    if values.get("start") and values.get("until") and values["until"] < values["start"]:
        reader.report(fields["until"][1], "window.reversed", start=values["start"], until=values["until"])
        ok = False

    counted: list[str] = []
    if "bulletins" not in fields:
        reader.report(id_node, "key.missing", key="bulletins", section=section)
        ok = False
    else:
        items = reader.sequence(fields["bulletins"][1], "bulletins")
        if items is not None and not items:
            reader.report(fields["bulletins"][1], "campaign.no_bulletins", campaign=campaign_id)
        for item in items or []:
            bulletin_id = reader.text(item, "bulletins")
            if bulletin_id is None:
                ok = False
            elif bulletin_id not in bulletins:
                reader.report(item, "campaign.unknown_bulletin", campaign=campaign_id, bulletin=bulletin_id,
                              hint=reader.hint(bulletin_id, bulletins))
                ok = False
            elif bulletin_id not in counted:
                counted.append(bulletin_id)
        ok = ok and bool(counted)
    values["bulletins"] = tuple(counted)

    if "target" in fields:
        values["target"] = _target(reader, fields["target"][1], campaign_id)
        ok = ok and values["target"] is not None
    if "make_up" in fields:
        flag = reader.boolean(fields["make_up"][1], "make_up")
        ok = ok and flag is not None
        values["make_up"] = bool(flag)
        if flag and "target" not in fields:
            reader.report(fields["make_up"][1], "campaign.make_up_target", campaign=campaign_id)
            ok = False
        air_hours_invalid = any(p.key.startswith("air_hours.") for p in reader.problems)
        if flag and station is not None and not station.air_hours and not air_hours_invalid:
            reader.report(fields["make_up"][1], "campaign.make_up_air_hours", campaign=campaign_id)
            ok = False
    return Campaign(**values) if ok else None


def _target(reader: "_Reader", node: yaml.Node, campaign_id: str) -> Target | None:
    if not reader.mapping(node, "target"):
        if reader.is_null(node):
            reader.report(node, "campaign.target_unit")
        return None
    section = i18n.tr("section.target", name=campaign_id)
    fields = reader.items(node, section, TARGET_UNITS + ("per",))
    units = [u for u in TARGET_UNITS if u in fields]
    if len(units) != 1:
        reader.report(node, "campaign.target_unit")
        return None
    unit = units[0]
    if unit == "broadcasts":
        amount = reader.integer(fields[unit][1], unit, 1, 10_000)
    else:
        amount = reader.number(fields[unit][1], unit, 1, 100_000)
    if "per" not in fields:
        reader.report(node, "key.missing", key="per", section=section)
        return None
    from broadcaster.schedule.loader import _choice

    per = _choice(reader, fields["per"][1], "per", PERIODS)
    if amount is None or per is None:
        return None
    return Target(float(amount), unit, per, reader.at(node))


def warn_unreachable(reader: "_Reader", campaigns: dict[str, Campaign], slots: list[Slot],
                     bulletins: dict[str, Bulletin]) -> None:
    """Warn when even the best period of a campaign's window cannot reach its target.

    Counts what the enabled slots give (make-ups only replace what was lost, so they do not
    count); periods cut by the campaign's window get a prorated target, as reports do.
    """
    from broadcaster.schedule.loader import estimated_seconds

    for campaign in campaigns.values():
        playing = [s for s in slots if s.enabled and campaign.counts(s.play)]
        first = campaign.start or min((s.start for s in playing if s.start), default=None)
        if first is None:
            first = min((d for s in playing for d in s.dates), default=date.today())
        end = campaign.until + timedelta(days=1) if campaign.until else first + UNBOUNDED_CHECK
        per_day: dict[date, tuple[int, float]] = {}
        day = first
        while day < end:
            count, seconds = 0, 0.0
            for slot in playing:
                if slot.airs_on(day):
                    count += len(slot.at)
                    seconds += estimated_seconds(slot, bulletins) * len(slot.at)
            per_day[day] = (count, seconds)
            day += timedelta(days=1)
        if not any(count for count, _ in per_day.values()):
            reader.report(campaign.location, "campaign.never_played", severity=WARNING, campaign=campaign.id,
                          start=first, until=end - timedelta(days=1))
            continue
        target = campaign.target
        if target is None:
            continue
        best_reach, short = 0.0, False
        for period_first, period_end in periods(first, end, target.per):
            days = [d for d in per_day if period_first <= d < period_end]
            share = len(days) / (period_end - period_first).days
            index = 0 if target.unit == "broadcasts" else 1
            reach = sum(per_day[d][index] for d in days) / (1 if index == 0 else 60)
            needed = target.amount * share
            if reach >= needed - 1e-9:
                short = False
                break
            short = True
            # In a whole period's terms, so the message compares like with like.
            best_reach = max(best_reach, reach / share)
        if short:
            reach_text = str(int(best_reach)) if target.unit == "broadcasts" else f"{math.floor(best_reach)}"
            amount = int(target.amount) if target.amount.is_integer() else target.amount
            reader.report(target.location or campaign.location, "campaign.unreachable", severity=WARNING, campaign=campaign.id,
                          target=amount, unit=_Word(f"unit.{target.unit}"),
                          per=_Word(f"per.{target.per}"), reach=reach_text)


__all__ = ["Campaign", "PERIODS", "Target", "parse_air_hours", "parse_campaigns", "period_of", "periods",
           "warn_unreachable"]
