"""Report figures from as-run rows written through the real log: every counting rule as a table."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import pytest

from broadcaster.asrun.log import Status
from broadcaster.errors import ReportError
from broadcaster.report import build, period_bounds
from tests.report.conftest import VN

NOW = datetime(2023, 4, 2, 8, 0, tzinfo=VN)


def report_of(schedule, first=date(2023, 3, 1), last=date(2023, 3, 31)):
    figures, rows = build(schedule, first, last, now=NOW)
    return figures, rows


def test_each_broadcast_counts_once_by_its_outcome(schedule, asrun):
    asrun.row("2023-02-28T06:00", Status.PLAYED)                       # before the campaign
    asrun.row("2023-03-01T06:00", Status.PLAYED, minutes=4)
    asrun.row("2023-03-02T06:00", Status.FAILED, minutes=0)             # failed, then aired on the retry
    asrun.row("2023-03-02T06:00", Status.PLAYED, minutes=4, started_after=6, engine="espeak-ng")
    asrun.row("2023-03-03T06:00", Status.INTERRUPTED, minutes=1)        # cut by an emergency, aired again late
    asrun.row("2023-03-03T06:00", Status.LATE, minutes=4, started_after=90)
    asrun.row("2023-03-04T06:00", Status.INTERRUPTED, minutes=2)        # cut and never aired again
    asrun.row("2023-03-05T06:00", Status.MISSED)
    asrun.row("2023-03-06T06:00", Status.FAILED, minutes=0)
    asrun.row("2023-03-06T06:00", Status.FAILED, minutes=0)
    asrun.row("2023-03-06T14:00", Status.PLAYED, kind="make-up", slot="bù cchc", bulletins=("mo-dau", "muc-dich"),
              minutes=3)
    asrun.row("2023-03-07T11:00", Status.PLAYED, slot="Thời tiết", bulletins=("thoi-tiet",))   # not the campaign's
    asrun.row("2023-03-08T09:00", Status.PLAYED, kind="manual", slot="mo-dau", bulletins=("mo-dau",), minutes=2)
    asrun.row("2023-03-08T10:00", Status.PLAYED, kind="emergency", slot="emergency", bulletins=("emergency-1",),
              minutes=1, engine="espeak-ng")
    report, rows = report_of(schedule)
    (cchc,) = report.campaigns
    assert (cchc.planned, cchc.aired, cchc.late, cchc.missed, cchc.failed, cchc.interrupted, cchc.make_ups) == \
        (8, 5, 1, 1, 1, 1, 1)
    assert cchc.planned == cchc.aired + cchc.missed + cchc.failed + cchc.interrupted
    assert cchc.minutes == pytest.approx(4 + 4 + 1 + 4 + 2 + 3 + 2)          # on-air time, cut parts included
    assert cchc.voices == pytest.approx({"gtts": 16, "espeak-ng": 4})
    assert cchc.offline_share == pytest.approx(0.2)
    assert [(e.kind, e.minutes) for e in report.emergencies] == [("emergency", 1.0)]
    assert report.rows == len(rows) == 10              # a retry or a replay is in its occurrence's one row
    assert [(r.status, r.minutes, r.attempts, r.note[:8]) for r in rows if r.scheduled.startswith("2023-03-03")] == [
        ("late", pytest.approx(5), 2, "06:01:00")]                  # cut at 06:01:00 (1 min), then 4 min late
    assert [(o.first.isoformat(), o.last.isoformat(), o.missed) for o in report.off_air] == [
        ("2023-03-05T06:00:00+07:00", "2023-03-06T06:00:00.200000+07:00", 1)]


def test_weekly_target_prorated_where_the_campaign_or_report_cuts_a_week(schedule, asrun):
    for day in (1, 2, 3, 6, 7, 13):                                   # Wed 1 March .. Mon 13 March
        asrun.row(f"2023-03-{day:02d}T06:00", Status.PLAYED)
    report, _ = report_of(schedule, last=date(2023, 3, 14))
    weeks = [(p.first.isoformat(), p.broadcasts, round(p.target, 3), p.met) for p in report.campaigns[0].periods]
    assert weeks == [("2023-03-01", 3, round(3 * 5 / 7, 3), True),     # Wed-Sun: 5 days of 7
                     ("2023-03-06", 2, 3.0, False),
                     ("2023-03-13", 1, round(3 * 2 / 7, 3), True)]     # the report ends on Tuesday
    assert report.campaigns[0].target_met is False
    assert report.to_json()["campaigns"][0]["target"] == {"broadcasts": 3, "per": "week"}


def test_json_has_the_shape_the_desk_reads(schedule, asrun):
    asrun.row("2023-03-01T06:00", Status.PLAYED)
    data = report_of(schedule)[0].to_json()
    assert list(data)[:4] == ["from", "to", "campaigns", "off_air"]
    assert (data["from"], data["to"]) == ("2023-03-01", "2023-03-31")
    assert list(data["campaigns"][0])[:13] == ["id", "title", "planned", "aired", "late", "missed", "failed",
                                              "interrupted", "make_ups", "minutes", "target", "target_met",
                                              "periods"]


def test_a_relay_that_aired_with_gaps_counts_as_aired(schedule, asrun):
    asrun.row("2023-03-01T06:00", Status.PARTIAL, minutes=30)
    asrun.row("2023-03-02T06:00", Status.LATE, minutes=5)
    (cchc,) = report_of(schedule)[0].campaigns
    assert (cchc.planned, cchc.aired, cchc.late, cchc.minutes) == (2, 2, 1, 35)


def test_a_crash_opens_an_off_air_span_until_the_station_airs_again(schedule, asrun):
    asrun.row("2023-03-01T06:00", Status.INTERRUPTED, ended=False)      # recovered after a power cut
    asrun.row("2023-03-02T06:00", Status.MISSED)
    asrun.row("2023-03-03T06:00", Status.PLAYED)
    report, _ = report_of(schedule)
    assert [(o.first.isoformat(), o.last.isoformat(), o.missed) for o in report.off_air] == [
        ("2023-03-01T06:00:00.200000+07:00", "2023-03-03T06:00:00.200000+07:00", 1)]


@pytest.mark.parametrize("text, first, last", [
    ("2023-03", date(2023, 3, 1), date(2023, 3, 31)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2023-Q1", date(2023, 1, 1), date(2023, 3, 31)),
    ("2023-q4", date(2023, 10, 1), date(2023, 12, 31)),
    ("2023", date(2023, 1, 1), date(2023, 12, 31)),
])
def test_periods(text, first, last):
    assert period_bounds(text) == (first, last)


@pytest.mark.parametrize("text", ["2023-13", "2023-Q5", "23", "March", "2023-3-1"])
def test_bad_periods(text):
    with pytest.raises(ValueError):
        period_bounds(text)


def test_unknown_campaign_is_an_error(schedule):
    with pytest.raises(ReportError, match="cchc"):
        build(schedule, date(2023, 3, 1), date(2023, 3, 31), now=NOW, campaign="khong-co")


def test_a_log_written_before_one_row_per_broadcast_still_counts_each_broadcast_once(schedule):
    """Schema 1 (read as it is): a cut programme has two rows, retries one row per try."""
    from tests.asrun.test_rows import SCHEMA_1

    path = schedule.station.state_dir / "asrun.sqlite3"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    rows = [("2023-03-02T06:00", "failed", 0, 0), ("2023-03-02T06:00", "failed", 0, 0),
            ("2023-03-02T06:00", "played", 0.2, 4), ("2023-03-03T06:00", "interrupted", 0.2, 1),
            ("2023-03-03T06:00", "late", 90, 4), ("2023-03-04T06:00", "missed", None, None)]
    for when, status, after, minutes in rows:
        scheduled = datetime.fromisoformat(when).replace(tzinfo=VN)
        started = None if after is None else scheduled + timedelta(seconds=after)
        db.execute("INSERT INTO asrun (key, kind, slot, bulletins, priority, scheduled, scheduled_utc, started, ended, "
                   "status, engine, error) VALUES (?, 'scheduled', 'Bản tin sáng', ?, 'normal', ?, ?, ?, ?, ?, "
                   "'gtts', NULL)",
                   (f"Bản tin sáng@{scheduled.isoformat()}", "mo-dau\nthoi-tiet", scheduled.isoformat(),
                    scheduled.timestamp(), started and started.isoformat(),
                    started and (started + timedelta(minutes=minutes)).isoformat(), status))
    db.commit()
    db.close()
    report, facts = report_of(schedule)
    (cchc,) = report.campaigns
    assert len(facts) == 6 and {f.attempts for f in facts} == {0, 1}
    assert (cchc.planned, cchc.aired, cchc.late, cchc.missed, cchc.failed, cchc.interrupted) == (3, 2, 1, 1, 0, 0)
    assert cchc.minutes == pytest.approx(4 + 1 + 4)
