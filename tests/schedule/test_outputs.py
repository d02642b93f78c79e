"""Outputs, zones, stream, secrets and relays in schedule.yaml: values and problems at their place."""

import dataclasses
import os
import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from broadcaster import i18n
from broadcaster.schedule import check_schedule, load_schedule
from broadcaster.schedule.outputs import IcecastMount, parse_duration, parse_icecast, redact
from broadcaster.problems import WARNING
from broadcaster.schedule.snapshot import load_snapshot, save_snapshot
from tests.schedule.conftest import BASE

SECRET = "kin-dao-0"     # never to appear in any message

STATION = """\
station:
  name: Đài thử
  outputs:
    - default
    - icecast://source@127.0.0.1:8000/vinh-quang.mp3
  zones:
    thon-dong: icecast://source@127.0.0.1:8000/thon-dong.mp3
    thon-tay: icecast://source@127.0.0.1:8000/thon-tay.mp3
  stream: {format: opus, bitrate: 48}
  secrets: secrets.yaml
  relay_gap: 20
bulletins:
  tin-a:
    text: Xin chào bà con.
  vov1:
    title: Thời sự VOV1
    relay: https://example.invalid/vov1/playlist.m3u8
    duration: 1h30m
slots:
  - name: Sáng
    at: "06:00"
    play: [tin-a]
  - name: Tiếp sóng
    at: "07:00"
    play: [vov1]
    zones: [thon-dong]
"""


@pytest.fixture
def secrets(station_dir):
    path = station_dir / "secrets.yaml"
    path.write_text(f'passwords:\n  "source@127.0.0.1:8000": "{SECRET}"\n', encoding="utf-8")
    path.chmod(0o600)
    return path


def problems_of(path):
    schedule, problems = check_schedule(path)
    return schedule, [(p.line, p.column, p.key) for p in problems]


def test_full_station_reads_every_value(write_schedule, secrets):
    schedule, problems = problems_of(write_schedule(STATION))
    assert problems == []
    station = schedule.station
    assert station.outputs == ("default", "icecast://source@127.0.0.1:8000/vinh-quang.mp3")
    assert station.output == "default"
    assert station.zones == {"thon-dong": "icecast://source@127.0.0.1:8000/thon-dong.mp3",
                             "thon-tay": "icecast://source@127.0.0.1:8000/thon-tay.mp3"}
    assert (station.stream.format, station.stream.bitrate) == ("opus", 48)
    assert station.passwords == {"source@127.0.0.1:8000": SECRET}
    assert station.relay_gap == 20
    assert SECRET not in repr(station)
    relay = schedule.bulletins["vov1"]
    assert relay.relay == "https://example.invalid/vov1/playlist.m3u8"
    assert relay.duration == timedelta(hours=1, minutes=30)
    assert schedule.slot("Tiếp sóng").zones == ("thon-dong",)
    assert schedule.slot("Sáng").zones == ()


def test_relay_notice_is_the_stations_own(write_schedule, secrets):
    text = STATION.replace("  relay_gap: 20\n", "  relay_gap: 20\n  relay_notice: Đài xã đang nối lại sóng VOV.\n")
    assert load_schedule(write_schedule(text)).station.relay_notice == "Đài xã đang nối lại sóng VOV."
    assert load_schedule(write_schedule(STATION)).station.relay_notice.startswith("Đài truyền thanh")


def test_v1_output_is_a_one_item_list(write_schedule):
    schedule = load_schedule(write_schedule(BASE.replace("  name: Đài thử", "  name: Đài thử\n  output: file:aired")))
    assert schedule.station.outputs == (schedule.station.output,)
    assert schedule.station.output == "file:" + str(schedule.folder / "aired")
    assert load_schedule(write_schedule(BASE)).station.outputs == ("default",)


