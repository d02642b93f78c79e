"""Agenda expansion: weekdays (English and Vietnamese names), windows, exceptions, dates, seconds."""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.occurrences import occurrences
from broadcaster.schedule import Bulletin, DateRange, Schedule, Slot, Station

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def schedule_of(*slots: Slot) -> Schedule:
    station = Station(name="Đài thử", timezone=VN, state_dir=Path("/tmp/unused"))
    return Schedule(path=Path("/tmp/schedule.yaml"), station=station,
                    bulletins={"a": Bulletin(id="a", title="A", text="x")}, slots=slots)


def starts(schedule: Schedule, first: date, days: int) -> list[str]:
    begin = datetime.combine(first, time(), tzinfo=VN)
    return [o.start.strftime("%a %Y-%m-%d %H:%M:%S") for o in occurrences(schedule, begin, begin + timedelta(days=days))]


def slot(**fields) -> Slot:
    defaults = {"name": "Sáng", "at": (time(6),), "play": ("a",)}
    return Slot(**{**defaults, **fields})


def test_every_day_when_days_omitted():
    assert starts(schedule_of(slot()), date(2023, 1, 16), 3) == [
        "Mon 2023-01-16 06:00:00", "Tue 2023-01-17 06:00:00", "Wed 2023-01-18 06:00:00"]


def test_weekdays_filter_and_times_with_seconds():
    s = slot(at=(time(6), time(17, 30, 15)), days=frozenset({1, 7}))
    assert starts(schedule_of(s), date(2023, 1, 14), 3) == [
        "Sun 2023-01-15 06:00:00", "Sun 2023-01-15 17:30:15", "Mon 2023-01-16 06:00:00",
        "Mon 2023-01-16 17:30:15"]


def test_window_and_excepted_range():
    s = slot(start=date(2023, 1, 18), until=date(2023, 1, 28),
             exceptions=(DateRange(date(2023, 1, 20), date(2023, 1, 26)),))
    assert starts(schedule_of(s), date(2023, 1, 1), 60) == [
        "Wed 2023-01-18 06:00:00", "Thu 2023-01-19 06:00:00", "Fri 2023-01-27 06:00:00",
        "Sat 2023-01-28 06:00:00"]


def test_one_off_dates():
    s = slot(dates=(date(2023, 3, 8), date(2023, 3, 10)))
    assert starts(schedule_of(s), date(2023, 3, 1), 31) == ["Wed 2023-03-08 06:00:00", "Fri 2023-03-10 06:00:00"]


def test_disabled_slots_never_occur():
    assert starts(schedule_of(slot(enabled=False)), date(2023, 1, 1), 10) == []


def test_same_second_keeps_file_order_and_timezone():
    schedule = schedule_of(slot(name="B"), slot(name="A"))
    found = occurrences(schedule, datetime(2023, 1, 16, tzinfo=VN), datetime(2023, 1, 17, tzinfo=VN))
    assert [(o.slot.name, o.start.isoformat()) for o in found] == [
        ("B", "2023-01-16T06:00:00+07:00"), ("A", "2023-01-16T06:00:00+07:00")]
    assert found[0].key == "B@2023-01-16T06:00:00+07:00"


def test_window_bounds_are_half_open_and_in_station_time():
    schedule = schedule_of(slot())
    # 23:00 UTC on the 15th is 06:00 on the 16th in Vietnam.
    begin = datetime(2023, 1, 15, 23, 0, tzinfo=ZoneInfo("UTC"))
    assert [o.start.isoformat() for o in occurrences(schedule, begin, begin + timedelta(hours=1))] == [
        "2023-01-16T06:00:00+07:00"]
    assert occurrences(schedule, begin + timedelta(seconds=1), begin + timedelta(hours=1)) == []


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        occurrences(schedule_of(slot()), datetime(2023, 1, 1), datetime(2023, 1, 2))
