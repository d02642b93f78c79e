"""`validate` and `agenda` through the real CLI entry point."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from broadcaster.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SCHEDULE = """\
station:
  name: Đài thử
bulletins:
  a:
    text: Thông báo.
slots:
  - name: Sáng
    at: ["06:00", "17:30:05"]
    days: [t2, cn]
    from: 2023-01-16
    except: ["2023-01-22..2023-01-23"]
    play: [a]
  - name: Một lần
    dates: [2023-01-18]
    at: "09:00"
    play: [a]
"""


def test_validate_ok(tmp_path, capsys):
    assert main(["validate", "--schedule", str(write(tmp_path, SCHEDULE))]) == 0
    assert "2 khung giờ" in capsys.readouterr().out


def test_validate_reports_problems_exit_1_no_traceback(tmp_path, capsys):
    path = write(tmp_path, SCHEDULE.replace("[t2, cn]", "[t2, cm]").replace("09:00", "9:60"))
    assert main(["--lang", "en", "validate", "--schedule", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{path}:9:16: error: unknown weekday 'cm': use mon tue wed thu fri sat sun or t2 t3 t4 t5 t6 t7 cn",
        f"{path}:15:9: error: invalid time '9:60': write HH:MM or HH:MM:SS, from 00:00 to 23:59:59",
    ]
    assert "Traceback" not in err


def test_agenda_json(tmp_path, capsys):
    path = write(tmp_path, SCHEDULE)
    assert main(["agenda", "--schedule", str(path), "--from", "2023-01-16", "--days", "8", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [(i["start"], i["slot"]) for i in items] == [
        ("2023-01-16T06:00:00+07:00", "Sáng"),
        ("2023-01-16T17:30:05+07:00", "Sáng"),
        ("2023-01-18T09:00:00+07:00", "Một lần"),
    ]
    assert items[0]["bulletins"] == ["a"]


def test_agenda_table_uses_vietnamese_day_names(tmp_path, capsys):
    path = write(tmp_path, SCHEDULE)
    assert main(["agenda", "--schedule", str(path), "--from", "2023-01-16", "--days", "3"]) == 0
    out = capsys.readouterr().out
    assert "Thứ Hai 16/01/2023" in out and "Thứ Tư 18/01/2023" in out and "17:30:05" in out


def test_agenda_of_a_broken_schedule_fails_cleanly(tmp_path, capsys):
    path = write(tmp_path, "station: [\n")
    assert main(["agenda", "--schedule", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"{path}:2:1: lỗi: lỗi cú pháp YAML")


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "broadcaster", "validate"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "schedule.yaml" in result.stdout
