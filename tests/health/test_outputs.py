"""Output checks against real PulseAudio servers: a sound card that works, vanishes and comes back."""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np
import sounddevice

from broadcaster.health import Monitor, State, StateTracker
from broadcaster.health.checks import check_output, load_for_status, output_kind
from tests.health.conftest import TZ, check, metric


def test_output_kinds():
    assert [output_kind(s) for s in ("default", "3", "USB Audio", "file:/srv/aired",
                                     "icecast://source@127.0.0.1:8000/a.mp3")] == [
        "device", "device", "device", "file", "icecast"]


def test_probe_is_silent(pulse_clean, english):
    result = check_output("default", None)
    assert result.state is State.OK, result
    assert pulse_clean.wait_for_samples(960, timeout=5)     # the probe reached the sink
    captured = pulse_clean.captured()
    assert np.count_nonzero(captured) == 0              # nothing to hear on air


def test_sound_card_disappears_and_comes_back(spare_pulse, station, timedatectl, capsys, caplog, english):
    station.write(output="default")
    schedule, source = load_for_status(station.path)
    clock = lambda: datetime.now(TZ)  # noqa: E731
    watcher = Monitor(schedule, source, outputs=["default"], clock=clock,
                      tracker=StateTracker(clock, logger=logging.getLogger("watcher")))
    caplog.set_level(logging.INFO, logger="watcher")
    assert [s.state for s in watcher.check_outputs()] == [State.OK]
    code, report = station.status(capsys)
    assert (code, check(report, "output:default")["state"]) == (0, "ok"), report

    sounddevice._terminate()            # let go of the server, as the fixture does, so it can stop
    spare_pulse.stop()
    sounddevice._initialize()
    for _ in range(3):
        assert [s.state for s in watcher.check_outputs()] == [State.FAILING]
    code, report = station.status(capsys)
    output = check(report, "output:default")
    assert (code, output["state"]) == (2, "failing")
    assert output["message"].startswith("Output default cannot play: Sound device 'default' not found")
    assert "broadcaster devices" in output["message"]
    assert metric(report, "broadcaster_check_state", check="output:default") == 2

    spare_pulse.start()
    assert [s.state for s in watcher.check_outputs()] == [State.OK]
    code, report = station.status(capsys)
    assert (code, check(report, "output:default")["state"]) == (0, "ok")
    lines = [r.getMessage() for r in caplog.records if r.name == "watcher"]
    assert lines == ["health: output:default ok -> failing: " + output["message"],
                     "health: output:default failing -> ok: Output default opens and takes audio."]


def test_unwritable_file_output(small_disk, english):
    small_disk.read_only()
    result = check_output(f"file:{small_disk.path}/aired", None)
    assert result.name == f"output:file:{small_disk.path}/aired" and result.state is State.FAILING
    assert "Read-only file system" in result.message


def test_icecast_server_down_names_the_fix(english):
    import socket

    with socket.socket() as probe:                       # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = check_output(f"icecast://source@127.0.0.1:{port}/xa.mp3", None)
    assert result.state is State.FAILING and result.name == f"output:icecast://source@127.0.0.1:{port}/xa.mp3"
    assert f"the Icecast server 127.0.0.1:{port} does not answer: start icecast2" in result.message
    assert "sudo systemctl start icecast2" in result.message


def test_icecast_server_goes_away_and_comes_back(english):
    from tests.icecast import IcecastServer

    server = IcecastServer()
    try:
        server.start()
        spec = server.source_url("thon-dong.mp3")
        assert check_output(spec, None).state is State.OK
        server.stop()
        down = check_output(spec, None)
        assert down.state is State.FAILING and f"127.0.0.1:{server.port} does not answer" in down.message
        server.start()
        assert check_output(spec, None).state is State.OK
    finally:
        server.close()
