"""What the desk asks of a running daemon: what is on air with its length and end, and `reload`.

A real daemon (tone renderer, file output) answering on its real control socket.
"""

from __future__ import annotations

import logging
from datetime import datetime

from broadcaster import i18n

from broadcaster.onair.control import ask_daemon
from tests.helpers import wait_for
from tests.onair.conftest import clock_in


def test_status_says_what_is_on_air_with_its_length_and_end(folder, run_station):
    folder.write({"dai": {"text": "3s 440Hz"}}, [{"name": "Sang", "at": clock_in(600), "play": ["dai"]}])
    station = run_station(folder.load())
    assert ask_daemon(folder.state, {"cmd": "status"})["current"] is None
    queued = ask_daemon(folder.state, {"cmd": "play", "target": "dai"})
    current = wait_for(lambda: (ask_daemon(folder.state, {"cmd": "status"})["current"] or {}).get("length")
                       and ask_daemon(folder.state, {"cmd": "status"})["current"], timeout=15)
    assert {k: current[k] for k in ("key", "slot", "bulletins", "priority")} == {
        "key": queued["key"], "slot": "dai", "bulletins": ["dai"], "priority": "normal"}
    started, ends_at = datetime.fromisoformat(current["started"]), datetime.fromisoformat(current["ends_at"])
    assert started.utcoffset().total_seconds() == 7 * 3600          # station time
    # The tone renderer's programme: the 3 s tone (the programme's own length, not a guess).
    assert 3.0 <= current["length"] < 3.5
    assert abs((ends_at - started).total_seconds() - current["length"]) < 0.002
    [row] = [r for r in station.asrun.history() if r.key == queued["key"]]
    assert abs((row.started - started).total_seconds()) < 0.002      # the as-run row's start
    wait_for(lambda: ask_daemon(folder.state, {"cmd": "status"})["current"] is None, timeout=10)


def test_reload_reads_the_edited_schedule_at_once_instead_of_at_the_next_poll(folder, run_station, caplog):
    folder.write({"dai": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(600), "play": ["dai"]}])
    station = run_station(folder.load(), reload_interval=3600)      # the file poll would take an hour
    first = station.schedule.version
    text = folder.path.read_text(encoding="utf-8")
    temporary = folder.path.with_name(".schedule.yaml.tmp")
    temporary.write_text(text.replace("name: Sang", "name: Chieu"), encoding="utf-8")
    temporary.replace(folder.path)                                    # as the desk writes: whole, by rename
    reply = ask_daemon(folder.state, {"cmd": "reload"})
    assert reply["ok"] is True and reply["reload"] == "queued"
    wait_for(lambda: station.schedule.version != first, timeout=10)
    assert [s.name for s in station.schedule.slots] == ["Chieu"]
    assert ask_daemon(folder.state, {"cmd": "status"})["schedule_version"] == station.schedule.version
    # A broken edit is refused as by the file poll: the last good schedule stays in force.
    good = station.schedule.version
    caplog.set_level(logging.ERROR, logger="broadcaster.onair")
    folder.path.write_text(text.replace("- dai", "- khong-co"), encoding="utf-8")
    assert ask_daemon(folder.state, {"cmd": "reload"})["ok"] is True
    assert ask_daemon(folder.state, {"cmd": "reload"})["ok"] is True      # a poke while one runs: harmless
    wait_for(lambda: i18n.tr("onair.reload_failed") in caplog.text, timeout=10)
    assert "khong-co" in caplog.text
    assert station.schedule.version == good and [s.name for s in station.schedule.slots] == ["Chieu"]
    # The desk shows the daemon's last errors: the refusal and its reason, newest first.
    errors = ask_daemon(folder.state, {"cmd": "status"})["errors"]
    assert errors[0] == {"at": errors[0]["at"], "level": "error", "message": i18n.tr("onair.reload_failed")}
    assert any("khong-co" in e["message"] for e in errors[1:])
    assert datetime.fromisoformat(errors[0]["at"]).utcoffset().total_seconds() == 7 * 3600
