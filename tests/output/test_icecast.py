"""The Icecast sink against a real icecast2 on loopback, heard by real HTTP listeners."""

from __future__ import annotations

import json
import logging
import textwrap
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from broadcaster.cli import main
from broadcaster.output.icecast import IcecastSink, listeners, routed_sinks, station_sinks
from broadcaster.schedule.model import Station, StreamSettings
from broadcaster.schedule.outputs import parse_icecast
from tests.icecast import RATE, IcecastServer, Listener

BLOCK = 0.1
STREAM = StreamSettings("mp3", 64)


def sink_for(server: IcecastServer, mount: str, **kwargs) -> IcecastSink:
    return IcecastSink(parse_icecast(server.source_url(mount)), server.password, STREAM,
                       backoff=(0.3, 0.6), **kwargs).start()


def tone(seconds: float, hertz: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hertz * t)).astype(np.float32)


def air(sinks: dict[IcecastSink, list[tuple[np.ndarray, str | None]]], on_block=None) -> float:
    """Feed each sink its parts in real-time 0.1 s blocks, like the playout clock; returns the start time.

    Every sink gets a block at the same moment; `on_block(seconds)` runs between blocks.
    """
    step = int(BLOCK * RATE)
    streams = {sink: [(audio[i:i + step], label) for audio, label in parts for i in range(0, len(audio), step)]
               for sink, parts in sinks.items()}
    count = max(len(blocks) for blocks in streams.values())
    start = time.time()
    for index in range(count):
        for sink, blocks in streams.items():
            if index < len(blocks):
                block, label = blocks[index]
                sink.write(block, time.time(), label=label)
        if on_block is not None:
            on_block(index * BLOCK)
        time.sleep(max(0.0, start + (index + 1) * BLOCK - time.time()))
    return start


def test_zone_mount_carries_its_programme_at_its_second(icecast):
    zone_a, zone_b = sink_for(icecast, "thon-dong.mp3"), sink_for(icecast, "thon-tay.mp3")
    try:
        assert icecast.wait_for_mounts("/thon-dong.mp3", "/thon-tay.mp3")
        ears_a = [Listener(f"{icecast.base}/thon-dong.mp3", 4.5).start() for _ in range(2)]
        ear_b = Listener(f"{icecast.base}/thon-tay.mp3", 4.5).start()
        time.sleep(0.5)
        silence = np.zeros(int(1.0 * RATE), dtype=np.float32)
        start = air({zone_a: [(silence, None), (tone(2.0, 660), "sang"), (silence, None)],
                     zone_b: [(silence, None), (silence * 0, None), (silence, None)]})
        for ear in [*ears_a, ear_b]:
            ear.stop()
        heard = [ear.heard(660) for ear in ears_a]
        assert all(h is not None for h in heard)
        # Written at start + 1 s; a listener hears it within Icecast's delivery (burst off).
        assert all(0.9 < h - start < 1.6 for h in heard), [h - start for h in heard]
        assert max(heard) - min(heard) <= 0.1
        assert ear_b.onset(660) is None and len(ear_b.samples()) > 2 * RATE
        assert zone_a.take_missed("sang") == []
        assert zone_a.state().connected and zone_a.state().outages == 0
    finally:
        zone_a.close()
        zone_b.close()


def test_opus_mount_carries_the_programme(icecast):
    sink = IcecastSink(parse_icecast(icecast.source_url("xa.ogg")), icecast.password, StreamSettings("opus", 48),
                       backoff=(0.3,)).start()
    try:
        assert icecast.wait_for_mounts("/xa.ogg")
        assert icecast.mounts()["/xa.ogg"].get("server_type") == "audio/ogg"
        ear = Listener(f"{icecast.base}/xa.ogg", 3.0).start()
        time.sleep(0.3)
        air({sink: [(tone(1.5, 660), "opus")]})
        ear.stop()
    finally:
        sink.close()
    assert ear.onset(660) is not None and sink.take_missed("opus") == []


def test_silence_keeps_the_mount_up_between_programmes(icecast):
    sink = sink_for(icecast, "xa.mp3")
    try:
        assert icecast.wait_for_mounts("/xa.mp3")
        ear = Listener(f"{icecast.base}/xa.mp3", 2.0).start()
        ear.stop()
        assert len(ear.samples()) > 1.5 * RATE          # nothing written: the sink sent silence
        assert float(np.abs(ear.samples()).max()) < 1e-3
        mount = parse_icecast(icecast.source_url("xa.mp3"))
        deadline = time.monotonic() + 3          # Icecast notices a gone listener at its next write
        while listeners(mount) != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listeners(mount) == 0
    finally:
        sink.close()


