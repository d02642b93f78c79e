"""`broadcaster say` through `broadcaster.cli.main`, offline and online, text and bulletin."""

from __future__ import annotations

import json

import pytest
import requests

from broadcaster.cli import main
from broadcaster import wav
from broadcaster.speech import audio
from broadcaster.speech.split import split_text
from broadcaster.text import Normalizer

SCHEDULE = """\
station:
  name: Đài thử
  timezone: Asia/Ho_Chi_Minh
  speech:
    engines: [gtts, espeak-ng]
    gtts_retries: 0
    espeak_speed: 120
bulletins:
  hop-dan:
    title: Họp dân
    text: "Thông báo họp dân lúc 7h30 ngày 15/3.\\n\\nMời bà con đến nhà văn hóa thôn 2."
  nhac:
    title: Nhạc
    audio: nhac.wav
slots:
  - name: Sáng
    at: "06:00"
    play: [hop-dan]
"""


@pytest.fixture
def station(tmp_path, monkeypatch):
    (tmp_path / "schedule.yaml").write_text(SCHEDULE, "utf-8")
    wav.write(tmp_path / "nhac.wav", audio.silence(0.5) + 1000, audio.RATE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_say_offline_falls_back_to_espeak_and_says_so(offline, station, capsys):
    assert main(["--lang", "en", "say", "Xin chào bà con.", "-o", "out.wav"]) == 0
    out = capsys.readouterr().out
    assert "Spoken by espeak-ng → out.wav" in out
    assert "Fallback voice, because: gtts: " in out and "Failed to connect" in out
    assert wav.seconds(station / "out.wav") > 0.5
    # Without --schedule: default settings, cache in ./var/cache/speech.
    assert len(list((station / "var" / "cache" / "speech").glob("*.wav"))) == 2
    assert offline.texts == ["Xin chào bà con."] * 3          # default gtts_retries=2


def test_say_with_one_engine_never_touches_the_network(offline, station, capsys):
    assert main(["say", "Xin chào bà con.", "-o", "out.wav", "--engine", "espeak-ng"]) == 0
    out = capsys.readouterr().out
    assert "espeak-ng" in out and "dự phòng" not in out
    assert offline.requests == []


def test_say_bulletin_online_speaks_the_normalized_pieces(google, station, capsys):
    assert main(["--lang", "en", "say", "--bulletin", "hop-dan", "-o", "check/hop-dan.wav"]) == 0
    assert "Spoken by gtts" in capsys.readouterr().out
    text = "Thông báo họp dân lúc 7h30 ngày 15/3.\n\nMời bà con đến nhà văn hóa thôn 2."
    assert google.texts == [p.text for p in split_text(Normalizer().normalize(text))]
    assert not any(ch.isdigit() for ch in "".join(google.texts))     # the normalizer really ran
    assert audio.is_valid_wav(station / "check" / "hop-dan.wav")
    assert list((station / "var" / "cache" / "speech").glob("*.wav"))  # the station's state_dir


def test_say_converts_to_the_output_suffix(offline, station):
    assert main(["say", "Xin chào.", "-o", "out.mp3", "--engine", "espeak-ng"]) == 0
    assert (station / "out.mp3").read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert audio.decode_to_pcm(station / "out.mp3", "test").size > 0


@pytest.mark.parametrize("args, message", [
    (["--bulletin", "khong-co"], "no bulletin with id khong-co in schedule.yaml; there are: hop-dan, nhac"),
    (["--bulletin", "nhac"], "bulletin nhac is an audio file"),
    (["... !"], "the text is empty, nothing to speak"),
], ids=["unknown-bulletin", "audio-bulletin", "nothing-to-say"])
def test_say_errors_are_one_line_and_write_nothing(offline, station, capsys, args, message):
    assert main(["--lang", "en", "say", *args, "-o", "out.wav", "--engine", "espeak-ng"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (station / "out.wav").exists()


def test_say_needs_text_or_bulletin(station, capsys):
    assert main(["--lang", "en", "say", "-o", "out.wav"]) == 2
    assert "give the text to speak, or --bulletin ID" in capsys.readouterr().err


def test_say_every_engine_failing_is_reported(offline, station, capsys):
    (station / "schedule.yaml").write_text(SCHEDULE.replace("espeak_speed: 120", "espeak_voice: nosuchvoice"),
                                           "utf-8")
    assert main(["--lang", "en", "say", "--bulletin", "hop-dan", "-o", "out.wav"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("broadcaster: No speech engine could speak")
    assert "gtts: " in err and "espeak-ng: " in err
    assert not (station / "out.wav").exists()


def test_say_help_mentions_its_options():
    from click.testing import CliRunner

    from broadcaster.cli.app import cli

    result = CliRunner().invoke(cli, ["say", "--help"])
    assert result.exit_code == 0
    assert all(opt in result.output for opt in ("--bulletin", "--engine", "--schedule", "-o"))
    assert "[gtts|espeak-ng]" in result.output


def test_say_bulletin_shows_the_voice_of_its_next_broadcasts(google, station, capsys):
    assert main(["--lang", "en", "say", "--bulletin", "hop-dan", "-o", "a.wav"]) == 0
    first = capsys.readouterr().out
    assert "(Sáng): Google's voice (gTTS), to be rendered before air" in first
    google.default = requests.exceptions.ConnectionError("no network")
    assert main(["--lang", "en", "say", "--bulletin", "hop-dan", "-o", "b.wav"]) == 0
    again = capsys.readouterr().out
    assert "(Sáng): Google's voice (gTTS), rendered" in again      # airs in Google's voice, offline
    assert again.count("Airs ") == 5


def test_agenda_shows_the_offline_voice_while_google_rests(offline, station, capsys):
    assert main(["say", "--bulletin", "hop-dan", "-o", "a.wav"]) == 0
    capsys.readouterr()
    assert main(["agenda", "--days", "1", "--json"]) == 0
    (broadcast,) = json.loads(capsys.readouterr().out)
    voice = broadcast["voice"]
    assert (voice["engine"], voice["ready"]) == ("espeak-ng", True)
    assert "Failed to connect" in voice["reason"]
