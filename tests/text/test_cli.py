"""`broadcaster normalize`: through `main()` as the console script runs it, and once as a process."""

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from broadcaster.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return feed


def test_stdin_by_default_one_line_out_per_line_in(stdin, capsys):
    stdin("UBND xã thông báo\n\nHọp lúc 7h30 ngày 5/9\n")
    assert main(["normalize"]) == 0
    assert capsys.readouterr().out == (
        "ủy ban nhân dân xã thông báo\n\nHọp lúc bảy giờ ba mươi phút ngày mồng năm tháng chín\n")


def test_dash_means_stdin(stdin, capsys):
    stdin("Đạt 95%")
    assert main(["normalize", "-"]) == 0
    assert capsys.readouterr().out == "Đạt chín mươi lăm phần trăm\n"


def test_file_argument(tmp_path, capsys):
    path = tmp_path / "tin.txt"
    path.write_text("\ufeffKế hoạch số 06/KH-UBND\nLưu: VT.\n", encoding="utf-8")
    assert main(["normalize", str(path)]) == 0
    assert capsys.readouterr().out == "Kế hoạch số không sáu trên kế hoạch gạch ủy ban nhân dân\nLưu: văn thư.\n"


def test_check_lists_findings_and_exits_1(tmp_path, capsys):
    path = tmp_path / "tin.txt"
    path.write_text("UBND xã\nGặp XYZQ lúc 7h\n", encoding="utf-8")
    assert main(["normalize", "--check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{path}:2:5: XYZQ — chữ viết tắt chưa biết")


def test_check_exits_0_on_clean_text(stdin, capsys):
    stdin("UBND xã họp lúc 7h30.\n")
    assert main(["normalize", "--check"]) == 0
    assert capsys.readouterr().out == ""


def test_missing_file_is_one_error_line(tmp_path, capsys):
    assert main(["--lang", "en", "normalize", str(tmp_path / "none.txt")]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"broadcaster: text file not found: {tmp_path / 'none.txt'}\n"
    assert "Traceback" not in captured.err


def test_dictionary_option(tmp_path, stdin, capsys):
    dictionary = tmp_path / "doc-ten.yaml"
    dictionary.write_text("VQ: Vinh Quang\nXYZQ: ích dét\n", encoding="utf-8")
    stdin("UBND xã VQ, XYZQ\n")
    assert main(["normalize", "--dictionary", str(dictionary)]) == 0
    assert capsys.readouterr().out == "ủy ban nhân dân xã Vinh Quang, ích dét\n"


def test_bad_dictionary_prints_every_problem(tmp_path, stdin, capsys):
    dictionary = tmp_path / "doc-ten.yaml"
    dictionary.write_text("VQ: Vinh Quang\nVQ: lần hai\nTL:\n", encoding="utf-8")
    stdin("VQ\n")
    assert main(["--lang", "en", "normalize", "--dictionary", str(dictionary)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{dictionary}:2:1: error: 'VQ' is listed twice (first at line 1)",
        f"{dictionary}:3:1: error: the reading of 'TL' is empty",
    ]


@pytest.mark.parametrize("bulletin", [
    "text: UBND xã VQ thông báo.",
    "text_file: chua-viet.txt",     # a bulletin being fixed elsewhere does not stop a reading check
], ids=["station-pronunciations", "reads-only-the-station"])
def test_schedule_option_uses_station_pronunciations(tmp_path, stdin, capsys, bulletin):
    (tmp_path / "doc-ten.yaml").write_text("VQ: Vinh Quang\n", encoding="utf-8")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(textwrap.dedent(f"""\
        station:
          name: Đài xã Vinh Quang
          pronunciations: doc-ten.yaml
        bulletins:
          tin-a:
            {bulletin}
        slots:
          - name: Sáng
            at: "06:00"
            play: [tin-a]
        """), encoding="utf-8")
    stdin("Xã VQ\n")
    assert main(["normalize", "--schedule", str(schedule)]) == 0
    assert capsys.readouterr().out == "Xã Vinh Quang\n"


def test_as_a_process():
    result = subprocess.run(
        [sys.executable, "-m", "broadcaster", "normalize"], input="Tổng 1.250.000 đồng/người\n",
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Tổng một triệu hai trăm năm mươi nghìn đồng trên người\n"
