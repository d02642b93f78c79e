"""`broadcaster play` and `broadcaster emergency` from the desk: directly when no daemon runs
(real programme stage and eSpeak NG), through the control socket when one does."""

from __future__ import annotations

import pytest

from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.cli import main
from tests.onair.conftest import clock_in, wait_for
from tests.onair.tones import dominant_hertz

pytestmark = pytest.mark.e2e


def test_play_without_daemon_renders_and_plays_directly(folder, capsys, english):
    folder.write({"chao": {"text": "Xin chào bà con."}}, [{"name": "Sang", "at": "05:00", "play": ["chao"]}],
                 speech={"engines": ["espeak-ng"]})
    assert main(["--lang", "en", "play", "Sang", "--schedule", str(folder.path)]) == 0
    out, err = capsys.readouterr()
    assert "No station daemon running" in err
    assert "Sang (manual:Sang@" in out and ": played [espeak-ng]" in out
    with AsRunLog(folder.state / "asrun.sqlite3") as asrun:
        rows = asrun.history()
    assert [(r.kind, r.slot, r.bulletins, r.status) for r in rows] == [("manual", "Sang", ("chao",), Status.PLAYED)]
    assert len(folder.aired_files()) == 1


def test_desk_mistakes_are_one_clear_line(folder, capsys, english):
    folder.write({"chao": {"text": "Xin chào."}}, [{"name": "Sang", "at": "05:00", "play": ["chao"]}])
    assert main(["--lang", "en", "play", "khong-co", "--schedule", str(folder.path)]) == 1
    assert main(["--lang", "en", "emergency", "--schedule", str(folder.path)]) == 1
    assert main(["--lang", "en", "emergency", "--bulletin", "khong-co", "--schedule", str(folder.path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "broadcaster: No bulletin or slot named 'khong-co'. Known: chao, Sang",
        "broadcaster: An emergency needs a text or --bulletin.",
        "broadcaster: No bulletin named 'khong-co'. Known: chao",
    ]
    assert not (folder.state / "asrun.sqlite3").exists() or not AsRunLog(folder.state / "asrun.sqlite3").history()


def test_emergency_goes_through_the_running_daemon(folder, run_station, capsys, english):
    folder.write({"chao": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(600), "play": ["chao"]}])
    station = run_station(folder.load())
    assert main(["--lang", "en", "emergency", "1s 1000Hz Lũ quét", "--title", "Lũ", "--schedule", str(folder.path)]) == 0
    assert "Sent to the running station daemon" in capsys.readouterr().out
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.PLAYED], timeout=20)[0]
    assert row.kind == "emergency" and row.priority == "emergency" and row.bulletins[0].startswith("emergency-")
    assert dominant_hertz(folder.aired_files()[0]) == 1000
