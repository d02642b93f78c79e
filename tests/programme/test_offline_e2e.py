"""Offline end to end: schedule.yaml -> real speaker (eSpeak NG) -> programme -> `render` CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from broadcaster.cli import main
from broadcaster.programme import ProgrammeBuilder, measure
from broadcaster.schedule import load_schedule
from broadcaster.speech import speaker_for
from tests.programme.conftest import JINGLES, read_wav, runs

SCHEDULE = """\
station:
  name: Đài truyền thanh xã Thử Nghiệm
  timezone: Asia/Ho_Chi_Minh
  loudness: -16
  voicing: horn
  jingles:
    intro: jingles/intro.wav
    outro: jingles/outro.wav
    alert: jingles/alert.wav
  speech:
    engines: [espeak-ng]

bulletins:
  tiem-phong:
    title: Tiêm phòng gia súc
    text: Ủy ban nhân dân xã thông báo lịch tiêm phòng cho đàn gia súc vào sáng thứ bảy.
    repeat: 2
  mat-dien:
    title: Lịch cắt điện
    text: Chiều nay mất điện từ hai giờ đến bốn giờ chiều để sửa đường dây.
    intro: none

slots:
  - name: Bản tin sáng
    at: "06:30"
    days: [t2, t3, t4, t5, t6, t7, cn]
    play: [tiem-phong, mat-dien]
  - name: Bản tin chiều
    at: "17:00"
    days: [t7]
    play: [mat-dien]
"""


@pytest.fixture
def station(tmp_path) -> Path:
    (tmp_path / "jingles").mkdir()
    for name, path in JINGLES.items():
        shutil.copy(path, tmp_path / "jingles" / path.name)
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(SCHEDULE, encoding="utf-8")
    return schedule


def test_real_espeak_programme_is_listenable(station, tmp_path):
    schedule = load_schedule(station)
    builder = ProgrammeBuilder(schedule, speaker_for(schedule))
    programme = builder.render_slot(schedule.slot("Bản tin sáng"), tmp_path / "sang.wav")

    assert programme.engines == ("espeak-ng",)
    metered = measure(programme.path)
    assert abs(metered.integrated + 16) <= 1.0 and metered.true_peak < -1.0
    samples, params = read_wav(programme.path)
    assert (params.framerate, params.nchannels, params.sampwidth) == (48_000, 1, 2)
    # intro, reading, "Xin nhắc lại", reading, outro, then the second bulletin (no intro), outro.
    # eSpeak pauses inside sentences, so count stretches split only by the programme's pauses.
    assert len(runs(samples, min_gap=0.55)) == 7
    assert 20 < programme.duration < 60
    assert programme.duration == pytest.approx(params.nframes / 48_000)
    assert abs(samples).max() < 0.9                     # nothing near clipping


def test_render_cli_bulletin_slot_and_day(station, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--lang", "en", "render", "mat-dien", "--schedule", str(station),
                 "--out", str(out / "one.wav")]) == 0
    line = capsys.readouterr().out
    assert "one.wav" in line and "LUFS" in line and "espeak-ng" in line
    assert abs(measure(out / "one.wav").integrated + 16) <= 1.0

    assert main(["render", "Bản tin chiều", "--schedule", str(station),
                 "--out", str(out / "slot.wav")]) == 0
    assert "giọng espeak-ng" in capsys.readouterr().out

    # 2024-06-01 is a Saturday: both slots air.
    assert main(["--lang", "en", "render", "--date", "2024-06-01", "--schedule", str(station),
                 "--out", str(out / "day")]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in (out / "day").iterdir()) == [
        "063000-ban-tin-sang.wav", "170000-ban-tin-chieu.wav"]
    assert printed.count("LUFS") == 2


@pytest.mark.parametrize("args, message", [
    (["render", "khong-co"], "khong-co"),
    (["render", "--date", "2024-13-01"], "2024-13-01"),
    (["render", "mat-dien", "--date", "2024-06-01"], "--date"),
], ids=["unknown-name", "bad-date", "both"])
def test_render_cli_errors_are_one_line_and_exit_1(station, tmp_path, capsys, args, message):
    assert main(["--lang", "en", *args, "--schedule", str(station), "--out", str(tmp_path / "x.wav")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
