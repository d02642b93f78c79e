"""Make-up planning as pure tables: fixed clocks, as-run facts built in memory, no daemon."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.asrun.log import Fact, Status
from broadcaster.makeup import plan_make_ups
from broadcaster.occurrences import occurrences
from broadcaster.schedule import Bulletin, Slot, load_schedule
from broadcaster.schedule.campaigns import Target

VN = ZoneInfo("Asia/Ho_Chi_Minh")

SCHEDULE = """\
station:
  name: Đài thử
  air_hours: ["05:00-21:30"]
bulletins:
  mo-dau:
    text: Kế hoạch tuyên truyền cải cách hành chính.
  to-chuc:
    text: Tổ chức thực hiện.
  thoi-tiet:
    text: Thời tiết.
campaigns:
  cchc:
    title: Cải cách hành chính
    from: 2023-01-18
    until: 2023-12-31
    bulletins: [mo-dau, to-chuc]
    target: {broadcasts: 13, per: week}
    make_up: true
slots:
  - name: Sáng
    at: "06:00"
    days: [t2, t3, t4, t5, t6, t7]
    play: [mo-dau, thoi-tiet]
  - name: Chiều
    at: "17:00"
    days: [t2, t3, t4, t5, t6, t7]
    play: [to-chuc]
  - name: Chủ nhật
    at: "07:00"
    days: [cn]
    play: [mo-dau, to-chuc]
