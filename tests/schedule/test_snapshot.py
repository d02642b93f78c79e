"""The last good schedule survives a round trip through its JSON snapshot unchanged."""

import dataclasses

from broadcaster.schedule import load_schedule
from broadcaster.schedule.snapshot import load_snapshot, save_snapshot, snapshot_path
from tests.schedule.conftest import BASE


def test_round_trip_is_exact(write_schedule):
    text = BASE.replace("  name: Đài thử", "  name: Đài thử\n  loudness: -18\n  catch_up: 5\n"
                        "  speech:\n    engines: [espeak-ng]\n  programme:\n    repeat_bridge: Xin nghe lại") \
        .replace("    text: Xin chào bà con.", "    text: Xin chào bà con.\n    priority: emergency\n    repeat: 2") \
        .replace('    at: "06:00"', '    at: ["06:00", "17:30:05"]\n    days: [t2, cn]\n    from: 2023-01-16\n'
                 '    except: ["2023-01-20..2023-01-26", 2023-02-01]')
    text += '  - name: Một lần\n    dates: [2023-03-08]\n    at: "19:00"\n    enabled: false\n    play: [tin-b]\n'
    schedule = load_schedule(write_schedule(text))
    path = save_snapshot(schedule)
    assert path == snapshot_path(schedule.path) == schedule.folder / "var" / "last-good-schedule.yaml.json"
    assert load_snapshot(schedule.path) == dataclasses.replace(schedule, warnings=())


def test_missing_or_corrupt_snapshot_is_none(write_schedule):
    schedule = load_schedule(write_schedule(BASE))
    assert load_snapshot(schedule.path) is None
    save_snapshot(schedule).write_text("{not json", encoding="utf-8")
    assert load_snapshot(schedule.path) is None
