"""The daemon under faults: a damaged as-run log at start-up, a disk that fills up while it runs.

Real daemon threads, real worker processes, real FileOutput and SQLite; the speech is the fast
tone renderer. Slots are seconds away in real time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from broadcaster.asrun.journal import Journal, default_folders
from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.onair.queue import label_for
from broadcaster.output import TONE_RATE, tone
from broadcaster.wav import write as write_wav
from tests.filesystems import roomy_disk, small_disk  # noqa: F401  (fixtures)
from tests.onair.conftest import TZ, clock_in, wait_for
from tests.onair.tones import dominant_hertz

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("english")]


def two_slots_in_the_catch_up_window(folder) -> tuple[datetime, datetime]:
    """"Da phat" 30 s ago (aired before the log broke) and "Khong ro" 20 s ago (unknown): now, Da phat's time."""
    now = datetime.now(TZ).replace(microsecond=0)
    if now.hour == 0 and now.minute < 2:
        pytest.skip("slots in the past would fall on yesterday")
    aired_at, unknown_at = now - timedelta(seconds=30), now - timedelta(seconds=20)
    folder.write({"a": {"text": "1s 440Hz"}, "b": {"text": "1s 660Hz"}},
                 [{"name": "Da phat", "at": aired_at.strftime("%H:%M:%S"), "play": ["a"]},
                  {"name": "Khong ro", "at": unknown_at.strftime("%H:%M:%S"), "play": ["b"]}], catch_up=5)
    return now, aired_at


def test_a_truncated_log_never_makes_the_station_air_a_slot_twice(folder, run_station, caplog):
    now, aired_at = two_slots_in_the_catch_up_window(folder)
    with AsRunLog(folder.state / "asrun.sqlite3") as asrun:   # a log that has seen the station before
        asrun.record(key="Truoc@earlier", kind="scheduled", slot="Truoc", bulletins=("a",), priority="normal",
                     scheduled=now - timedelta(hours=1), status=Status.PLAYED)
    folder.aired.mkdir()
    evidence = folder.aired / f"{label_for(aired_at, 'Da phat')}.wav"
    write_wav(evidence, tone(1.0, 440), TONE_RATE)              # "Da phat" aired before the power cut
    (folder.state / "asrun.sqlite3").write_bytes(b"")         # ...and the log was truncated
    (folder.state / "asrun-last-good.json").unlink(missing_ok=True)
    station = run_station(folder.load())
    rows = wait_for(lambda: len(r := station.asrun.history()) == 2 and r, timeout=10)
    by_slot = {r.slot: r for r in rows}
    assert by_slot["Da phat"].status is Status.PLAYED and str(evidence) in by_slot["Da phat"].error
    assert by_slot["Khong ro"].status is Status.MISSED and "damaged" in by_slot["Khong ro"].error
    assert station.asrun.replaced is not None and "0 bytes" in station.asrun.replaced.reason
    assert "DAMAGED" in caplog.text
    assert folder.aired_files() == [evidence]                   # nothing aired again


def test_rows_salvaged_from_a_damaged_log_keep_the_station_from_airing_a_slot_twice(folder, run_station, caplog):
    now, aired_at = two_slots_in_the_catch_up_window(folder)
    log = folder.state / "asrun.sqlite3"
    with AsRunLog(log) as asrun:                                # "Da phat" aired, then the power went
        asrun.record(key="Truoc@earlier", kind="scheduled", slot="Truoc", bulletins=("a",), priority="normal",
                     scheduled=now - timedelta(hours=1), status=Status.PLAYED)
        asrun.record(key=f"Da phat@{aired_at.isoformat()}", kind="scheduled", slot="Da phat", bulletins=("a",),
                     priority="normal", scheduled=aired_at, status=Status.PLAYED, started=aired_at,
                     ended=aired_at + timedelta(seconds=1), engine="tone")
    with open(log, "r+b") as handle:                          # ...and the log's first page is noise
        handle.write(b"\xff" * 4096)
    (folder.state / "asrun-last-good.json").unlink()          # no other evidence: only the salvage knows
    station = run_station(folder.load())
    rows = wait_for(lambda: len(r := station.asrun.history()) == 3 and r, timeout=10)
    assert [(r.slot, r.status) for r in rows] == [
        ("Truoc", Status.PLAYED), ("Da phat", Status.PLAYED), ("Khong ro", Status.MISSED)]
    assert "damaged" in rows[2].error
    replaced = station.handle_request({"cmd": "status"})["asrun"]["replaced"]
    assert replaced["salvaged"] == 2 and "header" in replaced["reason"]
    assert "Salvaged 2 readable row(s)" in caplog.text
    assert folder.aired_files() == []                           # nothing aired again


