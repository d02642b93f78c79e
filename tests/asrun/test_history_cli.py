"""`broadcaster history` through the real CLI entry point: exact JSON and CSV, station-time days."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.asrun import AsRunLog, Status, log_path
from broadcaster.cli import main
from broadcaster.output.relay import Gap, RelayReport

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = ZoneInfo("UTC")


@pytest.fixture
def station(tmp_path):
    """A schedule whose as-run log holds three days of broadcasts."""
    path = tmp_path / "schedule.yaml"
    path.write_text(textwrap.dedent("""\
        station:
          name: Đài xã Thử
          state_dir: trạng-thái
        bulletins:
          a:
            text: Thông báo.
        slots:
          - name: Bản tin sáng
            at: "06:00"
            play: [a]
        """), encoding="utf-8")
    with AsRunLog(log_path(tmp_path / "trạng-thái")) as asrun:
        day1 = datetime(2023, 1, 16, 6, 0, tzinfo=HCM)
        row = asrun.start(key="Bản tin sáng@2023-01-16T06:00:00+07:00", kind="scheduled",
                          slot="Bản tin sáng", bulletins=("a", "b"), priority="normal", scheduled=day1,
                          started=day1 + timedelta(milliseconds=4), engine="gtts")
        asrun.finish(row, ended=day1 + timedelta(minutes=3, milliseconds=250), status=Status.PLAYED)
        # Written in UTC by some other path: shown in station time all the same.
        day2 = datetime(2023, 1, 16, 23, 0, tzinfo=UTC)
        asrun.record(key="Bản tin sáng@2023-01-17T06:00:00+07:00", kind="scheduled", slot="Bản tin sáng",
                     bulletins=("a",), priority="normal", scheduled=day2, status=Status.MISSED,
                     error="Máy tắt, \"mất điện\"")
        day3 = datetime(2023, 1, 18, 9, 30, tzinfo=HCM)
        asrun.record(key="Khẩn cấp@2023-01-18T09:30:00+07:00", kind="emergency", slot="Khẩn cấp",
                     bulletins=("bao",), priority="emergency", scheduled=day3, status=Status.INTERRUPTED,
                     started=day3, ended=day3 + timedelta(seconds=20), engine="espeak-ng")
    return path


def test_json_rows(station, capsys):
    assert main(["history", "--schedule", str(station), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"id": 1, "key": "Bản tin sáng@2023-01-16T06:00:00+07:00", "kind": "scheduled",
         "slot": "Bản tin sáng", "bulletins": ["a", "b"], "priority": "normal",
         "scheduled": "2023-01-16T06:00:00.000+07:00", "started": "2023-01-16T06:00:00.004+07:00",
         "ended": "2023-01-16T06:03:00.250+07:00", "status": "played", "engine": "gtts", "error": None,
         "attempts": 1, "note": None, "pending": False},
        {"id": 2, "key": "Bản tin sáng@2023-01-17T06:00:00+07:00", "kind": "scheduled",
         "slot": "Bản tin sáng", "bulletins": ["a"], "priority": "normal",
         "scheduled": "2023-01-17T06:00:00.000+07:00", "started": None, "ended": None,
         "status": "missed", "engine": None, "error": "Máy tắt, \"mất điện\"",
         "attempts": 0, "note": None, "pending": False},
        {"id": 3, "key": "Khẩn cấp@2023-01-18T09:30:00+07:00", "kind": "emergency", "slot": "Khẩn cấp",
         "bulletins": ["bao"], "priority": "emergency", "scheduled": "2023-01-18T09:30:00.000+07:00",
         "started": "2023-01-18T09:30:00.000+07:00", "ended": "2023-01-18T09:30:20.000+07:00",
         "status": "interrupted", "engine": "espeak-ng", "error": None,
         "attempts": 1, "note": None, "pending": False},
    ]


def test_csv_is_exact_utf8_with_header(station, capsysbinary):
    assert main(["history", "--schedule", str(station), "--csv", "--from", "2023-01-17"]) == 0
    text = capsysbinary.readouterr().out.decode("utf-8")
    assert text == (
        "id,key,kind,slot,bulletins,priority,scheduled,started,ended,status,engine,error,attempts,note,pending\r\n"
        "2,Bản tin sáng@2023-01-17T06:00:00+07:00,scheduled,Bản tin sáng,a,normal,"
        "2023-01-17T06:00:00.000+07:00,,,missed,,\"Máy tắt, \"\"mất điện\"\"\",0,,\r\n"
        "3,Khẩn cấp@2023-01-18T09:30:00+07:00,emergency,Khẩn cấp,bao,emergency,"
        "2023-01-18T09:30:00.000+07:00,2023-01-18T09:30:00.000+07:00,2023-01-18T09:30:20.000+07:00,"
        "interrupted,espeak-ng,,1,,\r\n")
    assert [r["slot"] for r in csv.DictReader(io.StringIO(text))] == ["Bản tin sáng", "Khẩn cấp"]


@pytest.mark.parametrize("options, ids", [
    ([], [1, 2, 3]),
    (["--from", "2023-01-17"], [2, 3]),
    (["--to", "2023-01-16"], [1]),
    (["--from", "2023-01-17", "--to", "2023-01-17"], [2]),   # 23:00 UTC on the 16th is the 17th here
    (["--from", "2023-01-19"], []),
], ids=["all", "from", "to", "one-day", "none"])
def test_days_are_station_days(station, capsys, options, ids):
    assert main(["history", "--schedule", str(station), "--json", *options]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ids


def test_table_in_vietnamese(station, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["history", "--schedule", str(station)]) == 0
    out = capsys.readouterr().out
    for text in ("Nhật ký phát thanh", "Bản tin sáng", "16/01/2023 06:00:00", "06:00:00.004",
                 "đã phát", "bị lỡ", "bị ngắt", "Khẩn cấp"):
        assert text in out, text


def test_no_log_yet_is_empty_and_creates_nothing(tmp_path, capsys):
    path = tmp_path / "schedule.yaml"
    path.write_text("station:\n  name: X\nbulletins:\n  a:\n    text: T.\n"
                    "slots:\n  - name: S\n    at: '06:00'\n    play: [a]\n", encoding="utf-8")
    assert main(["--lang", "en", "history", "--schedule", str(path)]) == 0
    assert "nothing for this period" in capsys.readouterr().out
    assert main(["history", "--schedule", str(path), "--csv"]) == 0
    assert capsys.readouterr().out == ("id,key,kind,slot,bulletins,priority,scheduled,started,ended,status,engine,error,"
                                       "attempts,note,pending\r\n")
    assert not (tmp_path / "var").exists()


def test_json_and_csv_together_is_a_usage_error(station, capsys):
    assert main(["--lang", "en", "history", "--schedule", str(station), "--json", "--csv"]) == 2
    assert "Choose one of --json and --csv" in capsys.readouterr().err


def test_partial_relay_is_shown_with_its_gaps(station, capsys, monkeypatch, english):
    report = RelayReport(1775.5, (Gap(300.0, 24.5, "the relay source stopped sending"),), True)
    day = datetime(2023, 1, 19, 6, 0, tzinfo=HCM)
    with AsRunLog(log_path(station.parent / "trạng-thái")) as asrun:
        asrun.record(key="Tiếp sóng@2023-01-19T06:00:00+07:00", kind="scheduled", slot="Tiếp sóng",
                     bulletins=("vov1",), priority="normal", scheduled=day, status=Status(report.status),
                     started=day, ended=day + timedelta(minutes=30), engine="relay", error=report.note())
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["--lang", "en", "history", "--schedule", str(station), "--from", "2023-01-19"]) == 0
    out = capsys.readouterr().out
    assert "partial" in out and "gap of 24.5 s from second 300.0" in out
