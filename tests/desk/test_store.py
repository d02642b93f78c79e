"""The schedule editor: round-trip bytes, validation before writing, stale edits, history, atomicity."""

from __future__ import annotations

import difflib
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from broadcaster.desk.store import DeskError, ScheduleStore
from broadcaster.schedule import load_schedule


def changed_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.fixture
def store(station) -> ScheduleStore:
    return ScheduleStore(station.path, station.state)


def test_editing_one_slot_time_changes_that_line_only(station, store):
    saved = store.save_slot("Bản tin sáng", {"name": "Bản tin sáng", "at": "06:30", "days": ["t2", "t3", "t4", "t5", "t6"],
                                             "play": ["tin-sang", "tin-file"]},
                            who="binh", expected=store.version(), create=False)
    assert changed_lines(station.original, station.path.read_bytes()) == ['-    at: "06:00"', '+    at: "06:30"']
    assert load_schedule(station.path).slot("Bản tin sáng").at[0].isoformat() == "06:30:00"
    assert saved.version == store.version()


def test_unchanged_edit_writes_identical_bytes(station, store):
    store.save_slot("Bản tin tối", {"name": "Bản tin tối", "at": ["19:00", "20:30"], "days": ["cn"],
                                    "except": ["2023-01-20..2023-01-26"], "play": ["tin-sang"]},
                    who="binh", expected=store.version(), create=False)
    store.save_bulletin("tin-le", {"title": "Tin lẻ", "text": "Xin chào bà con.", "repeat": 2},
                        who="binh", expected=store.version(), create=False)
    assert station.path.read_bytes() == station.original


def test_new_bulletin_text_goes_to_its_own_file(station, store):
    store.save_bulletin("tin-moi", {"title": "Tin mới", "text": "Họp dân lúc 19h30."}, who="binh",
                        expected=None, create=True)
    assert (station.folder / "bulletins" / "tin-moi.txt").read_text(encoding="utf-8") == "Họp dân lúc 19h30.\n"
    added = changed_lines(station.original, station.path.read_bytes())
    assert added == ["+  tin-moi:", "+    title: Tin mới", "+    text_file: bulletins/tin-moi.txt"]
    assert load_schedule(station.path).bulletins["tin-moi"].text == "Họp dân lúc 19h30.\n"


def test_text_file_bulletin_edit_rewrites_the_text_file_only(station, store):
    store.save_bulletin("tin-file", {"title": "Tin từ tệp", "text": "Lịch mới."}, who="binh",
                        expected=store.version(), create=False)
    assert station.path.read_bytes() == station.original
    assert (station.folder / "bulletins" / "tin-file.txt").read_text(encoding="utf-8") == "Lịch mới.\n"


def test_new_slot_times_are_quoted_and_dates_plain(station, store):
    store.save_slot("Họp dân", {"name": "Họp dân", "at": "20:00", "dates": ["2030-03-08"], "play": ["tin-le"]},
                    who="binh", expected=None, create=True)
    text = station.path.read_text(encoding="utf-8")
    assert '  - name: Họp dân\n    at: "20:00"\n    dates: [2030-03-08]\n    play: [tin-le]\n' in text
    assert load_schedule(station.path).slot("Họp dân").at[0].isoformat() == "20:00:00"


def test_invalid_change_is_refused_with_the_loaders_problems_and_nothing_written(station, store):
    with pytest.raises(DeskError) as refused:
        store.save_slot("Bản tin sáng", {"name": "Bản tin sáng", "at": "25:00", "days": ["t9"], "play": ["khong-co"]},
                        who="binh", expected=store.version(), create=False)
    assert refused.value.status == 422
    assert [(p["field"], p["key"]) for p in refused.value.problems] == [
        ("at", "time.invalid"), ("days", "day.unknown"), ("play", "slot.unknown_bulletin")]
    assert all(p["file"] == "schedule.yaml" and p["line"] > 0 for p in refused.value.problems)
    assert station.path.read_bytes() == station.original
    assert not list(station.folder.glob(".*.tmp")) and not list(station.folder.glob("**/.*.tmp"))


