"""`broadcaster status` without a daemon: the JSON shape, the table, the exit codes, the language."""

from __future__ import annotations

import re

from broadcaster.cli import main


def test_json_shape(station, timedatectl, capsys, english):
    station.write()
    code, report = station.status(capsys)
    assert code == 0
    assert set(report) == {"state", "checks", "on_air", "next", "schedule_version"}
    assert report["state"] == "ok" and report["on_air"] is None
    assert [c["name"] for c in report["checks"]] == [
        f"output:file:{station.folder / 'aired'}", "disk", "asrun", "clock", "voice", "schedule", "next"]
    for item in report["checks"]:
        assert set(item) == {"name", "state", "message", "since"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", item["since"])
    assert report["next"]["slot"] == "Chiều" and report["next"]["rendered"] is False
    assert re.fullmatch(r"[0-9a-f]{64}", report["schedule_version"])


def test_table_in_vietnamese_and_exit_code(station, timedatectl, capsys):
    station.write()
    timedatectl("unsynced")
    assert main(["status", "--schedule", str(station.path)]) == 2
    out = capsys.readouterr().out
    assert "Tình trạng đài: hỏng" in out
    assert "Đồng hồ máy chưa từng đồng bộ giờ chuẩn từ khi khởi động" in out
    assert "chương trình phát thanh không chạy: kiểm tra trực tiếp" in out
    assert "Buổi phát tới: Chiều lúc" in out


def test_a_daemon_that_holds_its_lock_but_never_answers_is_failing(station, timedatectl, capsys, monkeypatch,
                                                                    english):
    from broadcaster.cli import health
    from broadcaster.onair.control import DaemonLock

    station.write()
    monkeypatch.setattr(health, "DAEMON_PATIENCE", 0.3)
    lock = DaemonLock(station.state)
    lock.acquire()                      # a hung daemon: the lock is held, no socket answers
    try:
        code, report = station.status(capsys)
    finally:
        lock.release()
    assert code == 2 and report["state"] == "failing"
    daemon = report["checks"][0]
    assert daemon["name"] == "daemon" and daemon["state"] == "failing"
    assert "did not answer" in daemon["message"] and "not playing directly" in daemon["message"]
    assert not any(c["name"].startswith("output:") for c in report["checks"])