def test_round_trip_through_the_snapshot_rereads_passwords(write_schedule, secrets):
    schedule = load_schedule(write_schedule(STATION))
    save_snapshot(schedule)
    restored = load_snapshot(schedule.path)
    assert restored == dataclasses.replace(schedule, warnings=())
    assert restored.station.passwords == {"source@127.0.0.1:8000": SECRET}
    assert SECRET not in (schedule.folder / "var" / "last-good-schedule.yaml.json").read_text(encoding="utf-8")


CASES = [
    ("relay-without-duration", STATION.replace("    duration: 1h30m\n", ""), [(15, 3, "relay.no_duration")]),
    ("malformed-duration", STATION.replace("1h30m", "90 phút"), [(18, 15, "duration.invalid")]),
    ("duration-as-bare-number", STATION.replace("1h30m", "90"), [(18, 15, "duration.invalid")]),
    ("duration-on-a-text", STATION.replace("    text: Xin chào bà con.", "    text: Xin chào.\n    duration: 5m"),
     [(15, 5, "duration.not_relay")]),
    ("file-scheme", STATION.replace("https://example.invalid/vov1/playlist.m3u8", "file:///srv/vov.mp3"),
     [(17, 12, "relay.scheme")]),
    ("local-path", STATION.replace("https://example.invalid/vov1/playlist.m3u8", "audio/vov.mp3"),
     [(17, 12, "relay.scheme")]),
    ("rtsp-scheme", STATION.replace("https://example.invalid/", "rtsp://example.invalid/"),
     [(17, 12, "relay.scheme")]),
    ("relay-and-text", STATION.replace("    title: Thời sự VOV1", "    text: x"), [(15, 3, "bulletin.source")]),
    ("unknown-zone", STATION.replace("zones: [thon-dong]", "zones: [thon-dong, thon-bac]"),
     [(26, 24, "slot.unknown_zone")]),
    ("password-in-output", STATION.replace("icecast://source@127.0.0.1:8000/vinh-quang.mp3",
                                           f"icecast://source:{SECRET}@127.0.0.1:8000/vinh-quang.mp3"),
     [(5, 7, "url.password")]),
    ("password-in-zone", STATION.replace("icecast://source@127.0.0.1:8000/thon-tay.mp3",
                                         f"icecast://source:{SECRET}@127.0.0.1:8000/thon-tay.mp3"),
     [(8, 15, "url.password")]),
    ("password-in-relay", STATION.replace("https://example.invalid/", f"https://u:{SECRET}@example.invalid/"),
     [(17, 12, "url.password")]),
    ("output-without-mount", STATION.replace("8000/vinh-quang.mp3", "8000"), [(5, 7, "output.icecast_invalid")]),
    ("output-bad-port", STATION.replace("8000/vinh-quang.mp3", "80x0/a.mp3"), [(5, 7, "output.icecast_invalid")]),
    ("output-without-user", STATION.replace("icecast://source@127.0.0.1:8000/vinh", "icecast://127.0.0.1:8000/vinh"),
     [(5, 7, "output.icecast_invalid")]),
    ("output-http-scheme", STATION.replace("icecast://source@127.0.0.1:8000/vinh", "http://127.0.0.1:8000/vinh"),
     [(5, 7, "output.scheme")]),
    ("zone-not-a-url", STATION.replace("icecast://source@127.0.0.1:8000/thon-tay.mp3", "thon-tay.mp3"),
     [(8, 15, "zone.not_icecast")]),
    ("output-and-outputs", STATION.replace("  outputs:", "  output: default\n  outputs:"), [(4, 3, "output.both")]),
    ("no-secrets", STATION.replace("  secrets: secrets.yaml\n", ""), [(5, 7, "secrets.none")]),
    ("password-missing-for-server", STATION.replace("127.0.0.1:8000/thon-tay", "127.0.0.2:8000/thon-tay"),
     [(8, 15, "secrets.missing_password")]),
    ("relay-with-a-text", STATION.replace("play: [vov1]", "play: [tin-a, vov1]"), [(25, 11, "slot.relay_alone")]),
    ("bad-stream-format", STATION.replace("format: opus", "format: aac"), [(9, 20, "choice.invalid")]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_reported_at_its_place(write_schedule, secrets, text, expected):
    path = write_schedule(text)
    schedule, problems = problems_of(path)
    assert schedule is None
    assert problems == expected
    i18n.set_language("en")
    try:
        assert all(SECRET not in p.format() for p in check_schedule(path)[1])
    finally:
        i18n.set_language(None)


def test_secrets_readable_by_others_is_an_error(write_schedule, secrets):
    secrets.chmod(0o644)
    path = write_schedule(STATION)
    schedule, problems = check_schedule(path)
    assert schedule is None
    assert [(p.line, p.column, p.key) for p in problems] == [(10, 12, "secrets.readable")]
    i18n.set_language("en")
    try:
        assert problems[0].format() == (f"{path}:10:12: error: the secrets file 'secrets.yaml' can be read "
                                        "by others (mode 0644): run chmod 600 'secrets.yaml'")
    finally:
        i18n.set_language(None)


def test_broken_secrets_file_points_into_itself_without_its_values(write_schedule, secrets):
    secrets.write_text(f'passwords:\n  source@127.0.0.1: "{SECRET}"\n  "a@b:1": ""\n', encoding="utf-8")
    os.chmod(secrets, 0o600)
    _, problems = check_schedule(write_schedule(STATION))
    assert [(p.path, p.line, p.column, p.key) for p in problems] == [
        (secrets, 2, 3, "secrets.key"), (secrets, 3, 3, "secrets.value")]
    assert all(SECRET not in p.format() for p in problems)


def test_overlap_warning_uses_the_relay_duration(write_schedule, secrets):
    text = STATION + '  - name: Trưa\n    at: "08:20"\n    play: [tin-a]\n'
    schedule, problems = check_schedule(write_schedule(text))
    assert [(p.key, p.severity, p.params["first"], p.params["second"]) for p in problems] == [
        ("slot.overlap", WARNING, "Tiếp sóng", "Trưa")]
    later = STATION + '  - name: Trưa\n    at: "08:30"\n    play: [tin-a]\n'
    assert check_schedule(write_schedule(later))[1] == []


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("1h", 3600),
                                           ("2h0m5s", 7205), ("0s", None), ("", None), ("25h", None),
                                           ("30", None), ("m30", None)])