def test_stale_edit_is_refused_after_a_hand_edit_of_the_file_or_a_text_file(station, store):
    version = store.version()
    (station.folder / "bulletins" / "tin-file.txt").write_text("Sửa tay.\n", encoding="utf-8")
    with pytest.raises(DeskError) as refused:
        store.save_bulletin("tin-le", {"title": "Khác", "text": "Xin chào."}, who="binh", expected=version,
                            create=False)
    assert refused.value.status == 409
    assert (station.folder / "bulletins" / "tin-file.txt").read_text(encoding="utf-8") == "Sửa tay.\n"
    station.path.write_bytes(station.original + "# sửa tay\n".encode())
    with pytest.raises(DeskError):
        store.delete_slot("Bản tin tối", who="binh", expected=version)
    assert station.path.read_bytes().endswith("# sửa tay\n".encode())


def test_delete_of_a_bulletin_a_slot_plays_names_the_slot(store):
    with pytest.raises(DeskError) as refused:
        store.delete_bulletin("tin-sang", who="binh", expected=store.version())
    assert refused.value.status == 409 and "Bản tin sáng, Bản tin tối" in str(refused.value)


@pytest.mark.parametrize("name", ["../etc", "a/b", "..", "x\\y", "tin\n"])
def test_names_that_could_be_paths_are_refused(store, name):
    with pytest.raises(DeskError) as refused:
        store.save_bulletin(name, {"text": "x"}, who="binh", expected=None, create=True)
    assert refused.value.status == 400
    with pytest.raises(DeskError):
        store.save_slot(name, {"name": name, "at": "06:00", "play": ["tin-le"]}, who="binh", expected=None, create=True)


def test_history_keeps_who_and_restore_brings_back_the_bytes(station, store):
    store.delete_slot("Bản tin tối", who="binh", expected=store.version())
    store.save_bulletin("tin-file", {"title": "Tin từ tệp", "text": "Đổi."}, who="an", expected=store.version(),
                        create=False)
    versions = store.versions()
    assert [(v.who, v.files) for v in versions] == [("an", ("schedule.yaml", "bulletins/tin-file.txt")),
                                                    ("binh", ("schedule.yaml",))]
    store.restore(versions[1].id, who="an", expected=store.version())
    assert station.path.read_bytes() == station.original
    assert store.versions()[1].who == "an"
    store.restore(store.versions()[1].id, who="an", expected=store.version())   # the text file too
    assert (station.folder / "bulletins" / "tin-file.txt").read_text(encoding="utf-8") == "Lịch tiêm chủng ngày 5/9.\n"


SAVER = """
import sys
from pathlib import Path
from broadcaster.desk.store import ScheduleStore
store = ScheduleStore(Path(sys.argv[1]), Path(sys.argv[2]))
print("ready", flush=True)
n = 0
while True:
    n += 1
    text = "Tin lần " + str(n) + ". " + "Bà con chú ý. " * 400
    store.save_bulletin("tin-le", {"title": "Tin lẻ", "text": text, "repeat": 2}, who="kill", expected=store.version(),
                        create=False)
"""


