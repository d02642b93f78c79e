"""The FakeSpeaker other stages test with keeps its promises: length, determinism, failure."""

import wave

import pytest

from broadcaster.errors import SpeechError
from broadcaster.speech.base import Speaker
from tests.fakes.speech import FakeSpeaker


def _seconds(path):
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24_000)
        return w.getnframes() / w.getframerate()


def test_length_proportional_to_text_and_deterministic(tmp_path):
    speaker = FakeSpeaker(tmp_path / "a", seconds_per_char=0.01)
    assert isinstance(speaker, Speaker)
    long = speaker.speak("x" * 100)
    short = speaker.speak("x" * 30)
    assert _seconds(long.path) == pytest.approx(1.0)
    assert _seconds(short.path) == pytest.approx(0.3)
    again = FakeSpeaker(tmp_path / "b").speak("x" * 100)
    assert again.path.name == long.path.name
    assert again.path.read_bytes() == long.path.read_bytes()
    assert speaker.calls == ["x" * 100, "x" * 30]


def test_fallback_and_failure(tmp_path):
    speaker = FakeSpeaker(tmp_path, engine="espeak-ng", fallback_reason="gtts: offline",
                          fail_on=("BOOM",))
    speech = speaker.speak("tin")
    assert speech.is_fallback and speech.engine == "espeak-ng"
    with pytest.raises(SpeechError):
        speaker.speak("a BOOM b")
