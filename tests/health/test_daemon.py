"""Health in the running daemon, against real time: the start-up line, `status` through the
control socket, the as-run note of a broadcast that aired while a check was failing, /metrics."""

from __future__ import annotations

import json
import logging
import urllib.request

import pytest
import sounddevice
from prometheus_client.parser import text_string_to_metric_families

from broadcaster.asrun.log import Status
from broadcaster.cli import main
from tests.health.conftest import check
from tests.helpers import free_port, wait_for
from tests.onair.conftest import StationFolder, clock_in, run_station  # noqa: F401  (run_station: a fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def folder(tmp_path, station) -> StationFolder:
    return StationFolder(tmp_path, station.state)


def status(folder: StationFolder, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["--lang", "en", "status", "--json", "--schedule", str(folder.path)])
    return code, json.loads(capsys.readouterr().out)


def test_no_sound_card_is_said_first_and_status_asks_the_daemon(spare_pulse, folder, run_station, timedatectl,
                                                                capsys, caplog, english):
    folder.write({"chao": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": "05:00", "play": ["chao"]}],
                 output="default", speech={"engines": ["espeak-ng"]})
    sounddevice._terminate()
    spare_pulse.stop()                                      # no sound server, so no sound device
    sounddevice._initialize()
    caplog.set_level(logging.INFO)
    run_station(folder.load())
    lines = [r.getMessage() for r in caplog.records
             if r.name in ("broadcaster.health.base", "broadcaster.onair.daemon")]
    assert lines[0].startswith("health: output:default failing: Output default cannot play: Sound device 'default'")
    assert "broadcaster devices" in lines[0]
    assert lines[1].startswith("station Đài thử on air with output default")
    code, report = status(folder, capsys)
    assert code == 2 and report["state"] == "failing"
    assert {"current", "queue", "state", "checks", "on_air", "next", "schedule_version"} <= set(report)
    assert check(report, "output:default")["state"] == "failing"
    assert report["on_air"] is None and report["next"]["slot"] == "Sang"
    assert len(report["schedule_version"]) == 64


def test_a_broadcast_airing_while_a_check_fails_says_which(folder, run_station, timedatectl, capsys, caplog, english):
    port = free_port()
    timedatectl("unsynced")                                 # never synchronised since boot: failing
    folder.write({"chao": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(3), "play": ["chao"]}],
                 speech={"engines": ["espeak-ng"]}, metrics={"listen": f"127.0.0.1:{port}"})
    caplog.set_level(logging.INFO, logger="broadcaster.health.base")
    station = run_station(folder.load())
    row = wait_for(lambda: next((r for r in station.asrun.history() if r.status in (Status.PLAYED, Status.LATE)),
                                None), timeout=20)
    assert row.error == "Aired while failing: clock."
    code, report = status(folder, capsys)
    assert code == 2 and check(report, "clock")["state"] == "failing"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("broadcaster_check_state", (("check", "clock"),))] == 2
    assert samples[("broadcaster_broadcasts", (("status", "played"),))] == 1
    assert samples[("broadcaster_recent_airings", ())] == 1
    assert abs(samples[("broadcaster_recent_start_error_seconds", (("stat", "last"),))]) < 1.0
    assert samples[("broadcaster_render_seconds_count", ())] >= 1
    assert samples[("broadcaster_voice_fallbacks_total", ())] == 0
    clock_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("health: clock")]
    assert len(clock_lines) == 1 and "never been synchronised since boot" in clock_lines[0]