def test_disk_full_mid_run_the_programme_airs_and_its_row_is_written_when_space_returns(
        folder, run_station, roomy_disk, caplog):
    small_disk = roomy_disk
    folder.state = small_disk.path                                # the state folder is the small disk
    folder.write({"a": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(6), "play": ["a"]}])
    station = run_station(folder.load())
    station.asrun.retry_every = 0.2
    wait_for(lambda: list((small_disk.path / "programmes").glob("*.wav")), timeout=10)   # rendered ahead
    small_disk.fill()
    caplog.clear()
    wait_for(lambda: folder.aired_files(), timeout=15)
    (row,) = wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.PLAYED], timeout=5)
    assert [dominant_hertz(p) for p in folder.aired_files()] == [440]
    assert abs((row.started - row.scheduled).total_seconds()) < 1.0     # the full disk did not delay it
    assert sum("FAULT" in r.getMessage() for r in caplog.records) == 1   # reported once, at the first refusal
    # Health says so at once (its minute has not come), in one line; so does `status`.
    fault_at = next(r.created for r in caplog.records if "FAULT" in r.getMessage())
    failing = wait_for(lambda: [r for r in caplog.records if r.getMessage().startswith("health: asrun ok -> failing")],
                       timeout=10)
    assert len(failing) == 1 and failing[0].created - fault_at < 5.0          # not at the next minute run
    # Space comes back (the aired programme's render is deleted; the operator clears the disk).
    small_disk.free()
    wait_for(lambda: station.asrun.fault is None, timeout=5)
    assert "writable again" in caplog.text
    assert station.handle_request({"cmd": "status"})["asrun"]["fault"] is None
    # Health said the fault once, not once per row or second; the line of its end may or may not
    # have come yet (health's own thread re-checks), but never more than once.
    said = [r.getMessage().split(":")[1].strip() for r in caplog.records if r.getMessage().startswith("health: asrun")]
    assert said in (["asrun ok -> failing"], ["asrun ok -> failing", "asrun failing -> ok"]), said
    station.stop()
    with AsRunLog(folder.state / "asrun.sqlite3") as asrun:
        (written,) = asrun.history()
    assert written.key == row.key and written.id > 0 and written.status is Status.PLAYED


def history_json(folder, capsys) -> list[dict]:
    from broadcaster.cli import main

    assert main(["--lang", "en", "history", "--json", "--schedule", str(folder.path)]) == 0
    return json.loads(capsys.readouterr().out)


def history_table(folder, capsys) -> str:
    from broadcaster.cli import main

    assert main(["--lang", "en", "history", "--schedule", str(folder.path)]) == 0
    return capsys.readouterr().out


def test_a_read_only_state_folder_still_airs_and_answers_the_desk(folder, run_station, small_disk, capsys,
                                                                   monkeypatch):
    import shutil

    from broadcaster.onair.control import ask_daemon, daemon_running, runtime_folders

    folder.state = small_disk.path
    folder.write({"a": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(5), "play": ["a"]}])
    with AsRunLog(folder.state / "asrun.sqlite3") as asrun:    # the station ran here before
        asrun.record(key="Truoc@1", kind="scheduled", slot="Truoc", bulletins=("a",), priority="normal",
                     scheduled=datetime.now(TZ) - timedelta(hours=1), status=Status.PLAYED)
    small_disk.read_only()
    fallback = runtime_folders(folder.state)[1]
    try:
        station = run_station(folder.load())
        assert daemon_running(folder.state)
        assert ask_daemon(folder.state, {"cmd": "status"})["asrun"]["fault"] is not None
        row = wait_for(lambda: [r for r in station.asrun.history() if r.slot == "Sang" and r.status is Status.PLAYED],
                       timeout=20)[0]
        assert abs((row.started - row.scheduled).total_seconds()) < 1.0
        assert [r.slot for r in station.asrun.history()] == ["Truoc", "Sang"]     # the old rows still read
        assert [dominant_hertz(p) for p in folder.aired_files()] == [440]
        # `history` shows the row only the daemon's memory holds, marked; then, with no daemon, from the journal.
        assert [(r["slot"], r["status"], r["pending"]) for r in history_json(folder, capsys)] == [
            ("Truoc", "played", False), ("Sang", "played", True)]
        assert "not written to the log yet" in history_table(folder, capsys)
        later = (row.scheduled + timedelta(seconds=1)).isoformat()
        assert ask_daemon(folder.state, {"cmd": "pending", "to": later})["rows"][0]["slot"] == "Sang"
        assert ask_daemon(folder.state, {"cmd": "pending", "from": later})["rows"] == []
        assert ask_daemon(folder.state, {"cmd": "pending", "from": "06:00"})["ok"] is False   # no date, no zone
        station.stop()
        assert [(r["slot"], r["pending"]) for r in history_json(folder, capsys)] == [("Truoc", False), ("Sang", True)]
    finally:
        small_disk.read_only(False)
        shutil.rmtree(fallback, ignore_errors=True)
        log = folder.state / "asrun.sqlite3"
        Journal(log, default_folders(folder.state)).clear()     # what the read-only disk could not take


