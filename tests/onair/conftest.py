"""Fixtures for on-air tests: a station folder with a real schedule.yaml, a short state folder
(Unix socket paths are limited to 107 bytes), and a running daemon torn down after each test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from broadcaster.onair.daemon import Station
from broadcaster.schedule import load_schedule
from tests.helpers import wait_for  # noqa: F401  (the on-air tests import it from here)
from tests.onair.tones import tone_renderer

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def clock_in(seconds: float) -> str:
    """The station-time "HH:MM:SS" `seconds` from now (rounded up to the next whole second)."""
    moment = datetime.now(TZ) + timedelta(seconds=seconds)
    return (moment.replace(microsecond=0) + timedelta(seconds=1)).strftime("%H:%M:%S")


@pytest.fixture
def state_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bc-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class StationFolder:
    """Writes schedule.yaml for a test station (tone bulletins, file output) and loads it."""

    def __init__(self, folder: Path, state: Path) -> None:
        self.folder = folder
        self.state = state
        self.aired = folder / "aired"
        self.path = folder / "schedule.yaml"

    def write(self, bulletins: dict[str, dict], slots: list[dict], **station) -> Path:
        document = {
            "station": {"name": "Đài thử", "timezone": "Asia/Ho_Chi_Minh", "state_dir": str(self.state),
                        "output": f"file:{self.aired}", "desk": False, **station},
            "bulletins": bulletins,
            "slots": slots,
        }
        self.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return self.path

    def load(self):
        return load_schedule(self.path)

    def aired_files(self) -> list[Path]:
        return sorted(self.aired.glob("*.wav"), key=lambda p: p.stat().st_mtime_ns) if self.aired.exists() else []


@pytest.fixture
def folder(tmp_path: Path, state_dir: Path) -> StationFolder:
    return StationFolder(tmp_path, state_dir)


@pytest.fixture
def run_station() -> Iterator[Callable[..., Station]]:
    """Start a `Station` (tone renderer, quick retries) and stop it after the test."""
    started: list[Station] = []

    def start(schedule, **options) -> Station:
        options = {"renderer": tone_renderer, "device_retry_delay": 0.3, "reload_interval": 0.2,
                   "render_retry_delay": timedelta(seconds=0.5), **options}
        station = Station(schedule, **options)
        started.append(station)
        station.start()
        return station

    yield start
    for station in started:
        station.stop()
