"""The daemon as the station runs it: `python -m broadcaster run` in its own process, with the real
programme stage and eSpeak NG (offline), FileOutput, and signals: SIGTERM, and kill -9 then restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.onair.control import socket_path
from tests.onair.conftest import clock_in, wait_for

pytestmark = pytest.mark.e2e

LONG = "Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi tại trạm y tế xã."   # about 4 s
SHORT = "Xin chào bà con."


@pytest.fixture
def daemon(folder):
    """Start `broadcaster run` as a subprocess; every process started is killed by pid at the end."""
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(folder.folder / f"daemon-{len(processes)}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "broadcaster", "run", "--schedule", str(folder.path)],
            cwd=Path(__file__).resolve().parents[2], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "BROADCASTER_LANG": "en"})
        log.close()
        processes.append(process)
        wait_for(lambda: socket_path(folder.state).exists() or process.poll() is not None, timeout=20)
        assert process.poll() is None, (folder.folder / f"daemon-{len(processes) - 1}.log").read_text()
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def history(folder):
    with AsRunLog(folder.state / "asrun.sqlite3") as asrun:
        return asrun.history()


def write(folder, slots, **station):
    folder.write({"ngan": {"text": SHORT}, "dai": {"text": LONG}}, slots,
                 speech={"engines": ["espeak-ng"]}, **station)


@pytest.mark.serial
def test_sigterm_fades_logs_interrupted_and_exits_zero(folder, daemon):
    write(folder, [{"name": "Dai", "at": clock_in(4), "play": ["dai"]}])
    process = daemon()
    wait_for(lambda: (folder.state / "asrun.sqlite3").exists() and
             any(r.status is Status.PLAYING for r in history(folder)), timeout=20)
    process.send_signal(signal.SIGTERM)
    asked = time.monotonic()
    assert process.wait(timeout=5) == 0
    took = time.monotonic() - asked
    assert took < 2.0, f"took {took:.2f} s to stop"
    rows = history(folder)
    assert [r.status for r in rows] == [Status.INTERRUPTED]
    assert rows[0].ended is not None and "stopped" in rows[0].error
    assert not socket_path(folder.state).exists()


def test_kill_9_then_restart_catches_up_without_airing_twice(folder, daemon):
    first, second = clock_in(4), clock_in(8)
    write(folder, [{"name": "Ngan", "at": first, "play": ["ngan"]}, {"name": "Dai", "at": second, "play": ["dai"]}])
    process = daemon()
    playing = wait_for(lambda: [r for r in history(folder) if r.slot == "Dai" and r.status is Status.PLAYING],
                       timeout=25)[0]
    wait_for(lambda: time.time() > playing.started.timestamp() + 1.5, timeout=5)
    process.kill()                       # power cut in the middle of "Dai"
    process.wait(5)
    assert socket_path(folder.state).exists()     # left behind, as after a real crash
    daemon()
    rows = wait_for(lambda: (h := history(folder)) and any(
        r.slot == "Dai" and r.status in (Status.PLAYED, Status.LATE) for r in h) and h, timeout=30)
    ngan = [r for r in rows if r.slot == "Ngan"]
    dai = [r for r in rows if r.slot == "Dai"]
    assert [r.status for r in ngan] == [Status.PLAYED]             # aired once, not again
    [dai] = dai                                                     # cut by the crash, aired again: one row
    assert (dai.status, dai.attempts, dai.engine) == (Status.LATE, 2, "espeak-ng")
    assert dai.note.startswith(playing.started.strftime("%H:%M:%S")) and "(power cut or kill)" in dai.note
    # FileOutput writes what aired when a programme ends, so the crash left no file for the cut "Dai"
    assert [p.name.split("-")[2].removesuffix(".wav") for p in folder.aired_files()] == ["Ngan", "Dai"]


def test_schedule_broken_while_off_airs_the_last_good_one(folder, daemon):
    at = clock_in(12)
    write(folder, [{"name": "Ngan", "at": at, "play": ["ngan"]}])
    process = daemon()                      # the station accepts this schedule once...
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 0
    good = folder.path.read_text(encoding="utf-8")
    broken = good.replace("slots:", "slots:\n- name: Hong\n  at: '25:99'\n  play: [ngan]")
    folder.path.write_text(broken, encoding="utf-8")   # ...then an edit with a typo, and a reboot
    daemon()
    aired = wait_for(lambda: [r for r in history(folder) if r.status in (Status.PLAYED, Status.LATE)], timeout=30)
    assert [(r.slot, r.status) for r in aired] == [("Ngan", Status.PLAYED)]
    log = (folder.folder / "daemon-1.log").read_text(encoding="utf-8")
    at_line = broken.splitlines().index("  at: '25:99'") + 1
    assert f"{folder.path}:{at_line}:7: error: invalid time '25:99'" in log
    assert "airs the last good schedule" in log


def test_broken_schedule_without_a_last_good_one_refuses_to_start(folder):
    write(folder, [{"name": "Ngan", "at": "25:00", "play": ["ngan"]}])
    result = subprocess.run([sys.executable, "-m", "broadcaster", "--lang", "en", "run", "--schedule", str(folder.path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    line = next(n for n, text in enumerate(folder.path.read_text(encoding="utf-8").splitlines(), 1) if "25:00" in text)
    assert result.stderr.splitlines() == [
        f"{folder.path}:{line}:7: error: invalid time '25:00': write HH:MM or HH:MM:SS, from 00:00 to 23:59:59"]