def test_hostile_edits_while_running_are_errors_and_the_next_slot_airs_on_time(folder, run_station, caplog):
    import os

    from tests.schedule.test_bounds import alias_bomb

    folder.write({"a": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(8), "play": ["a"]}])
    station = run_station(folder.load())
    good = folder.path.read_text(encoding="utf-8")
    os.mkfifo(folder.folder / "fifo.txt")
    folder.path.write_text(good.replace("bulletins:", f"bulletins:\n  ? {alias_bomb()}\n  : x"), encoding="utf-8")
    wait_for(lambda: "aliases (*name) expand" in caplog.text, timeout=10)
    folder.path.write_text(good.replace("bulletins:", "bulletins:\n  fifo:\n    text_file: fifo.txt"), encoding="utf-8")
    wait_for(lambda: "is a FIFO, not a regular file" in caplog.text, timeout=10)
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.PLAYED], timeout=20)[0]
    assert abs((row.started - row.scheduled).total_seconds()) < 1.0
    assert all(len(r.getMessage()) < 600 for r in caplog.records)


def test_a_pathological_bulletin_added_while_running_does_not_delay_any_slot(folder, run_station, caplog):
    caplog.set_level("INFO", logger="broadcaster.onair")
    later = clock_in(11)
    folder.write({"a": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": later, "play": ["a"]}])
    station = run_station(folder.load())
    (folder.folder / "benh.txt").write_text("1-" * 20_000, encoding="utf-8")   # minutes of work unbounded
    soon = clock_in(2)                        # falls due while the edit is being checked
    folder.write({"a": {"text": "1s 440Hz"}, "b": {"text": "1s 660Hz"}, "benh": {"text_file": "benh.txt"}},
                 [{"name": "Sang", "at": later, "play": ["a"]}, {"name": "Moi", "at": soon, "play": ["b"]}])
    wait_for(lambda: "schedule reloaded" in caplog.text, timeout=15)
    rows = wait_for(lambda: (r := station.asrun.history()) and len([x for x in r if x.status in
                                                                     (Status.PLAYED, Status.LATE)]) == 2 and r,
                    timeout=30)
    moi = [r for r in rows if r.slot == "Moi"]
    sang = [r for r in rows if r.slot == "Sang"]
    assert len(moi) == 1 and moi[0].status in (Status.PLAYED, Status.LATE)      # one row, aired once
    assert [r.status for r in sang] == [Status.PLAYED]
    assert abs((sang[0].started - sang[0].scheduled).total_seconds()) < 1.0
    assert "reading checks stopped after 3 s" in caplog.text or "edited schedule checked" in caplog.text


def test_log_lines_are_in_station_time_and_a_catch_up_says_so(folder, run_station, caplog):
    import logging

    from broadcaster.cli.app import StationTimeFormatter

    formatter = StationTimeFormatter("%(asctime)s %(message)s")
    formatter.zone = TZ
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "on air", None, None)
    record.created = datetime(2023, 1, 16, 6, 0, 0, 12_000, tzinfo=TZ).timestamp()
    assert formatter.format(record) == "2023-01-16T06:00:00.012+07:00 on air"

    now = datetime.now(TZ).replace(microsecond=0)
    if now.hour == 0 and now.minute < 2:
        pytest.skip("a slot in the past would fall on yesterday")
    folder.write({"a": {"text": "1s 440Hz"}},
                 [{"name": "Vua", "at": (now - timedelta(seconds=20)).strftime("%H:%M:%S"), "play": ["a"]}], catch_up=1)
    station = run_station(folder.load())
    wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.LATE], timeout=20)
    assert "catch-up" in caplog.text and "waited for the air" not in caplog.text


def test_a_programme_the_full_disk_cannot_hold_is_rendered_in_memory_and_airs(folder, run_station, small_disk,
                                                                              caplog):
    folder.state = small_disk.path
    folder.write({"a": {"text": "2s 440Hz"}}, [{"name": "Sang", "at": clock_in(5), "play": ["a"]}])
    schedule = folder.load()
    small_disk.fill()                                 # full before anything was rendered
    station = run_station(schedule)
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.PLAYED], timeout=20)[0]
    assert abs((row.started - row.scheduled).total_seconds()) < 1.0
    assert [dominant_hertz(p) for p in folder.aired_files()] == [440]
    assert "rendering in memory" in caplog.text or "rendered in memory" in caplog.text
    assert station.asrun.fault is not None          # the row waits for the disk, the programme did not
