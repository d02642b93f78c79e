"""Fixtures for schedule tests: a station folder with real files to reference."""

import textwrap
from pathlib import Path

import pytest

BASE = """\
station:
  name: Đài thử
  jingles:
    intro: audio/intro.wav
bulletins:
  tin-a:
    text: Xin chào bà con.
  tin-b:
    text_file: bulletins/b.txt
slots:
  - name: Sáng
    at: "06:00"
    play: [tin-a]
"""


@pytest.fixture
def station_dir(tmp_path: Path) -> Path:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "intro.wav").write_bytes(b"RIFF")
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "b.txt").write_text("Thông báo lịch tiêm chủng.\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def write_schedule(station_dir: Path):
    """Write YAML (dedented) as schedule.yaml in the station folder and return its path."""

    def write(text: str) -> Path:
        path = station_dir / "schedule.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