@pytest.mark.serial
def test_icecast_restart_is_one_outage_reported_per_programme(icecast, caplog):
    sink = sink_for(icecast, "xa.mp3")
    write_times = []
    original = sink.write

    def timed_write(block, at=None, *, label=None):
        began = time.perf_counter()
        original(block, at, label=label)
        write_times.append(time.perf_counter() - began)

    sink.write = timed_write

    def outage(second: float) -> None:
        if abs(second - 1.5) < 1e-6:
            icecast.stop()
        if abs(second - 3.0) < 1e-6:
            icecast.start()

    try:
        assert icecast.wait_for_mounts("/xa.mp3")
        with caplog.at_level(logging.INFO, logger="broadcaster.output.icecast"):
            air({sink: [(tone(6.0, 440), "chieu")]}, on_block=outage)
            ear = Listener(f"{icecast.base}/xa.mp3", 1.5).start()
            air({sink: [(tone(1.5, 880), "toi")]})
            ear.stop()
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "xa.mp3" in warnings[0].getMessage()
        assert sink.state().connected and sink.state().outages == 1
        missed = sink.take_missed("chieu")
        assert missed and all(part.label == "chieu" for part in missed)
        total = sum(part.seconds for part in missed)
        assert 1.0 <= total <= 4.0 and 1.2 <= missed[0].start <= 2.5, missed
        assert sink.take_missed("toi") == []
        assert sink.missed() >= total and sink.missed() == 0.0
        assert ear.onset(880) is not None                      # the mount is back on the air
        assert max(write_times) < 0.005                        # the playout never waited
    finally:
        sink.close()


def test_wrong_password_is_refused_and_retried(icecast, caplog):
    sink = IcecastSink(parse_icecast(icecast.source_url("xa.mp3")), "sai-mat-khau", STREAM,
                       backoff=(0.2,)).start()
    try:
        with caplog.at_level(logging.WARNING, logger="broadcaster.output.icecast"):
            deadline = time.monotonic() + 3
            while sink.state().last_error is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.6)
        state = sink.state()
        assert not state.connected and state.outages == 1
        assert "401" in state.last_error
        assert len(caplog.records) == 1 and "sai-mat-khau" not in caplog.text
    finally:
        sink.close()


def test_outputs_command_lists_each_output_and_zone(icecast, tmp_path, capsys):
    (tmp_path / "secrets.yaml").write_text(icecast.secrets_text(), encoding="utf-8")
    (tmp_path / "secrets.yaml").chmod(0o600)
    (tmp_path / "schedule.yaml").write_text(textwrap.dedent(f"""\
        station:
          name: Đài thử
          outputs: [default, "{icecast.source_url('xa.mp3')}"]
          zones:
            thon-dong: {icecast.source_url('thon-dong.mp3')}
          secrets: secrets.yaml
        bulletins:
          a: {{text: Xin chào.}}
        slots:
          - {{name: Sáng, at: "06:00", play: [a]}}
        """), encoding="utf-8")
    sink = sink_for(icecast, "xa.mp3")
    try:
        assert icecast.wait_for_mounts("/xa.mp3")
        ear = Listener(f"{icecast.base}/xa.mp3", 1.5).start()
        time.sleep(0.5)
        assert main(["outputs", "--schedule", str(tmp_path / "schedule.yaml"), "--json"]) == 0
        rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
        ear.stop()
    finally:
        sink.close()
    assert list(rows) == ["default", icecast.source_url("xa.mp3"), "zone thon-dong"]
    assert (rows[icecast.source_url("xa.mp3")]["connected"], rows[icecast.source_url("xa.mp3")]["listeners"]) == (True, 1)
    assert rows["zone thon-dong"]["connected"] is False and rows["zone thon-dong"]["listeners"] is None
    assert rows["default"]["connected"] is None
    icecast.stop()
    assert main(["--lang", "en", "outputs", "--schedule", str(tmp_path / "schedule.yaml")]) == 0
    out = capsys.readouterr().out
    assert "cannot reach Icecast" in out and icecast.password not in out


def test_station_sinks_and_routing():
    station = Station(name="x", timezone=ZoneInfo("Asia/Ho_Chi_Minh"), state_dir=Path("/tmp"),
                      outputs=("default", "icecast://source@h:8000/xa.mp3"),
                      zones={"thon-dong": "icecast://source@h:8000/dong.mp3", "thon-tay": "icecast://s@k:9000/tay.mp3"},
                      passwords={"source@h:8000": "p1", "s@k:9000": "p2"})
    sinks = station_sinks(station)
    assert [(s.name, s.mount.key, s._password) for s in sinks] == [
        ("icecast://source@h:8000/xa.mp3", "source@h:8000", "p1"), ("thon-dong", "source@h:8000", "p1"),
        ("thon-tay", "s@k:9000", "p2")]
    assert routed_sinks(station, ()) is None
    assert routed_sinks(station, ("thon-dong",), emergency=True) is None
    assert routed_sinks(station, ("thon-dong",)) == {"thon-dong", "icecast://source@h:8000/xa.mp3"}
