"""Vietnam's calendars for the schedule: lunar days (âm lịch, UTC+7) and official public holidays.

Where it sits: under `schedule/`, read by `Slot.airs_on` (slots with `lunar:` and
`public-holidays`) and by `agenda` (the lunar date beside the solar one). Pure functions of a
date; nothing reads the clock.

The lunar calendar must be Vietnam's, computed at UTC+7: Chinese-calendar libraries compute at
UTC+8 and put some new moons a day later (Tết 2030 is 2 February in Vietnam, 3 February in
China; Tết 1985 and 2007 differ too). `lunar-vn` implements Hồ Ngọc Đức's algorithm at a chosen
offset. Public holidays come from `holidays.VN` (Tết, Giỗ Tổ Hùng Vương, 30/4, 1/5, Quốc khánh,
and the substitute days off the government decrees).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays
import lunar_vn

VIETNAM_UTC_OFFSET = 7.0
FIRST_YEAR, LAST_YEAR = lunar_vn.SUPPORTED_YEAR_RANGE     # 1900-2100 for both libraries
PUBLIC_HOLIDAYS = "public-holidays"                        # the word that stands for them in schedule.yaml

MONTH_NAMES_VI = ("Giêng", "Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Một", "Chạp")
DAY_WORDS_VI = ("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười")


@dataclass(frozen=True)
class LunarDay:
    day: int          # 1-30
    month: int        # 1-12
    year: int
    leap: bool        # a day of the leap month (tháng nhuận)

    def label(self, language: str = "vi") -> str:
        """How people say it: "rằm tháng Giêng", "mùng một tháng Chạp", "16 tháng Hai nhuận"."""
        if language != "vi":
            return f"lunar {self.day}/{self.month}{' (leap)' if self.leap else ''}"
        if self.day == 15:
            day = "rằm"
        elif self.day <= 10:
            day = f"mùng {DAY_WORDS_VI[self.day - 1]}"
        else:
            day = str(self.day)
        return f"{day} tháng {MONTH_NAMES_VI[self.month - 1]}{' nhuận' if self.leap else ''}"


@lru_cache(maxsize=8192)
def lunar_day(day: date) -> LunarDay:
    """The Vietnamese lunar date of a solar date (1900-2100)."""
    found = lunar_vn.solar_to_lunar(day, time_zone=VIETNAM_UTC_OFFSET)
    return LunarDay(found.day, found.month, found.year, found.leap)


def in_range(day: date) -> bool:
    """Whether both calendars cover `day` (outside, lunar slots and holidays never match)."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


def lunar_matches(day: date, days: frozenset[int], months: frozenset[int] | None) -> bool:
    """Whether `day` is one of the lunar `days` (of one of `months`, if given).

    With `months`, only the regular month counts, not a leap month of the same number: the
    festivals communes plan by (rằm tháng Giêng, rằm tháng Bảy) fall in the regular month.
    """
    if not in_range(day):
        return False
    lunar = lunar_day(day)
    if lunar.day not in days:
        return False
    return months is None or (lunar.month in months and not lunar.leap)


@lru_cache(maxsize=256)
def public_holidays(year: int) -> dict[date, str]:
    """Vietnam's official days off in `year`, with their Vietnamese names."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return {}
    return dict(holidays.VN(years=year, language="vi"))


def is_public_holiday(day: date) -> bool:
    return day in public_holidays(day.year)


__all__ = ["LunarDay", "PUBLIC_HOLIDAYS", "is_public_holiday", "lunar_day", "lunar_matches",
           "public_holidays"]
