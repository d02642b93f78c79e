"""Fixtures of the health tests: a station folder, a small filesystem to fill or freeze, a
`timedatectl` that prints captured output, and Google's endpoint faked at the HTTP transport."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
import yaml

from broadcaster.cli import main
from tests.filesystems import SmallDisk
from tests.speech.conftest import GOOGLE_URL, FakeGoogle, mp3_bytes  # noqa: F401  (mp3_bytes: a fixture)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DATA = Path(__file__).parent / "data"
GOOGLE_HOST = "https://translate.google.com/"


class Station:
    """A schedule.yaml with one slot and a short state folder (the control socket path is limited)."""

    def __init__(self, folder: Path, state: Path) -> None:
        self.folder = folder
        self.state = state
        self.path = folder / "schedule.yaml"

    def write(self, *, at: str | None = None, text: str = "Xin chào bà con.", output: str | None = None,
              engines: tuple[str, ...] = ("espeak-ng",), **station) -> Path:
        # Three hours ahead: well before its pre-render, so `next` is ok at any time of day.
        at = at or (datetime.now(TZ) + timedelta(hours=3)).strftime("%H:%M")
        document = {
            "station": {"name": "Đài thử", "state_dir": str(self.state),
                        "output": output or f"file:{self.folder / 'aired'}",
                        "speech": {"engines": list(engines), "gtts_retries": 0}, **station},
            "bulletins": {"chao": {"text": text}},
            "slots": [{"name": "Chiều", "at": at, "play": ["chao"]}],
        }
        self.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return self.path

    def status(self, capsys, *extra: str) -> tuple[int, dict]:
        """`broadcaster --lang en status --json` in this process: (exit code, report)."""
        capsys.readouterr()
        code = main(["--lang", "en", "status", "--json", "--schedule", str(self.path), *extra])
        out = capsys.readouterr().out
        return code, json.loads(out)


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    state = Path(tempfile.mkdtemp(prefix="bch-", dir="/tmp"))
    yield Station(tmp_path, state)
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def timedatectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`use(name)`: a `timedatectl` on PATH printing tests/health/data/timedatectl-<name>.txt
    (what `timedatectl show` printed on real machines), read by the station's real parser."""
    from broadcaster.health import clock

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(clock, "SYNCED_SINCE_BOOT", tmp_path / "timesync-synchronized")

    def use(name: str) -> None:
        script = bin_dir / "timedatectl"
        script.write_text(f"#!/bin/sh\n[ \"$1\" = show ] || exit 1\nexec cat {DATA / f'timedatectl-{name}.txt'}\n")
        script.chmod(0o755)

    use("synced")
    return use


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 4 MB tmpfs (room for a small station's day) to fill or remount read-only; unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = SmallDisk(tmp_path / "disk", size="4m")
    disk.mount()
    try:
        yield disk
    finally:
        disk.unmount()


@pytest.fixture
def google(mp3_bytes) -> Iterator[FakeGoogle]:  # noqa: F811
    """Google reachable: its host answers and its TTS endpoint speaks."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.HEAD, GOOGLE_HOST, status=200)
        yield FakeGoogle(mock, mp3_bytes)


@pytest.fixture
def offline() -> Iterator[FakeGoogle]:
    """No network: every request to Google fails to connect, as when DNS fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.HEAD, GOOGLE_HOST, body=requests.exceptions.ConnectionError("Name or service not known"))
        fake = FakeGoogle(mock, b"")
        fake.default = requests.exceptions.ConnectionError("Name or service not known")
        yield fake


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def metric(report: dict, name: str, asrun=None, **labels: str) -> float:
    """One sample of the report's Prometheus exposition, read back by prometheus_client's strict parser."""
    from prometheus_client.parser import text_string_to_metric_families

    from broadcaster.health.metrics import exposition

    for family in text_string_to_metric_families(exposition(report, asrun)):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"no sample {name}{labels}")


__all__ = ["GOOGLE_URL", "Station", "at", "check", "metric"]
