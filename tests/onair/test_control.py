"""The control socket: 0600 from birth, JSON lines, clear errors back to the client."""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest

from broadcaster.errors import OnAirError
from broadcaster.onair.control import ControlServer, daemon_answers, send_request, socket_path
from tests.onair.conftest import clock_in, wait_for


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