def test_kill_9_mid_save_leaves_the_old_or_the_new_file_never_half(station):
    """A saver rewrites a long inline text as fast as it can; kill -9 at random moments, then check."""
    import random

    for attempt in range(4):
        process = subprocess.Popen([sys.executable, "-c", SAVER, str(station.path), str(station.state)],
                                   stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout.readline().strip() == "ready"
            time.sleep(0.2 + random.random() * 0.5)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        document = yaml.safe_load(station.path.read_text(encoding="utf-8"))
        text = document["bulletins"]["tin-le"]["text"]
        assert text == "Xin chào bà con." or (text.startswith("Tin lần ") and text.count("Bà con chú ý.") == 400)
        assert load_schedule(station.path).bulletins["tin-le"].repeat == 2


def test_the_loaded_schedule_carries_the_version_of_its_bytes(station, store):
    import hashlib

    from broadcaster.schedule.snapshot import load_snapshot, save_snapshot

    schedule = load_schedule(station.path)
    assert schedule.version == hashlib.sha256(station.original).hexdigest()
    save_snapshot(schedule)
    assert load_snapshot(station.path).version == schedule.version


def test_a_refused_edit_never_leaks_into_the_next_save(station, store):
    slot = {"name": "Bản tin sáng", "at": "06:30", "days": ["t2", "t3", "t4", "t5", "t6"], "play": ["tin-sang", "tin-file"]}
    store.save_slot("Bản tin sáng", slot, who="binh", expected=store.version(), create=False)
    with pytest.raises(DeskError):
        store.save_slot("Bản tin sáng", {**slot, "at": "99:99"}, who="binh", expected=store.version(), create=False)
    store.save_bulletin("tin-le", {"title": "Tin lẻ mới", "text": "Xin chào bà con.", "repeat": 2}, who="binh",
                        expected=store.version(), create=False)
    text = station.path.read_text(encoding="utf-8")
    assert '"06:30"' in text and "99:99" not in text and "Tin lẻ mới" in text


EDITS = [
    ("slots", 0, {"at": "06:30"}),
    ("slots", 0, {"name": "Bản tin sớm", "play": ["tin-file", "tin-sang", "tin-le"]}),
    ("slots", 1, {"days": ["t7", "cn"], "enabled": False}),        # the last slot: its trailing lines
    ("bulletins", "tin-sang", {"title": "Tin sáng mới", "text": "Dòng một.\nDòng hai.\n"}),
    ("bulletins", "tin-file", {"title": "Tin từ tệp (sửa)"}),
    ("bulletins", "tin-le", {"repeat": 3, "priority": "priority"}),   # the last bulletin, before `slots:`
]


@pytest.mark.parametrize("section, key, change", EDITS, ids=[f"{s}-{k}-{'-'.join(c)}" for s, k, c in EDITS])
def test_an_edit_spliced_in_is_byte_for_byte_the_whole_dump(station, store, section, key, change):
    """A save dumps only the edited item and splices its lines in: exactly what dumping the whole
    commented, hand-written file gives, without ruamel's cost of dumping every bulletin."""
    from broadcaster.desk.store import _dump, _plain, _slot_value, _splice

    yaml, document, raw = store.load()
    before = _plain(document[section][key])
    for field, value in change.items():
        document[section][key][field] = _slot_value(field, value) if section == "slots" else value
    spliced = _splice(yaml, document, raw.decode(), (section, key), before)
    assert spliced is not None and spliced == _dump(yaml, document)


def test_a_document_read_ahead_never_hides_a_hand_edit_made_after_it(station, store):
    """The desk reads the round-trip document ahead of the next save (`warm`); a hand edit made
    after that is what the save edits, comment and all, never the copy read before it."""
    store.warm()
    hand = station.path.read_text(encoding="utf-8").replace("  tin-le:", "  # thêm tay\n  tin-le:")
    station.path.write_text(hand, encoding="utf-8")
    store.save_slot("Bản tin sáng", {"name": "Bản tin sáng", "at": "06:30", "days": ["t2", "t3", "t4", "t5", "t6"],
                                     "play": ["tin-sang", "tin-file"]}, who="binh", expected=store.version(),
                    create=False)
    assert changed_lines(hand.encode(), station.path.read_bytes()) == ['-    at: "06:00"', '+    at: "06:30"']


def test_an_item_holding_an_anchor_others_alias_is_saved_whole(station, store):
    """A slot whose `days` is an anchor another slot aliases: dumped alone it would lose the anchor
    and leave the alias undefined (the save refused with a YAML error); the whole file is dumped."""
    text = station.path.read_text(encoding="utf-8")
    text = text.replace("days: [t2, t3, t4, t5, t6]", "days: &weekdays [t2, t3, t4, t5, t6]")
    text = text.replace("days: [cn]", "days: *weekdays")
    station.path.write_text(text, encoding="utf-8")
    store.save_slot("Bản tin sáng", {"name": "Bản tin sáng", "at": "06:30", "days": ["t2", "t3", "t4", "t5", "t6"],
                                     "play": ["tin-sang", "tin-file"]},
                    who="binh", expected=store.version(), create=False)
    after = station.path.read_bytes()
    assert changed_lines(text.encode(), after) == ['-    at: "06:00"', '+    at: "06:30"']
    schedule = load_schedule(station.path)
    assert schedule.slot("Bản tin tối").days == schedule.slot("Bản tin sáng").days
