"""Lunar slots and public holidays, checked against an independent computation over 2023-2030.

The independent source is `tests/schedule/newmoon.py` (Meeus' true new moons, taken to UTC+7),
plus facts that need no computation: Tết falls on these dates in Vietnam, and the leap months of
these years are the 2nd (2023), 6th (2025) and 5th (2028).
"""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.occurrences import occurrences
from broadcaster.schedule import Bulletin, Schedule, Slot, Station
from broadcaster.schedule.calendar import lunar_day, public_holidays
from tests.schedule.newmoon import new_moons_utc7

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = date(2023, 1, 1), date(2030, 12, 31)
TET = {2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
       2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 2)}
LEAP_MONTH = {2023: 2, 2025: 6, 2028: 5}


def month_starts() -> dict[tuple[int, int, bool], date]:
    """(lunar year, month, leap) -> first day, numbered from each Tết with the known leap months."""
    moons = [m.date() for m in new_moons_utc7(FIRST, LAST)]
    starts = {}
    for year, tet in TET.items():
        index = moons.index(tet)
        month, leap = 1, False
        for first in moons[index:index + 13]:
            if first == TET.get(year + 1):
                break
            starts[(year, month, leap)] = first
            if LEAP_MONTH.get(year) == month and not leap:
                leap = True
            else:
                month, leap = month + 1, False
    return starts


def airing_days(slot: Slot) -> list[date]:
    station = Station(name="Đài thử", timezone=VN, state_dir=Path("/tmp/unused"))
    schedule = Schedule(path=Path("/tmp/schedule.yaml"), station=station,
                        bulletins={"a": Bulletin(id="a", title="A", text="x")}, slots=(slot,))
    begin = datetime.combine(FIRST, time(), tzinfo=VN)
    end = datetime.combine(LAST + timedelta(days=1), time(), tzinfo=VN)
    return [o.start.date() for o in occurrences(schedule, begin, end)]


def lunar_slot(**fields) -> Slot:
    return Slot(**{"name": "Rằm", "at": (time(19),), "play": ("a",), "lunar": frozenset({1, 15}), **fields})


def test_new_moons_start_the_lunar_months():
    moons = {m.date() for m in new_moons_utc7(FIRST, LAST)}
    firsts = set()
    day = FIRST
    while day <= LAST:
        if lunar_day(day).day == 1:
            firsts.add(day)
        day += timedelta(days=1)
    assert len(moons) == 99 and firsts == moons


def test_mung_mot_and_ram_slot_expands_to_new_moon_days_and_fourteen_days_later():
    moons = [m.date() for m in new_moons_utc7(FIRST - timedelta(days=30), LAST)]
    expected = sorted(d for m in moons for d in (m, m + timedelta(days=14)) if FIRST <= d <= LAST)
    assert airing_days(lunar_slot()) == expected
    assert len(expected) == 198       # 99 mùng một, 98 rằm of those months, the rằm of 6 Jan 2023


def test_tet_is_vietnams_not_chinas():
    tet_days = airing_days(lunar_slot(lunar=frozenset({1}), lunar_months=frozenset({1})))
    assert tet_days == list(TET.values())
    assert date(2030, 2, 2) in tet_days and date(2030, 2, 3) not in tet_days   # China: 3 February


def test_lunar_months_follow_the_leap_years():
    starts = month_starts()
    assert airing_days(lunar_slot(lunar=frozenset({15}), lunar_months=frozenset({2, 7}))) == sorted(
        first + timedelta(days=14) for (year, month, leap), first in starts.items() if month in (2, 7) and not leap)
    # The leap 2nd month of 2023 (from 22 March) is not the 2nd month.
    assert date(2023, 3, 22) + timedelta(days=14) not in airing_days(
        lunar_slot(lunar=frozenset({15}), lunar_months=frozenset({2})))
    for (year, month, leap), first in starts.items():
        assert lunar_day(first) == type(lunar_day(first))(1, month, year, leap)


@pytest.mark.parametrize("year", sorted(TET))
def test_public_holidays_hold_tet_and_gio_to(year):
    starts = month_starts()
    named = public_holidays(year)
    assert named[TET[year]] == "Tết Nguyên Đán"
    gio_to = starts[(year, 3, False)] + timedelta(days=9)          # 10th day of the 3rd lunar month
    assert named[gio_to].startswith("Ngày Giỗ Tổ Hùng Vương")
    assert named[date(year, 9, 2)] == "Quốc khánh"


def test_except_public_holidays_and_on_public_holidays():
    every_day = Slot(name="Sáng", at=(time(6),), play=("a",), except_holidays=True)
    days = set(airing_days(every_day))
    holidays_2023 = set(public_holidays(2023))
    assert not days & holidays_2023 and date(2023, 4, 28) in days and date(2023, 4, 29) not in days
    on_holidays = Slot(name="Lễ", at=(time(6),), play=("a",), on_holidays=True, dates=(date(2023, 3, 8),))
    aired = airing_days(on_holidays)
    assert set(a for a in aired if a.year == 2023) == holidays_2023 | {date(2023, 3, 8)}


@pytest.mark.parametrize("day, vi, en", [
    (date(2023, 2, 5), "rằm tháng Giêng", "lunar 15/1"),
    (date(2024, 1, 11), "mùng một tháng Chạp", "lunar 1/12"),
    (date(2023, 4, 5), "rằm tháng Hai nhuận", "lunar 15/2 (leap)"),
    (date(2023, 8, 30), "15 tháng Bảy".replace("15", "rằm"), "lunar 15/7"),
    (date(2023, 1, 30), "mùng chín tháng Giêng", "lunar 9/1"),
    (date(2023, 1, 21), "30 tháng Chạp", "lunar 30/12"),
])
def test_lunar_labels(day, vi, en):
    assert lunar_day(day).label("vi") == vi and lunar_day(day).label("en") == en
