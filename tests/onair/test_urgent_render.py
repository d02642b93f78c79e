"""An emergency does not wait out gTTS's retries: Google gets one short try, then eSpeak NG speaks."""

from __future__ import annotations

import pytest
import requests
import responses
import yaml

from broadcaster.onair.render import URGENT_GTTS_TIMEOUT, RenderJob, programme_renderer, urgent_speech
from broadcaster.schedule import load_schedule
from tests.onair.tones import GOOGLE


def station(folder, priority: str):
    folder.mkdir()
    document = {
        "station": {"name": "Đài thử", "state_dir": "var",
                    "speech": {"engines": ["gtts", "espeak-ng"], "gtts_retries": 1, "gtts_timeout": 20}},
        "bulletins": {"tin": {"text": "Bão số 3 sắp đổ bộ.", "priority": priority, "intro": "none", "outro": "none"}},
        "slots": [{"name": "Sang", "at": "06:00", "play": ["tin"]}],
    }
    (folder / "schedule.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return load_schedule(folder / "schedule.yaml")


@pytest.mark.parametrize("priority, google_calls", [("normal", 2), ("emergency", 1)])
def test_emergency_gives_google_one_try(tmp_path, priority, google_calls):
    schedule = station(tmp_path / priority, priority)
    job = RenderJob("k", "Sang", (schedule.bulletins["tin"],), schedule)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, GOOGLE, body=requests.exceptions.ConnectTimeout("timed out"))
        result = programme_renderer(job, tmp_path / priority / "out.wav")
        assert len(mock.calls) == google_calls
    assert result.engine == "espeak-ng" and "gtts" in result.fallback_reason


def test_urgent_speech_caps_the_timeout_and_drops_retries(tmp_path):
    schedule = urgent_speech(station(tmp_path / "s", "emergency"))
    assert (schedule.station.speech.gtts_retries, schedule.station.speech.gtts_timeout) == (0, URGENT_GTTS_TIMEOUT)
    assert schedule.station.speech.engines == ("gtts", "espeak-ng")