"""


@pytest.fixture(scope="module")
def schedule(tmp_path_factory):
    path = tmp_path_factory.mktemp("station") / "schedule.yaml"
    path.write_text(SCHEDULE, encoding="utf-8")
    return load_schedule(path)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def fact(n: int, key: str, kind: str, slot: str, bulletins, start: datetime, status: Status) -> Fact:
    aired = status is Status.PLAYED
    return Fact(n, key, kind, slot, tuple(bulletins), start.timestamp(), start.isoformat(),
                start.isoformat() if aired else None,
                (start + timedelta(minutes=1)).isoformat() if aired else None, status.value,
                "gtts" if aired else None, 1.0 if aired else 0.0, None)


def facts(schedule, until: str, lost: dict[str, Status] | None = None, extra: list[Fact] = ()) -> list[Fact]:
    """As-run rows for every regular broadcast from Monday 6 March 2023 up to `until`: played, except `lost`."""
    lost = lost or {}
    rows = [fact(n, occ.key, "scheduled", occ.slot.name, occ.bulletins, occ.start,
                 lost.get(occ.start.strftime("%a %H:%M"), Status.PLAYED))
            for n, occ in enumerate(occurrences(schedule, at("2023-03-06T00:00"), at(until)))]
    return rows + list(extra)


def make_up_row(when: str, status: Status) -> Fact:
    start = at(when)
    return fact(900, f"bù cchc@{start.isoformat()}", "make-up", "bù cchc", ("mo-dau", "to-chuc"), start, status)


def plan(schedule, rows, now: str, **options) -> list[str]:
    return [o.start.strftime("%a %d %H:%M") for o in plan_make_ups(schedule, rows, at(now), **options)]


def with_campaign(schedule, **changes):
    campaign = dataclasses.replace(schedule.campaigns["cchc"], **changes)
    return dataclasses.replace(schedule, campaigns={"cchc": campaign})


def with_station(schedule, **changes):
    return dataclasses.replace(schedule, station=dataclasses.replace(schedule.station, **changes))


WED_9 = "2023-03-08T09:00"
TWO_LOST = {"Mon 17:00": Status.MISSED, "Tue 06:00": Status.FAILED}


def test_nothing_when_everything_aired(schedule):
    assert plan(schedule, facts(schedule, WED_9), WED_9) == []


def test_lost_broadcasts_made_up_in_the_next_free_gaps_one_a_day(schedule):
    # 3 aired + 8 still to come = 11 of 13: two make-ups, today after 17:00 (06:00-17:00 is before the
    # lead time), then Thursday at the opening of air hours.
    assert plan(schedule, facts(schedule, WED_9, TWO_LOST), WED_9) == ["Wed 08 17:10", "Thu 09 05:00"]


def test_interrupted_without_a_replay_is_lost_too(schedule):
    rows = facts(schedule, WED_9, {"Tue 17:00": Status.INTERRUPTED})
    assert plan(schedule, rows, WED_9) == ["Wed 08 17:10"]


def test_only_a_shortfall_is_made_up_not_every_loss(schedule):
    loose = with_campaign(schedule, target=Target(11, "broadcasts", "week"))
    assert plan(loose, facts(schedule, WED_9, TWO_LOST), WED_9) == []           # 3 + 8 reach 11
    rows = facts(schedule, WED_9, TWO_LOST)
    assert plan(with_campaign(schedule, target=Target(12, "broadcasts", "week")), rows, WED_9) == ["Wed 08 17:10"]


def test_never_more_lost_than_made_up_even_with_a_structural_gap(schedule):
    greedy = with_campaign(schedule, target=Target(20, "broadcasts", "week"))
    assert len(plan(greedy, facts(schedule, WED_9, TWO_LOST), WED_9)) == 2


def test_the_plan_is_the_same_at_every_pass_until_it_is_cued(schedule):
    rows = facts(schedule, WED_9, TWO_LOST)
    first = plan_make_ups(schedule, rows, at(WED_9))
    assert [o.key for o in plan_make_ups(schedule, rows, at("2023-03-08T09:05"))] == [o.key for o in first]
    assert [o.key for o in first] == ["bù cchc@2023-03-08T17:10:00+07:00", "bù cchc@2023-03-09T05:00:00+07:00"]
    assert all(o.make_up == "cchc" and o.bulletins == ("mo-dau", "to-chuc") for o in first)
    # Once cued, a make-up is not planned again, and later passes do not add another for it.
    later = plan_make_ups(schedule, rows, at("2023-03-08T17:00"), cued=first)
    assert later == []


def test_a_failed_make_up_is_planned_again_in_a_later_gap(schedule):
    rows = facts(schedule, "2023-03-08T17:30", TWO_LOST, [make_up_row("2023-03-08T17:10", Status.FAILED)])
    # lost: 3; aired 4 + to come 7 = 11 of 13 -> 2; today's last turn is taken by the failed one.
    assert plan(schedule, rows, "2023-03-08T17:30") == ["Thu 09 05:00", "Fri 10 05:00"]


def test_an_aired_make_up_counts(schedule):
    rows = facts(schedule, "2023-03-08T17:30", TWO_LOST, [make_up_row("2023-03-08T17:10", Status.PLAYED)])
    assert plan(schedule, rows, "2023-03-08T17:30") == ["Thu 09 05:00"]


def test_full_days_push_make_ups_to_days_with_room(schedule):
    # Air hours 05:00-05:40 only, and Thursday's are taken by a 40-minute relay: Friday and Saturday.
    relay = Bulletin(id="tiep-song", title="Tiếp sóng", relay="http://127.0.0.1:9/live", duration=timedelta(minutes=40))
    busy = dataclasses.replace(
        with_station(schedule, air_hours=((time(5), time(5, 40)),)),
        bulletins={**schedule.bulletins, "tiep-song": relay},
        slots=schedule.slots + (Slot(name="Tiếp sóng", at=(time(5),), play=("tiep-song",), dates=(date(2023, 3, 9),)),))
    rows = facts(schedule, WED_9, TWO_LOST)
    assert plan(busy, rows, WED_9) == ["Fri 10 05:00", "Sat 11 05:00"]
    closed = with_station(schedule, air_hours=((time(6, 1), time(6, 4)),))     # no 5-minute mark fits
    assert plan(closed, rows, WED_9) == []


def test_more_than_the_days_left_takes_a_second_turn_on_the_first_days(schedule):
    rows = facts(schedule, "2023-03-11T09:00", {"Mon 06:00": Status.MISSED, "Mon 17:00": Status.MISSED,
                                                  "Tue 06:00": Status.MISSED, "Tue 17:00": Status.MISSED})
    # Saturday 09:00: 6 aired + 3 to come = 9 of 13, 4 lost: Saturday after 17:00, Sunday 05:00,
    # then Sunday's second turn (after its 07:00 broadcast); never two in the same turn.
    assert plan(schedule, rows, "2023-03-11T09:00") == ["Sat 11 17:10", "Sun 12 05:00", "Sun 12 07:10"]


def test_never_past_the_campaign_end(schedule):
    ending = with_campaign(schedule, until=date(2023, 3, 9), target=Target(13, "broadcasts", "week"))
    rows = facts(schedule, WED_9, TWO_LOST)
    # The week is cut to Mon-Thu: target 13 * 4/7 = 7.4 -> 8; aired 3 + to come 3 = 6: two, by Thursday.
    assert plan(ending, rows, WED_9) == ["Wed 08 17:10", "Thu 09 05:00"]
    assert plan(ending, rows, "2023-03-09T17:30") == []       # Thursday evening: nothing after it
    assert plan(ending, rows, "2023-03-09T09:00") == ["Thu 09 17:10"]


def test_never_past_the_period_end(schedule):
    rows = facts(schedule, "2023-03-12T09:00", {"Mon 06:00": Status.MISSED})
    assert all(day.startswith("Sun 12") for day in plan(schedule, rows, "2023-03-12T09:00"))


def test_air_hour_edges(schedule):
    rows = facts(schedule, WED_9, TWO_LOST)
    # Closing at 17:06: the turn after 17:00 is too short for a make-up; opening at 05:03 rounds to 05:05.
    edged = with_station(schedule, air_hours=((time(5, 3), time(17, 6)),))
    assert plan(edged, rows, WED_9) == ["Thu 09 05:05", "Fri 10 05:05"]
    for occ in plan_make_ups(edged, rows, at(WED_9)):
        assert time(5, 3) <= occ.start.time() and (occ.start + timedelta(seconds=20)).time() <= time(17, 6)


def test_never_overlaps_a_slot_and_never_two_in_a_row(schedule):
    rows = facts(schedule, WED_9, {k: Status.MISSED for k in ("Mon 06:00", "Mon 17:00", "Tue 06:00", "Tue 17:00",
                                                                "Wed 06:00")})
    found = plan_make_ups(schedule, rows, at(WED_9))
    regular = occurrences(schedule, at(WED_9), at("2023-03-13T00:00"))
    for occ in found:
        assert all(abs(occ.start - r.start) >= timedelta(minutes=5) for r in regular)
    merged = sorted([(o.start, "bù") for o in found] + [(r.start, "slot") for r in regular])
    assert not any(a[1] == b[1] == "bù" and a[0].date() == b[0].date() for a, b in zip(merged, merged[1:]))


def test_switched_off_or_no_target_plans_nothing(schedule):
    rows = facts(schedule, WED_9, TWO_LOST)
    assert plan(with_campaign(schedule, make_up=False), rows, WED_9) == []
    assert plan(with_campaign(schedule, target=None), rows, WED_9) == []


def test_minutes_target(schedule):
    per_month = with_campaign(schedule, target=Target(60, "minutes", "month"))
    rows = facts(schedule, "2023-03-29T09:00", {"Mon 06:00": Status.MISSED})
    # Each aired row lasted 1 minute and the rest are short: the month cannot reach 60 minutes, so
    # every lost broadcast (the four Monday mornings) is made up, one a day, then a second turn.
    assert plan(per_month, rows, "2023-03-29T09:00") == ["Wed 29 17:10", "Thu 30 05:00", "Thu 30 06:10",
                                                         "Fri 31 05:00"]
