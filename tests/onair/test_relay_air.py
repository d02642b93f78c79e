"""Relays and Icecast zones through the whole daemon: real icecast2, real listeners, real seconds."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import numpy as np
import pytest
import yaml

from broadcaster.onair.requests import resolve_emergency
from tests.icecast import RATE, Listener, ToneSource
from tests.onair.conftest import TZ, clock_in, wait_for

RELAY_HZ, EMERGENCY_HZ = 440, 880


def icecast_station(folder, icecast, bulletins, slots, **station):
    """A station with two zones on the test Icecast (and `station` overrides), loaded."""
    secrets = folder.folder / "secrets.yaml"
    secrets.write_text(icecast.secrets_text(), encoding="utf-8")
    secrets.chmod(0o600)
    folder.write(bulletins, slots, secrets="secrets.yaml",
                 zones={"thon-dong": icecast.source_url("thon-dong.mp3"),
                        "thon-tay": icecast.source_url("thon-tay.mp3")})
    if station:
        document = yaml.safe_load(folder.path.read_text(encoding="utf-8"))
        document["station"].pop("output")
        document["station"].update(station)
        folder.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder.load()


def finished_rows(station, since: datetime, count: int, timeout: float = 25.0):
    """The as-run rows since `since` once `count` of them are finished (not playing)."""
    def done():
        rows = [r for r in station.asrun.history(since) if r.status.value != "playing"]
        return rows if len(rows) >= count else None
    return wait_for(done, timeout=timeout)


def heard_in(listener: Listener, hertz: int, start: float, end: float) -> bool:
    """Whether `hertz` is clearly present somewhere in [start, end) seconds of the capture."""
    return any(listener.level(hertz, at, 0.2) > 0.05 for at in np.arange(start, end - 0.2, 0.2))


def at_second(listener: Listener, moment: datetime) -> float:
    """Seconds into the listener's capture that correspond to wall time `moment` (approximately)."""
    return moment.timestamp() - listener.chunks[0][0]


def test_emergency_cuts_a_zone_relay_everywhere_then_the_relay_resumes_on_its_zone(
        folder, icecast, run_station):
    source = ToneSource(icecast, "vov1.mp3", RELAY_HZ, -24.0).start()
    try:
        at = clock_in(9)           # the relay is opened 8 s before its second
        schedule = icecast_station(
            folder, icecast,
            {"vov1": {"title": "Thời sự VOV1", "relay": f"http://127.0.0.1:{icecast.port}/vov1.mp3",
                      "duration": "12s"}},
            [{"name": "Tiếp sóng", "at": at, "play": ["vov1"], "zones": ["thon-dong"]}])
        station = run_station(schedule)
        assert icecast.wait_for_mounts("/thon-dong.mp3", "/thon-tay.mp3")
        start = datetime.combine(datetime.now(TZ).date(), datetime.strptime(at, "%H:%M:%S").time(), TZ)
        time.sleep(max(0.0, (start - datetime.now(TZ)).total_seconds() - 1.0))
        dong = Listener(f"{icecast.base}/thon-dong.mp3", 15.0).start()
        tay = Listener(f"{icecast.base}/thon-tay.mp3", 15.0).start()
        time.sleep(max(0.0, (start - datetime.now(TZ)).total_seconds() + 3.0))
        station.submit(resolve_emergency(station.schedule, text="2s 880Hz", bulletin=None, title=None,
                                         now=station.now()))
        dong.stop()
        tay.stop()
        rows = wait_for(lambda: (h := station.asrun.history(start - timedelta(minutes=1))) and any(
            r.slot == "Tiếp sóng" and r.status.value in ("played", "partial") for r in h) and h, timeout=25)
    finally:
        source.kill()
    zero = at_second(dong, start)
    assert heard_in(dong, RELAY_HZ, zero + 0.5, zero + 3.0)                 # the relay on its zone
    assert not heard_in(tay, RELAY_HZ, at_second(tay, start), at_second(tay, start) + 13)   # never elsewhere
    assert heard_in(dong, EMERGENCY_HZ, zero + 3, zero + 7)                 # the emergency everywhere
    assert heard_in(tay, EMERGENCY_HZ, at_second(tay, start) + 3, at_second(tay, start) + 7)
    emergency = next(r for r in rows if r.kind == "emergency")
    resumed_at = (emergency.ended - start).total_seconds() + 0.5
    assert heard_in(dong, RELAY_HZ, zero + resumed_at, zero + 11.5)         # live again afterwards
    [relay] = [r for r in rows if r.slot == "Tiếp sóng"]                  # one relay, one row: cut, then resumed
    assert (relay.engine, relay.attempts) == ("relay", 2) and emergency.key in relay.note
    assert abs((relay.ended - start).total_seconds() - 12.0) < 1.5          # its end stays 12 s after its start


