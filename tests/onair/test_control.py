"""The control socket: 0600 from birth, JSON lines, clear errors back to the client."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys

import pytest

from broadcaster import i18n
from broadcaster.errors import OnAirError
from broadcaster.onair.control import (
    ControlServer, DaemonLock, ask_daemon, daemon_answers, daemon_running, running_daemon, send_request, socket_path,
)
from tests.onair.conftest import clock_in, wait_for
from tests.onair.tones import wav_seconds


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def server(state_dir):
    def handler(request: dict) -> dict:
        if request.get("cmd") == "fail":
            raise OnAirError("no such bulletin 'x'")
        return {"echo": request}

    control = ControlServer(socket_path(state_dir), handler)
    control.start()
    yield control
    control.close()


def test_socket_is_private_and_umask_restored(server):
    before = os.umask(0o022)
    os.umask(before)
    mode = stat.S_IMODE(os.stat(server.path).st_mode)
    assert stat.S_ISSOCK(os.stat(server.path).st_mode)
    assert mode == 0o600
    assert before == os.umask(before)


def test_a_socket_that_cannot_be_bound_is_said_so(tmp_path):
    """Not "Invalid request": the daemon's own socket failed, and the operator must see which."""
    path = tmp_path / "gone" / "control.sock"
    with pytest.raises(OnAirError) as failed:
        ControlServer(path, lambda request: {}).start()
    assert str(failed.value) == f"Cannot open the control socket {path}: No such file or directory"


def test_round_trip_and_errors(server):
    assert send_request(server.path, {"cmd": "status", "n": "Đài"}) == {"ok": True, "echo": {"cmd": "status", "n": "Đài"}}
    assert send_request(server.path, {"cmd": "fail"}) == {"ok": False, "error": "no such bulletin 'x'"}
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(server.path))
        raw.sendall(b"{not json\n")
        reply = json.loads(raw.makefile("rb").readline())
    assert reply["ok"] is False and reply["error"]


def test_second_daemon_refused_and_stale_socket_replaced(server, state_dir):
    with pytest.raises(OnAirError):
        ControlServer(socket_path(state_dir), lambda r: {}).start()
    server.close()
    assert not server.path.exists()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(server.path))      # a socket file left by a kill -9: nobody listens
    stale.close()
    assert not daemon_answers(server.path)
    again = ControlServer(server.path, lambda r: {"fresh": True})
    again.start()
    try:
        assert send_request(server.path, {"cmd": "x"}) == {"ok": True, "fresh": True}
    finally:
        again.close()


def test_no_daemon_is_a_clear_error(state_dir):
    with pytest.raises(OnAirError, match="control.sock"):
        send_request(socket_path(state_dir), {"cmd": "status"})


def test_too_long_path_is_refused(tmp_path):
    with pytest.raises(OnAirError):
        ControlServer(tmp_path / ("x" * 120) / "control.sock", lambda r: {}).start()


def test_daemon_validates_desk_requests(folder, run_station):
    folder.write({"chao": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(600), "play": ["chao"]}])
    station = run_station(folder.load())
    path = socket_path(station.state_dir)
    unknown = send_request(path, {"cmd": "play", "target": "khong-co"})
    assert unknown["ok"] is False and "khong-co" in unknown["error"] and "chao" in unknown["error"]
    assert send_request(path, {"cmd": "emergency", "text": "  "})["ok"] is False
    assert send_request(path, {"cmd": "emergency", "text": 3})["ok"] is False
    assert send_request(path, {"cmd": "reboot"})["ok"] is False
    queued = send_request(path, {"cmd": "play", "target": "Sang"})
    assert queued["ok"] is True and queued["key"].startswith("manual:Sang@")
    row = wait_for(lambda: [r for r in station.asrun.history() if r.key == queued["key"] and r.status.value == "played"])
    assert row[0].kind == "manual" and row[0].bulletins == ("chao",)


def test_deeply_nested_json_is_an_error_reply_and_the_server_lives_on(server):
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(server.path))
        raw.sendall(b"[" * 1200 + b"\n")
        reply = json.loads(raw.makefile("rb").readline())
    assert reply["ok"] is False and "nested" in reply["error"]
    assert send_request(server.path, {"cmd": "status"})["ok"] is True


def test_a_handler_crash_of_any_kind_is_an_error_reply(state_dir):
    def handler(request: dict) -> dict:
        raise RecursionError("maximum recursion depth exceeded")

    control = ControlServer(socket_path(state_dir), handler)
    control.start()
    try:
        for _ in range(3):
            reply = send_request(control.path, {"cmd": "status"})
            assert reply["ok"] is False and "RecursionError" in reply["error"]
    finally:
        control.close()


def test_idle_connections_cannot_starve_the_server(state_dir):
    control = ControlServer(socket_path(state_dir), lambda r: {"pong": True}, max_connections=8, read_deadline=0.5)
    control.start()
    idle = []
    try:
        for _ in range(20):            # more than the cap: the extra ones are told "busy" at once
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(str(control.path))
            idle.append(sock)
        wait_for(lambda: control.open_connections == 8, timeout=5)
        with socket.socket(socket.AF_UNIX) as late:
            late.connect(str(control.path))
            assert json.loads(late.makefile("rb").readline())["busy"] is True
        # the idle ones lose their place after the read deadline; a real request then gets through
        def ping() -> bool:
            try:
                return bool(send_request(control.path, {"cmd": "ping"}).get("pong"))
            except OnAirError:         # told "busy" and closed before the request was written
                return False

        wait_for(ping, timeout=5)
        wait_for(lambda: control.open_connections == 0, timeout=2)
    finally:
        for sock in idle:
            sock.close()
        control.close()


