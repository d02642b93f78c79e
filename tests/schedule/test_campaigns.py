"""`campaigns:`, `station.air_hours`, `lunar:` and `public-holidays`: every problem at its line and column."""

import dataclasses
from datetime import date, time

import pytest

from broadcaster import i18n
from broadcaster.schedule import check_schedule, load_schedule
from broadcaster.schedule.campaigns import Campaign, Target, period_of
from broadcaster.problems import WARNING
from broadcaster.schedule.snapshot import load_snapshot, save_snapshot

SCHEDULE = """\
station:
  name: Đài thử
  air_hours: ["05:00-11:00", "13:30-21:30"]
bulletins:
  tin-a:
    text: Xin chào bà con.
  tin-b:
    text: Thông báo lịch tiêm chủng.
campaigns:
  cchc:
    title: Tuyên truyền cải cách hành chính
    plan: Kế hoạch số 06/KH-UBND
    from: 2023-01-18
    until: 2023-12-31
    bulletins: [tin-a]
    target: {broadcasts: 6, per: week}
    make_up: true
slots:
  - name: Sáng
    at: "06:00"
    days: [t2, t3, t4, t5, t6, t7]
    except: [public-holidays, "2023-01-20..2023-01-26"]
    play: [tin-a]
  - name: Rằm
    at: "19:00"
    lunar: [1, 15]
    lunar_months: [1, 7]
    play: [tin-b]
"""


def problems_of(text, write_schedule):
    schedule, problems = check_schedule(write_schedule(text))
    return schedule, [(p.line, p.column, p.key) for p in problems]


def test_everything_valid_reads_into_the_model(write_schedule):
    schedule, problems = problems_of(SCHEDULE, write_schedule)
    assert problems == []
    assert schedule.station.air_hours == ((time(5), time(11)), (time(13, 30), time(21, 30)))
    assert schedule.campaigns == {"cchc": Campaign(
        id="cchc", title="Tuyên truyền cải cách hành chính", bulletins=("tin-a",), plan="Kế hoạch số 06/KH-UBND",
        start=date(2023, 1, 18), until=date(2023, 12, 31), target=Target(6, "broadcasts", "week"), make_up=True,
        location=schedule.campaigns["cchc"].location)}
    morning, full_moon = schedule.slots
    assert morning.except_holidays and not morning.airs_on(date(2023, 5, 1)) and morning.airs_on(date(2023, 5, 4))
    assert full_moon.lunar == {1, 15} and full_moon.lunar_months == {1, 7} and full_moon.days is None
    assert full_moon.airs_on(date(2023, 2, 5)) and not full_moon.airs_on(date(2023, 3, 6))


def test_v1_file_without_campaigns_stays_valid(write_schedule):
    text = SCHEDULE.split("campaigns:")[0].replace('  air_hours: ["05:00-11:00", "13:30-21:30"]\n', "") + \
        'slots:\n  - name: Sáng\n    at: "06:00"\n    play: [tin-a]\n'
    schedule, problems = problems_of(text, write_schedule)
    assert problems == [] and schedule.campaigns == {} and schedule.station.air_hours == ()