@pytest.mark.serial
def test_icecast_restart_leaves_the_sound_card_alone_and_a_dead_relay_fails_without_delaying_the_next(
        folder, icecast, run_station, pulse_clean, caplog):
    main_mount = icecast.source_url("xa.mp3")
    first = clock_in(3)
    base = datetime.combine(datetime.now(TZ).date(), datetime.strptime(first, "%H:%M:%S").time(), TZ)
    dead = (base + timedelta(seconds=7)).strftime("%H:%M:%S")
    after = (base + timedelta(seconds=10)).strftime("%H:%M:%S")
    schedule = icecast_station(
        folder, icecast,
        {"a": {"text": "6s 500Hz"}, "c": {"text": "1s 700Hz"},
         "chet": {"relay": f"http://127.0.0.1:{icecast.port}/khong-co.mp3", "duration": "2s"}},
        [{"name": "Sáng", "at": first, "play": ["a"]}, {"name": "Tiếp sóng", "at": dead, "play": ["chet"]},
         {"name": "Trưa", "at": after, "play": ["c"]}],
        outputs=["default", main_mount])
    with caplog.at_level(logging.INFO, logger="broadcaster.output.icecast"):
        station = run_station(schedule)
        assert icecast.wait_for_mounts("/xa.mp3")
        time.sleep(max(0.0, (base - datetime.now(TZ)).total_seconds() + 2.0))
        icecast.stop()
        time.sleep(1.0)
        icecast.start()
        assert icecast.wait_for_mounts("/xa.mp3")                          # the mount reconnects
        ear = Listener(f"{icecast.base}/xa.mp3", 9.0).start()
        rows = finished_rows(station, base - timedelta(minutes=1), 3)
        ear.stop()
    by_slot = {r.slot: r for r in rows}
    assert by_slot["Sáng"].status.value == "played"
    assert "xa.mp3" in (by_slot["Sáng"].error or "")                        # the mount missed part of it
    assert by_slot["Tiếp sóng"].status.value == "failed" and "404" in by_slot["Tiếp sóng"].error
    assert by_slot["Trưa"].status.value == "played"
    assert abs((by_slot["Trưa"].started - (base + timedelta(seconds=10))).total_seconds()) < 0.05
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "xa.mp3" in r.getMessage()]
    assert len(warnings) == 1                                               # one line per outage
    assert heard_in(ear, 700, 0, 9)                                         # the mount is back
    # The sound card never noticed: the 6 s programme reached the PulseAudio sink whole.
    played = pulse_clean.captured()
    onset = pulse_clean.first_sound()[0]
    envelope = [float(np.sqrt(np.mean(played[i:i + RATE // 20] ** 2)))
                for i in range(onset, onset + 6 * RATE - RATE // 20, RATE // 20)]
    assert min(envelope) > 0.15, min(envelope)


def test_desk_starts_a_relay_now_and_stops_it(folder, icecast, run_station):
    source = ToneSource(icecast, "vov1.mp3", RELAY_HZ, -24.0).start()
    try:
        schedule = icecast_station(
            folder, icecast,
            {"vov1": {"relay": f"icecast://127.0.0.1:{icecast.port}/vov1.mp3", "duration": "30m"},
             "a": {"text": "1s 500Hz"}},
            [{"name": "Sáng", "at": "03:00", "play": ["a"]}])
        station = run_station(schedule)
        reply = station.handle_request({"cmd": "play", "target": "vov1"})
        wait_for(lambda: (station.handle_request({"cmd": "status"})["current"] or {}).get("key") == reply["key"], timeout=15)
        assert wait_for(lambda: all(state["connected"] for state in
                                    station.handle_request({"cmd": "outputs"})["outputs"].values()))
        assert set(station.handle_request({"cmd": "outputs"})["outputs"]) == {"thon-dong", "thon-tay"}
        ear = Listener(f"{icecast.base}/thon-tay.mp3", 2.0).start()
        ear.stop()
        stopped = station.handle_request({"cmd": "stop"})
        assert stopped["stopped"] == reply["key"]
        rows = finished_rows(station, datetime.now(TZ) - timedelta(minutes=1), 1, timeout=10)
    finally:
        source.kill()
    assert heard_in(ear, RELAY_HZ, 0, 2)                                    # a desk relay goes everywhere
    assert [(r.kind, r.status.value, r.engine) for r in rows] == [("manual", "interrupted", "relay")]
    assert station.playout.status()["current"] is None
