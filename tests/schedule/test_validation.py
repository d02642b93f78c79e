"""Every validation error is reported at its line and column, all at once."""

import pytest

from broadcaster import i18n
from broadcaster.errors import ScheduleError
from broadcaster.schedule import check_schedule, load_schedule
from broadcaster.problems import WARNING
from tests.schedule.conftest import BASE


def problems_of(path):
    schedule, problems = check_schedule(path)
    return schedule, [(p.line, p.column, p.key) for p in problems]


def test_base_schedule_is_valid(write_schedule):
    schedule, problems = problems_of(write_schedule(BASE))
    assert problems == []
    assert schedule.station.name == "Đài thử"
    assert schedule.bulletins["tin-b"].text == "Thông báo lịch tiêm chủng.\n"
    assert schedule.bulletins["tin-b"].text_file.name == "b.txt"
    assert schedule.station.state_dir == schedule.folder / "var"


CASES = [
    ("yaml-syntax", BASE.replace('    at: "06:00"', '    at: ["06:00"'), [(13, 5, "yaml.syntax")]),
    ("unknown-top-key", BASE + "slot:\n  - x\n", [(14, 1, "key.unknown")]),
    ("unknown-station-key", BASE.replace("  name: Đài thử", "  name: Đài thử\n  timezne: UTC"),
     [(3, 3, "key.unknown")]),
    ("unknown-slot-key", BASE.replace('    at: "06:00"', '    at: "06:00"\n    dayz: [t2]'),
     [(13, 5, "key.unknown")]),
    ("impossible-time", BASE.replace('"06:00"', '["06:00", "24:30"]'), [(12, 19, "time.invalid")]),
    ("time-not-a-time", BASE.replace('"06:00"', "sáu giờ"), [(12, 9, "time.invalid")]),
    ("unknown-weekday", BASE.replace('    at: "06:00"', '    at: "06:00"\n    days: [t2, t8]'),
     [(13, 16, "day.unknown")]),
    ("invalid-timezone", BASE.replace("  name: Đài thử", "  name: Đài thử\n  timezone: Asia/Hanoi"),
     [(3, 13, "timezone.invalid")]),
    ("until-before-from",
     BASE.replace('    at: "06:00"', '    at: "06:00"\n    from: 2023-05-01\n    until: 2023-04-30'),
     [(14, 12, "window.reversed")]),
    ("unknown-bulletin", BASE.replace("play: [tin-a]", "play: [tin-a, tin-c]"), [(13, 19, "slot.unknown_bulletin")]),
    ("missing-jingle-file", BASE.replace("audio/intro.wav", "audio/khong-co.wav"), [(4, 12, "file.missing")]),
    ("missing-text-file", BASE.replace("bulletins/b.txt", "bulletins/c.txt"), [(9, 16, "file.missing")]),
    ("missing-audio-file", BASE.replace("text_file: bulletins/b.txt", "audio: audio/ghi-am.mp3"),
     [(9, 12, "file.missing")]),
    ("empty-text", BASE.replace("text: Xin chào bà con.", 'text: "  "'), [(7, 11, "bulletin.empty_text")]),
    ("no-source", BASE.replace("    text: Xin chào bà con.\n", "    title: Không nội dung\n"),
     [(6, 3, "bulletin.source")]),
    ("two-sources", BASE.replace("    text: Xin chào bà con.\n", "    text: a\n    audio: audio/intro.wav\n"),
     [(6, 3, "bulletin.source")]),
    ("duplicate-slot-name", BASE + '  - name: Sáng\n    at: "17:00"\n    play: [tin-b]\n',
     [(14, 5, "slot.duplicate_name")]),
    ("file-outside-folder", BASE.replace("bulletins/b.txt", "../b.txt"), [(9, 16, "file.outside")]),
    ("absolute-path-outside", BASE.replace("bulletins/b.txt", "/etc/hostname"), [(9, 16, "file.outside")]),
    ("unknown-priority", BASE.replace("    text: Xin chào bà con.", "    text: Xin chào.\n    priority: urgent"),
     [(8, 15, "choice.invalid")]),
    ("repeat-out-of-range", BASE.replace("    text: Xin chào bà con.", "    text: Xin chào.\n    repeat: 0"),
     [(8, 13, "number.range")]),
    ("unknown-jingle", BASE.replace("    text: Xin chào bà con.", "    text: Xin chào.\n    intro: intr"),
     [(8, 12, "bulletin.unknown_jingle")]),
    ("bad-date", BASE.replace('    at: "06:00"', '    at: "06:00"\n    dates: [2023-02-30]'), [(13, 13, "date.invalid")]),
    ("reversed-range", BASE.replace('    at: "06:00"', '    at: "06:00"\n    except: ["2023-01-26..2023-01-20"]'),
     [(13, 14, "range.reversed")]),
    ("days-and-dates",
     BASE.replace('    at: "06:00"', '    at: "06:00"\n    days: [t2]\n    dates: [2023-01-18]'),
     [(14, 5, "slot.days_and_dates")]),
    ("duplicate-bulletin-id", BASE.replace("  tin-b:", "  tin-a:\n    text: lặp\n  tin-b:"),
     [(8, 3, "yaml.duplicate_key")]),
    ("missing-sections", "station:\n  name: x\n", [(1, 1, "key.missing"), (1, 1, "key.missing")]),
    ("empty-station", BASE.replace("station:\n  name: Đài thử\n  jingles:\n    intro: audio/intro.wav\n", "station:\n"),
     [(1, 1, "key.missing")]),
    ("empty-at", BASE.replace('"06:00"', "[]"), [(12, 9, "slot.empty_at")]),
    ("empty-days", BASE.replace('    at: "06:00"', '    at: "06:00"\n    days: []'), [(13, 11, "slot.no_days")]),
    ("empty-dates", BASE.replace('    at: "06:00"', '    at: "06:00"\n    dates: []'), [(13, 12, "slot.no_dates")]),
    ("date-not-a-scalar", BASE.replace('    at: "06:00"', '    at: "06:00"\n    from: [2024-01-01]'),
     [(13, 11, "type.string")]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_error_is_reported_at_its_place(write_schedule, text, expected):
    schedule, problems = problems_of(write_schedule(text))
    assert schedule is None
    assert problems == expected


def test_all_problems_are_reported_at_once(write_schedule):
    text = (BASE.replace("  name: Đài thử", "  name: Đài thử\n  timezone: Mars/Base")
            .replace('"06:00"', '"6:75"').replace("play: [tin-a]", "play: [tin-x]"))
    schedule, problems = problems_of(write_schedule(text))
    assert [key for _, _, key in problems] == ["timezone.invalid", "time.invalid", "slot.unknown_bulletin"]


def test_did_you_mean_for_typos(write_schedule):
    path = write_schedule(BASE.replace('    at: "06:00"', '    at: "06:00"\n    untill: 2023-12-31'))
    i18n.set_language("en")
    try:
        _, problems = check_schedule(path)
        assert problems[0].format() == (
            f"{path}:13:5: error: unknown key 'untill' in slot 'Sáng' (did you mean 'until'?)")
    finally:
        i18n.set_language(None)


def test_messages_are_vietnamese_by_default(write_schedule, monkeypatch):
    monkeypatch.delenv("BROADCASTER_LANG", raising=False)
    path = write_schedule(BASE.replace("play: [tin-a]", "play: [tin-c]"))
    _, problems = check_schedule(path)
    assert problems[0].format() == (
        f"{path}:13:12: lỗi: khung giờ 'Sáng' phát bản tin không có trong 'bulletins': 'tin-c'"
        " (có phải ý bạn là 'tin-b'?)")


def test_load_schedule_raises_with_every_problem(write_schedule):
    path = write_schedule(BASE.replace('"06:00"', '["25:00", "26:00"]'))
    with pytest.raises(ScheduleError) as raised:
        load_schedule(path)
    assert [p.column for p in raised.value.problems] == [10, 19]


def test_missing_file_is_a_problem_not_a_crash(station_dir):
    _, problems = check_schedule(station_dir / "khong-co.yaml")
    assert [p.key for p in problems] == ["schedule.not_found"]


def test_overlapping_slots_are_warnings_naming_both(write_schedule):
    text = BASE + '  - name: Chiều\n    at: "06:00:05"\n    play: [tin-b]\n'
    schedule, problems = check_schedule(write_schedule(text))
    assert schedule is not None
    assert [(p.line, p.key, p.severity) for p in problems] == [(14, "slot.overlap", WARNING)]
    assert problems[0].params["first"] == "Sáng" and problems[0].params["second"] == "Chiều"
    assert schedule.warnings == tuple(problems)


def test_slots_on_different_days_do_not_overlap(write_schedule):
    text = (BASE.replace('    at: "06:00"', '    at: "06:00"\n    days: [t2]')
            + '  - name: Chiều\n    at: "06:00"\n    days: [t3]\n    play: [tin-b]\n')
    schedule, problems = check_schedule(write_schedule(text))
    assert problems == []


def test_unquoted_times_and_station_settings(write_schedule):
    text = BASE.replace('"06:00"', "[06:00, 17:30:15]").replace(
        "  name: Đài thử",
        "  name: Đài thử\n  loudness: -18\n  voicing: flat\n  output: file:aired\n  catch_up: 5\n"
        "  speech:\n    engines: [espeak-ng]\n    espeak_speed: 120\n"
        "  programme:\n    repeat_bridge: Xin nghe lại\n    pause_between_readings: 2")
    schedule = load_schedule(write_schedule(text))
    station = schedule.station
    assert [t.isoformat() for t in schedule.slots[0].at] == ["06:00:00", "17:30:15"]
    assert (station.loudness, station.voicing) == (-18, "flat")
    assert station.output == f"file:{schedule.folder / 'aired'}"
    assert station.catch_up.total_seconds() == 300
    assert station.speech.engines == ("espeak-ng",) and station.speech.espeak_speed == 120
    assert station.programme.repeat_bridge == "Xin nghe lại"
    assert station.programme.pause_between_readings == 2


def test_intro_none_and_priority(write_schedule):
    text = BASE.replace("    text: Xin chào bà con.",
                        "    text: Bão số 3.\n    priority: emergency\n    intro: none\n    repeat: 3")
    bulletin = load_schedule(write_schedule(text)).bulletins["tin-a"]
    assert (bulletin.intro, bulletin.priority.label, bulletin.repeat) == ("none", "emergency", 3)


def test_root_schedule_is_valid():
    from pathlib import Path
    schedule, problems = check_schedule(Path(__file__).resolve().parents[2] / "schedule.yaml")
    assert [p.format() for p in problems] == []
    assert len(schedule.bulletins) == 5
    assert all(b.text for b in schedule.bulletins.values())


def test_unreadable_text_is_a_warning_at_its_place(write_schedule, station_dir):
    (station_dir / "bulletins" / "b.txt").write_text("Dòng một.\nLiên hệ XYZQ ngay.\n", encoding="utf-8")
    text = BASE.replace("    text: Xin chào bà con.", "    text: |\n      Thông báo.\n      Gặp ông QWXZ nhé.")
    path = write_schedule(text)
    schedule, problems = check_schedule(path)
    assert schedule is not None
    assert [(p.path.name, p.line, p.column, p.key, p.params["token"]) for p in problems] == [
        ("b.txt", 2, 9, "text.unreadable", "XYZQ"),
        ("schedule.yaml", 9, 15, "text.unreadable", "QWXZ"),
    ]
    assert all(p.severity == WARNING for p in problems)


def test_pronunciation_dictionary_problems_are_schedule_errors(write_schedule, station_dir):
    (station_dir / "tu-dien.yaml").write_text("VQ: Vinh Quang\nXY: ''\n", encoding="utf-8")
    path = write_schedule(BASE.replace("  name: Đài thử", "  name: Đài thử\n  pronunciations: tu-dien.yaml"))
    schedule, problems = check_schedule(path)
    assert schedule is None
    assert [(p.path.name, p.line) for p in problems] == [("tu-dien.yaml", 2)]


def test_bulletin_ids_match_as_written(write_schedule):
    text = BASE.replace("  tin-a:", "  01:").replace("play: [tin-a]", 'play: ["01"]')
    schedule, problems = check_schedule(write_schedule(text))
    assert problems == [] and schedule.slots[0].play == ("01",) and "01" in schedule.bulletins


@pytest.mark.parametrize("text, where", [
    ('    text: "Xin mời ABCQ nhé."', (7, 20)),
    ("    text: Xin mời ABCQ nhé.", (7, 19)),
    ("    text: |\n      Dòng một.\n        Thụt vào ABCQ.", (9, 18)),
    ("    text: >\n      Dòng một\n      và ABCQ.", (7, 11)),       # folded: the scalar's start
], ids=["double-quoted", "plain", "literal-block-indented-line", "folded"])
def test_text_warnings_point_at_the_token(write_schedule, text, where):
    path = write_schedule(BASE.replace("    text: Xin chào bà con.", text))
    _, problems = check_schedule(path)
    assert [(p.line, p.column, p.params["token"]) for p in problems] == [(*where, "ABCQ")]
