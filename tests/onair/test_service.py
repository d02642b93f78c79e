"""The systemd unit that starts the daemon at boot: the settings the brief requires, and systemd accepts it."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "scripts" / "broadcaster.service"


def test_unit_restarts_always_and_stops_by_sigterm():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(UNIT, encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM" and service["TimeoutStopSec"] == "5"
    assert service["ExecStart"].endswith(".venv/bin/broadcaster run --schedule /opt/broadcaster/schedule.yaml")
    assert service["ExecStart"].startswith(service["WorkingDirectory"])
    assert {"sound.target", "network-online.target"} <= set(unit["Unit"]["After"].split())


def test_systemd_accepts_the_unit(tmp_path):
    root = Path(__file__).resolve().parents[2]
    unit = tmp_path / "broadcaster.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/broadcaster", str(root)), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