def test_a_client_that_leaves_early_is_not_a_warning(server, caplog):
    caplog.set_level("DEBUG", logger="broadcaster.onair.control")
    for _ in range(5):
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(str(server.path))
            raw.sendall(b'{"cmd": "status"}\n')
    assert send_request(server.path, {"cmd": "status"})["ok"] is True
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_lock_says_a_daemon_runs_even_when_its_socket_is_silent(state_dir):
    assert not daemon_running(state_dir) and ask_daemon(state_dir, {"cmd": "status"}) is None
    lock = DaemonLock(state_dir)
    assert lock.acquire() == state_dir
    try:
        assert daemon_running(state_dir)
        assert running_daemon(state_dir)[0] == os.getpid()
        with pytest.raises(OnAirError, match="already running"):
            DaemonLock(state_dir).acquire(patience=0.1)
        # no control socket answers (busy, hung, not yet listening): a clear error, never "no daemon"
        with pytest.raises(OnAirError, match="did not answer"):
            ask_daemon(state_dir, {"cmd": "emergency", "text": "x"}, patience=0.5)
    finally:
        lock.release()
    assert not daemon_running(state_dir)


def test_a_lock_left_by_a_killed_daemon_is_free(state_dir):
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from broadcaster.onair.control import DaemonLock; "
        f"DaemonLock({str(state_dir)!r}).acquire(); print('locked', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        assert running_daemon(state_dir)[0] == child.pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert not daemon_running(state_dir)
    assert (state_dir / "daemon.pid").exists()         # the file stays; the kernel dropped the lock


def test_two_hundred_idle_connections_then_an_emergency_cuts_in_through_the_daemon(
        folder, run_station, capsys):
    from broadcaster.asrun.log import Status
    from broadcaster.cli import main
    from tests.onair.tones import dominant_hertz

    folder.write({"dai": {"text": "6s 440Hz"}}, [{"name": "Sang", "at": clock_in(3), "play": ["dai"]}])
    station = run_station(folder.load())
    wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.PLAYING], timeout=15)
    idle = []
    try:
        for _ in range(200):
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(str(socket_path(folder.state)))
            idle.append(sock)
        assert main(["--lang", "en", "emergency", "1s 1000Hz Lũ quét", "--schedule", str(folder.path)]) == 0
        assert "Sent to the running station daemon" in capsys.readouterr().out
        rows = wait_for(lambda: (r := station.asrun.history()) and any(
            x.slot == "Sang" and x.status is Status.LATE for x in r) and r, timeout=30)
    finally:
        for sock in idle:
            sock.close()
    assert [(r.slot, r.status, r.attempts) for r in sorted(rows, key=lambda r: r.started)] == [
        ("emergency", Status.PLAYED, 1), ("Sang", Status.LATE, 2)]          # cut, then aired again after: one row
    assert [dominant_hertz(p) for p in folder.aired_files()] == [440, 1000, 440]
    assert station.control._thread.is_alive()


def test_desk_commands_need_only_the_station_settings(folder, run_station, capsys):
    from broadcaster.cli import main

    folder.write({"chao": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(600), "play": ["chao"]}])
    station = run_station(folder.load())
    broken = folder.path.read_text(encoding="utf-8").replace("bulletins:", "bulletins:\n  hong:\n    text_file: khong-co.txt")
    folder.path.write_text(broken, encoding="utf-8")     # a bulletin elsewhere is broken
    assert main(["--lang", "en", "emergency", "1s 1000Hz Lũ", "--schedule", str(folder.path)]) == 0
    assert main(["--lang", "en", "history", "--json", "--schedule", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "Sent to the running station daemon" in out
    wait_for(lambda: [r for r in station.asrun.history() if r.kind == "emergency" and r.status.value == "played"],
             timeout=20)


def test_the_desk_stops_what_plays_and_it_does_not_air_again(folder, run_station):
    folder.write({"dai": {"text": "4s 440Hz"}}, [{"name": "Sang", "at": clock_in(600), "play": ["dai"]}])
    station = run_station(folder.load())
    path = socket_path(station.state_dir)
    assert send_request(path, {"cmd": "stop"})["stopped"] is None          # nothing on air: nothing to stop
    queued = send_request(path, {"cmd": "play", "target": "dai"})
    wait_for(lambda: [r for r in station.asrun.history() if r.status.value == "playing"], timeout=15)
    stopped = send_request(path, {"cmd": "stop"})
    assert stopped["ok"] is True and stopped["stopped"] == queued["key"]
    [row] = wait_for(lambda: [r for r in station.asrun.history() if r.status.value == "interrupted"], timeout=5)
    assert row.key == queued["key"] and row.error == i18n.tr("onair.desk_stopped")
    assert station.wait_idle(timeout=2)
    assert len(station.asrun.history()) == 1 and send_request(path, {"cmd": "status"})["current"] is None
    [aired] = folder.aired_files()
    assert wav_seconds(aired) < 3.5                                         # cut, faded within 0.5 s
