"""`speaker_for(schedule)`: the station's chain, cache folder and pronunciation dictionary."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from broadcaster.errors import TextError
from broadcaster.schedule import load_schedule
from broadcaster.schedule.model import Schedule, SpeechSettings, Station
from broadcaster.speech import CachedSpeaker, EspeakEngine, GttsEngine, speaker_for

SCHEDULE = """\
station:
  name: Đài thử
  timezone: Asia/Ho_Chi_Minh
  pronunciations: doc.yaml
  speech:
    engines: [gtts, espeak-ng]
    gtts_timeout: 4
    espeak_speed: 110
bulletins:
  tin:
    title: Tin
    text: "HTX Vinh Quang họp."
slots:
  - name: Sáng
    at: "06:00"
    play: [tin]
"""


@pytest.fixture
def schedule(tmp_path):
    (tmp_path / "doc.yaml").write_text('HTX: "hợp tác xã"\n', "utf-8")
    (tmp_path / "schedule.yaml").write_text(SCHEDULE, "utf-8")
    return load_schedule(tmp_path / "schedule.yaml")


def test_chain_cache_and_dictionary_come_from_the_station(schedule, google):
    speaker = speaker_for(schedule)
    assert isinstance(speaker, CachedSpeaker)
    gtts, espeak = speaker.engines
    assert isinstance(gtts, GttsEngine) and gtts.timeout == 4
    assert isinstance(espeak, EspeakEngine) and espeak.speed == 110
    assert speaker.cache.folder == schedule.station.state_dir / "cache" / "speech"
    speech = speaker.speak(schedule.bulletins["tin"].text)
    assert google.texts == ["hợp tác xã Vinh Quang họp."]
    assert speech.path.parent == speaker.cache.folder


def test_engines_argument_overrides_the_chain(schedule, offline):
    speaker = speaker_for(schedule, ["espeak-ng"])
    assert [e.name for e in speaker.engines] == ["espeak-ng"]
    speech = speaker.speak("HTX Vinh Quang họp.")
    assert speech.engine == "espeak-ng" and not speech.is_fallback
    assert offline.requests == []


def test_a_dictionary_broken_after_loading_is_a_text_error(tmp_path):
    broken = tmp_path / "doc.yaml"
    broken.write_text("- HTX\n- UBND\n", "utf-8")
    station = Station(name="x", timezone=ZoneInfo("Asia/Ho_Chi_Minh"), state_dir=tmp_path / "var",
                      speech=SpeechSettings(), pronunciations=broken)
    schedule = Schedule(path=tmp_path / "schedule.yaml", station=station, bulletins={}, slots=())
    with pytest.raises(TextError, match=r"doc.yaml:1:1: "):
        speaker_for(schedule)
