"""The daemon's health component on its own: start-up lines, a broken edit seen within a minute,
the as-run note, the status reply and /metrics, with an injected clock."""

from __future__ import annotations

import logging
import socket
import urllib.request

import sounddevice

from broadcaster.health import ScheduleSource
from broadcaster.health.checks import file_version
from broadcaster.health.watch import HealthWatch
from broadcaster.schedule import load_schedule
from tests.health.conftest import at, check


class Holder:
    """Stands in for the planner: the schedule in force, replaced on reload."""

    def __init__(self, schedule) -> None:
        self.schedule = schedule


def watch_for(holder, now, outputs, **options) -> HealthWatch:
    source = ScheduleSource(holder.schedule.path, "file", version=file_version(holder.schedule.path))
    return HealthWatch(lambda: holder.schedule, source, outputs=outputs, clock=lambda: now,
                       reachable=lambda: None, **options)


def test_no_sound_card_at_start_up(spare_pulse, station, timedatectl, caplog, english):
    station.write(output="default")
    holder = Holder(load_schedule(station.path))
    watch = watch_for(holder, at("2026-11-30T10:00:00"), ["default"])
    sounddevice._terminate()
    spare_pulse.stop()                  # PulseAudio gone: no sound device at all
    sounddevice._initialize()
    caplog.set_level(logging.INFO, logger="broadcaster.health.base")
    watch.start_up()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("health: output:default failing: Output default cannot play")
    assert "broadcaster devices" in lines[0]
    assert watch.aired_note() == "Aired while failing: output:default."
    watch.minute()
    assert len(caplog.records) == 1


def test_broken_edit_reload_status_and_metrics(station, timedatectl, english):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    station.write(metrics={"listen": f"127.0.0.1:{port}"})
    holder = Holder(load_schedule(station.path))
    watch = watch_for(holder, at("2026-11-30T10:00:00"), [f"file:{station.folder / 'aired'}"],
                      on_air=lambda: {"key": "Chiều@x"})
    watch.start_up()
    report = watch.report({"key": "Chiều@x"})
    assert report["state"] == "ok" and report["on_air"] == {"key": "Chiều@x"}
    assert watch.aired_note() is None
    good = station.path.read_text(encoding="utf-8")
    station.path.write_text(good.replace("  - chao", "  - khong-co"), encoding="utf-8")
    watch.minute()
    report = watch.report(None)
    assert check(report, "schedule")["state"] == "warning"
    assert "khong-co" in check(report, "schedule")["message"]
    station.path.write_text(good.replace("Xin chào", "Chào"), encoding="utf-8")
    holder.schedule = load_schedule(station.path)                   # the watcher's reload
    watch.minute()
    report = watch.report(None)
    assert check(report, "schedule")["state"] == "ok"
    watch.start()
    try:
        assert watch.metrics_address == ("127.0.0.1", port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    finally:
        watch.close()
    assert "broadcaster_on_air 1" in text.splitlines()
    assert 'broadcaster_check_state{check="schedule"} 0' in text.splitlines()
    assert "broadcaster_voice_fallbacks_total 0" in text.splitlines()


def test_outputs_are_probed_in_the_minute_before_each_prerender(station, timedatectl, english):
    station.write(at="17:00")                                   # pre-render at 16:30
    holder = Holder(load_schedule(station.path))
    now = {"t": at("2026-11-30T16:28:00")}
    source = ScheduleSource(holder.schedule.path, "file", version=file_version(holder.schedule.path))
    watch = HealthWatch(lambda: holder.schedule, source, outputs=[f"file:{station.folder / 'aired'}"],
                        clock=lambda: now["t"], reachable=lambda: None)
    assert not [s for s in watch.minute() if s.name.startswith("output:")]
    now["t"] = at("2026-11-30T16:29:30")
    assert [s.name for s in watch.minute() if s.name.startswith("output:")] == [
        f"output:file:{station.folder / 'aired'}"]
    now["t"] = at("2026-11-30T16:30:30")
    assert not [s for s in watch.minute() if s.name.startswith("output:")]


def test_rows_waiting_in_memory_fail_the_asrun_check(small_disk, tmp_path, english):
    from datetime import datetime

    from broadcaster.asrun.log import AsRunLog, Status
    from broadcaster.health.checks import check_asrun
    from tests.health.conftest import TZ

    state = small_disk.path / "var"
    state.mkdir()
    asrun = AsRunLog(state / "asrun.sqlite3")
    try:
        small_disk.fill()
        now = datetime.now(TZ)
        for minute in range(3):
            asrun.record(key=f"k{minute}", kind="scheduled", slot="s", bulletins=["b"], priority="normal",
                         scheduled=now, status=Status.PLAYED, started=now, ended=now)
        fault = asrun.fault
        assert fault is not None
        result = check_asrun(state, fault)
        assert result.state.label == "failing"
        assert f"{fault.pending} row(s) wait in memory and the journal" in result.message
    finally:
        small_disk.free()
        asrun.close()


def test_a_metrics_port_in_use_is_logged_not_fatal(station, timedatectl, caplog, english):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        station.write(metrics={"listen": f"127.0.0.1:{port}"})
        holder = Holder(load_schedule(station.path))
        watch = watch_for(holder, at("2026-11-30T10:00:00"), [])
        watch.start()
        try:
            assert watch.metrics_address is None
        finally:
            watch.close()
    assert any(f"Cannot serve /metrics on 127.0.0.1:{port}" in r.getMessage() for r in caplog.records)
