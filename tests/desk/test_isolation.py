"""A crash, hang or flood of the desk never delays air: `broadcaster run` with its desk, slots due
while the desk is flooded with requests, SIGSTOPped and kill -9'd; every slot must start on its second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from broadcaster.asrun import AsRunLog, Status, log_path
from broadcaster.desk.supervisor import answers
from tests.desk.helpers import alive, desk_child, stop
from tests.helpers import free_port, wait_for

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(seconds: float) -> str:
    moment = datetime.now(TZ) + timedelta(seconds=seconds)
    return (moment.replace(microsecond=0) + timedelta(seconds=1)).strftime("%H:%M:%S")


def flood(listen: str, stop: threading.Event) -> None:
    while not stop.is_set():
        for path in ("/api/status", "/login", "/api/bulletins"):
            try:
                urllib.request.urlopen(f"http://{listen}{path}", timeout=2).read()
            except OSError:
                pass


@pytest.mark.serial          # each slot must start within 1 s of its second: other workers' load breaks that
def test_daemon_airs_on_time_while_the_desk_is_flooded_stopped_and_killed(station):
    listen = f"127.0.0.1:{free_port()}"
    document = {
        "station": {"name": "Đài thử", "state_dir": str(station.state), "output": f"file:{station.folder / 'aired'}",
                    "speech": {"engines": ["espeak-ng"]}, "desk": {"listen": listen}},
        "bulletins": {"ngan": {"text": "Xin chào bà con."}},
        "slots": [{"name": f"S{n}", "at": at(10 + 6 * n), "play": ["ngan"]} for n in range(3)],
    }
    station.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    log = open(station.folder / "run.log", "wb")
    daemon = subprocess.Popen([sys.executable, "-m", "broadcaster", "run", "--schedule", str(station.path)],
                              stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "BROADCASTER_LANG": "en"})
    stop_flood = threading.Event()
    try:
        wait_for(lambda: answers(listen), timeout=30)
        desk = desk_child(daemon.pid)
        assert desk is not None
        floods = [threading.Thread(target=flood, args=(listen, stop_flood), daemon=True) for _ in range(8)]
        for thread in floods:
            thread.start()
        first = datetime.strptime(document["slots"][0]["at"], "%H:%M:%S").time()
        wait_for(lambda: datetime.now(TZ).time() > first, timeout=30)      # S0 aired during the flood
        time.sleep(1.5)
        stop_flood.set()
        os.kill(desk, signal.SIGSTOP)                                     # S1 airs while it hangs
        second = datetime.strptime(document["slots"][1]["at"], "%H:%M:%S").time()
        wait_for(lambda: datetime.now(TZ).time() > second, timeout=30)
        time.sleep(1.5)
        os.kill(desk, signal.SIGKILL)                                     # S2 airs while it is gone
        rows = wait_for(lambda: len(done := [r for r in history(station) if r.status is not Status.PLAYING]) == 3
                          and done, timeout=30)
        assert [(r.slot, r.status) for r in rows] == [("S0", Status.PLAYED), ("S1", Status.PLAYED),
                                                      ("S2", Status.PLAYED)]
        for row in rows:
            assert abs((row.started - row.scheduled).total_seconds()) < 1.0, row
        wait_for(lambda: answers(listen), timeout=30)                      # and the desk is back
        assert desk_child(daemon.pid) not in (None, desk)
    finally:
        stop_flood.set()
        stop(daemon)
        log.close()
    assert desk_child(daemon.pid) is None


def history(station):
    path = log_path(station.state)
    if not path.exists():
        return []
    with AsRunLog(path) as asrun:
        return asrun.history()


def test_a_desk_does_not_outlive_a_killed_daemon(station):
    """kill -9 of `broadcaster run` (a crash): its desk exits too, freeing the port for the next run."""
    listen = f"127.0.0.1:{free_port()}"
    document = {"station": {"name": "Đài thử", "state_dir": str(station.state), "output": f"file:{station.folder / 'aired'}",
                            "speech": {"engines": ["espeak-ng"]}, "desk": {"listen": listen}},
                "bulletins": {"ngan": {"text": "Xin chào bà con."}},
                "slots": [{"name": "S", "at": "06:00", "dates": ["2030-01-01"], "play": ["ngan"]}]}
    station.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    daemon = subprocess.Popen([sys.executable, "-m", "broadcaster", "run", "--schedule", str(station.path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desk = None
    try:
        wait_for(lambda: answers(listen), timeout=30)
        desk = desk_child(daemon.pid)
        daemon.kill()
        daemon.wait()
        wait_for(lambda: not alive(desk), timeout=10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if desk is not None and alive(desk):
            os.kill(desk, signal.SIGKILL)