CASES = [
    ("air-hours-reversed", ("05:00-11:00", "11:00-05:00"), [(3, 15, "air_hours.invalid")]),
    ("air-hours-garbage", ('["05:00-11:00", "13:30-21:30"]', "sáng sớm"), [(3, 14, "air_hours.invalid")]),
    ("air-hours-impossible", ("21:30", "25:30"), [(3, 30, "air_hours.invalid")]),
    ("unknown-campaign-key", ("    make_up: true", "    make_up: true\n    targett: 3"), [(18, 5, "key.unknown")]),
    ("campaign-unknown-bulletin", ("bulletins: [tin-a]", "bulletins: [tin-a, tin-c]"),
     [(15, 24, "campaign.unknown_bulletin")]),
    ("campaign-no-bulletins", ("bulletins: [tin-a]", "bulletins: []"), [(15, 16, "campaign.no_bulletins")]),
    ("campaign-until-before-from", ("until: 2023-12-31", "until: 2023-01-01"), [(14, 12, "window.reversed")]),
    ("campaign-bad-date", ("from: 2023-01-18", "from: 18/01/2023"), [(13, 11, "date.invalid")]),
    ("target-two-units", ("{broadcasts: 6, per: week}", "{broadcasts: 6, minutes: 30, per: week}"),
     [(16, 13, "campaign.target_unit")]),
    ("target-no-unit", ("{broadcasts: 6, per: week}", "{per: week}"), [(16, 13, "campaign.target_unit")]),
    ("target-bad-period", ("per: week", "per: fortnight"), [(16, 34, "choice.invalid")]),
    ("target-no-period", ("{broadcasts: 6, per: week}", "{broadcasts: 6}"), [(16, 13, "key.missing")]),
    ("target-zero", ("broadcasts: 6", "broadcasts: 0"), [(16, 26, "number.range")]),
    ("make-up-not-bool", ("make_up: true", "make_up: có"), [(17, 14, "type.bool")]),
    ("make-up-without-target", ("    target: {broadcasts: 6, per: week}\n", ""), [(16, 14, "campaign.make_up_target")]),
    ("make-up-without-air-hours", ('  air_hours: ["05:00-11:00", "13:30-21:30"]\n', ""),
     [(16, 14, "campaign.make_up_air_hours")]),
    ("lunar-day-31", ("lunar: [1, 15]", "lunar: [1, 31]"), [(26, 16, "number.range")]),
    ("lunar-month-13", ("lunar_months: [1, 7]", "lunar_months: [1, 13]"), [(27, 23, "number.range")]),
    ("lunar-and-days", ("    lunar: [1, 15]", "    lunar: [1, 15]\n    days: [cn]"), [(27, 5, "slot.lunar_and_days")]),
    ("lunar-months-alone", ("    lunar: [1, 15]\n", ""), [(26, 5, "slot.lunar_months_alone")]),
    ("lunar-empty", ("lunar: [1, 15]", "lunar: []"), [(26, 12, "slot.empty_lunar")]),
    ("lunar-not-a-number", ("lunar: [1, 15]", "lunar: [1, rằm]"), [(26, 16, "type.integer")]),
    ("unreachable-broadcasts", ("broadcasts: 6", "broadcasts: 10"), [(16, 13, "campaign.unreachable")]),
    ("unreachable-minutes", ("{broadcasts: 6, per: week}", "{minutes: 90, per: month}"),
     [(16, 13, "campaign.unreachable")]),
]


@pytest.mark.parametrize("name, change, expected", CASES, ids=[c[0] for c in CASES])
def test_problem_is_reported_at_its_place(name, change, expected, write_schedule):
    _, problems = problems_of(SCHEDULE.replace(*change), write_schedule)
    assert problems == expected


def test_campaign_no_slot_plays_is_a_warning(write_schedule):
    text = SCHEDULE.replace("bulletins: [tin-a]", "bulletins: [tin-b]").replace("from: 2023-01-18", "from: 2023-02-06") \
        .replace("until: 2023-12-31", "until: 2023-02-18").replace("broadcasts: 6", "broadcasts: 1")
    schedule, problems = problems_of(text, write_schedule)
    assert schedule is not None and problems == [(10, 3, "campaign.never_played")]


def test_unreachable_target_message_names_the_numbers(write_schedule):
    path = write_schedule(SCHEDULE.replace("broadcasts: 6", "broadcasts: 10"))
    schedule, problems = check_schedule(path)
    assert schedule is not None and problems[0].severity == WARNING
    i18n.set_language("vi")
    assert problems[0].format() == (f"{path}:16:13: cảnh báo: chiến dịch 'cchc' cần 10 buổi mỗi tuần "
                                    "nhưng các khung giờ của nó chỉ cho nhiều nhất 6")
    i18n.set_language("en")
    try:
        assert problems[0].format() == (f"{path}:16:13: warning: campaign 'cchc' needs 10 broadcasts a week "
                                        "but its slots give at most 6")
    finally:
        i18n.set_language(None)


def test_all_problems_at_once(write_schedule):
    text = SCHEDULE.replace("lunar: [1, 15]", "lunar: [0]").replace("per: week", "per: day") \
        .replace('"13:30-21:30"', '"13:30"')
    _, problems = problems_of(text, write_schedule)
    assert problems == [(3, 30, "air_hours.invalid"), (16, 34, "choice.invalid"), (26, 13, "number.range")]


def test_snapshot_keeps_campaigns_lunar_and_holidays(write_schedule):
    schedule = load_schedule(write_schedule(SCHEDULE))
    save_snapshot(schedule)
    assert load_snapshot(schedule.path) == dataclasses.replace(schedule, warnings=())


@pytest.mark.parametrize("day, per, expected", [
    (date(2023, 3, 15), "week", (date(2023, 3, 13), date(2023, 3, 20))),
    (date(2023, 3, 15), "month", (date(2023, 3, 1), date(2023, 4, 1))),
    (date(2023, 12, 31), "month", (date(2023, 12, 1), date(2024, 1, 1))),
    (date(2023, 11, 2), "quarter", (date(2023, 10, 1), date(2024, 1, 1))),
    (date(2023, 5, 2), "quarter", (date(2023, 4, 1), date(2023, 7, 1))),
    (date(2023, 5, 2), "year", (date(2023, 1, 1), date(2024, 1, 1))),
])
def test_periods(day, per, expected):
    assert period_of(day, per) == expected
