"""`agenda` shows the lunar date beside the solar one, from the root schedule's full-moon slot."""

import json
from pathlib import Path

from broadcaster.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_agenda_table_has_the_lunar_date(capsys):
    assert main(["agenda", "--schedule", str(ROOT / "schedule.yaml"), "--from", "2023-02-05", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "Chủ Nhật 05/02/2023" in out and "rằm tháng Giêng" in out and "Tuyên truyền ngày rằm" in out


def test_agenda_json_in_english_has_the_lunar_date(capsys):
    assert main(["--lang", "en", "agenda", "--schedule", str(ROOT / "schedule.yaml"), "--from", "2024-01-11",
                 "--days", "1", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [(i["start"], i["slot"], i["lunar"]) for i in items][-1] == (
        "2024-01-11T19:00:00+07:00", "Tuyên truyền ngày rằm", "lunar 1/12")


def test_full_moon_slot_skips_public_holidays(capsys):
    # Tết 2024 (10 February, a Saturday) is mùng một and a public holiday: the weekday slots air, it does not.
    assert main(["agenda", "--schedule", str(ROOT / "schedule.yaml"), "--from", "2024-02-10", "--days", "1",
                 "--json"]) == 0
    assert [i["slot"] for i in json.loads(capsys.readouterr().out)] == ["Bản tin sáng", "Bản tin chiều"]
    assert main(["agenda", "--schedule", str(ROOT / "schedule.yaml"), "--from", "2024-02-24", "--days", "1",
                 "--json"]) == 0
    assert [i["slot"] for i in json.loads(capsys.readouterr().out)][-1] == "Tuyên truyền ngày rằm"   # rằm