def test_durations(text, seconds):
    expected = timedelta(seconds=seconds) if seconds is not None else None
    assert parse_duration(text) == expected


def test_icecast_urls():
    mount = parse_icecast("icecast://source@10.0.0.5/thon-dong.mp3")
    assert mount == IcecastMount("source", "10.0.0.5", 8000, "/thon-dong.mp3")
    assert mount.key == "source@10.0.0.5:8000"
    assert mount.listen_url == "http://10.0.0.5:8000/thon-dong.mp3"
    assert redact(f"icecast://source:{SECRET}@h:8000/m") == "icecast://source:***@h:8000/m"


def test_readme_icecast_example_validates(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if "zones:" in b)
    (tmp_path / "schedule.yaml").write_text(block, encoding="utf-8")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f'passwords:\n  "source@127.0.0.1:8000": "{SECRET}"\n', encoding="utf-8")
    secrets.chmod(0o600)
    schedule, problems = check_schedule(tmp_path / "schedule.yaml")
    assert [p.format() for p in problems] == []
    assert schedule.slot("Tiếp sóng thời sự sáng").zones == ("thon-dong",)
    config = ElementTree.fromstring(re.search(r"```xml\n(.*?)```", readme, flags=re.S).group(1))
    assert config.findtext("limits/burst-on-connect") == "0"
    assert config.findtext("listen-socket/bind-address") == "127.0.0.1"
