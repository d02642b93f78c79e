"""The engine chain: gTTS first, eSpeak NG when the network fails, and gTTS back when it returns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from broadcaster.errors import SpeechError
from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.gtts_engine import GttsEngine
from broadcaster.speech.speaker import CachedSpeaker, build_engines
from broadcaster.schedule.model import SpeechSettings

from tests.speech.conftest import Counting, all_files

TEXT = "Xin chào bà con, hôm nay trời đẹp. Mời bà con đi họp."
PIECES = ["Xin chào bà con,", "hôm nay trời đẹp.", "Mời bà con đi họp."]


@pytest.fixture
def chain(gtts, espeak):
    return Counting(gtts), Counting(espeak)


@pytest.fixture
def speaker(chain, cache, clock):
    return CachedSpeaker(list(chain), cache, normalize=lambda t: t, retry_preferred_after=300, clock=clock)


def test_gtts_speaks_every_piece_when_online(google, speaker, chain):
    speech = speaker.speak(TEXT)
    assert speech.engine == "gtts" and speech.fallback_reason is None
    assert google.texts == PIECES
    assert chain[1].texts == []


def test_offline_espeak_speaks_and_the_reason_is_recorded(offline, speaker, chain, cache):
    speech = speaker.speak(TEXT)
    assert speech.engine == "espeak-ng" and speech.is_fallback
    assert speech.fallback_reason.startswith("gtts: ") and "Failed to connect" in speech.fallback_reason
    # gTTS is given one full try (3 attempts) on the first piece, then rested for the others.
    assert offline.texts == [PIECES[0]] * 3
    assert chain[1].texts == PIECES
    assert not [p for p in all_files(cache.folder) if p.stat().st_size == 0 or p.name.startswith(".")]


def test_one_piece_falling_back_makes_the_whole_text_a_fallback(google, speaker, chain):
    google.then("ok", requests.exceptions.ReadTimeout("slow"), 429, 503)
    speech = speaker.speak(TEXT)
    assert speech.engine == "espeak-ng"
    assert "503" in speech.fallback_reason
    assert chain[1].texts == PIECES[1:]


def test_every_engine_failing_names_each_failure(offline, gtts, cache):
    speaker = CachedSpeaker([gtts, EspeakEngine(voice="nosuchvoice")], cache, normalize=lambda t: t)
    with pytest.raises(SpeechError) as caught:
        speaker.speak(TEXT)
    message = str(caught.value)
    assert "gtts: " in message and "Failed to connect" in message
    assert "espeak-ng: " in message and "eSpeak NG" in message
    assert [p.name for p in all_files(cache.folder)] == ["engine-failures.json"]


def test_with_every_engine_resting_nothing_is_ready(offline, gtts, cache):
    """agenda must not say a broadcast is ready when no engine could speak it."""
    speaker = CachedSpeaker([gtts, EspeakEngine(voice="nosuchvoice")], cache, normalize=lambda t: t)
    with pytest.raises(SpeechError):
        speaker.speak(TEXT)
    voice = speaker.voice_now(TEXT)
    assert (voice.engine, voice.ready) == ("espeak-ng", False)
    assert "gtts: " in voice.reason and "espeak-ng: " in voice.reason


def test_fallback_is_replaced_once_the_network_returns(offline, speaker, chain, clock, mp3_bytes):
    fallback = speaker.speak(TEXT)
    assert fallback.engine == "espeak-ng"
    espeak_audio = fallback.path.read_bytes()

    # Still within the rest period: served from the cache, no request, no synthesis.
    clock.advance(299)
    offline.requests.clear()
    assert speaker.speak(TEXT) == fallback
    assert offline.requests == [] and chain[1].texts == PIECES

    # The network is back and the rest is over: gTTS renders and replaces the fallback.
    offline.default = "ok"
    offline.mp3 = mp3_bytes
    clock.advance(2)
    replaced = speaker.speak(TEXT)
    assert replaced.engine == "gtts" and replaced.fallback_reason is None
    assert replaced.path == fallback.path and replaced.path.read_bytes() != espeak_audio
    assert offline.texts == PIECES

    # And from now on it is a plain hit.
    offline.requests.clear()
    assert speaker.speak(TEXT) == replaced
    assert offline.requests == []


def test_preferred_engine_is_retried_at_most_once_per_period(offline, speaker, chain, clock):
    speaker.speak(TEXT)
    assert len(offline.requests) == 3
    for _ in range(3):
        clock.advance(100)
        speaker.speak(TEXT)
        speaker.speak("Một bản tin mới. Hai câu.")
    # 300 s after the failure one retry (3 attempts) was due; the new text was spoken offline.
    assert len(offline.requests) == 6
    assert chain[1].texts == PIECES + ["Một bản tin mới.", "Hai câu."]


def test_the_text_is_normalized_before_it_is_spoken(google, gtts, cache):
    speaker = CachedSpeaker([gtts], cache, normalize=lambda t: t.replace("UBND", "Ủy ban nhân dân"))
    speaker.speak("UBND xã thông báo.")
    assert google.texts == ["Ủy ban nhân dân xã thông báo."]


@pytest.mark.parametrize("text", ["", "   \n\n", "- ... -"], ids=["empty", "blank", "punctuation"])
def test_nothing_to_say_is_an_error(speaker, text):
    with pytest.raises(SpeechError):
        speaker.speak(text)


def test_engines_are_built_by_plain_name_from_settings():
    settings = SpeechSettings(gtts_timeout=3.0, gtts_retries=4, espeak_voice="vi-vn-x-south", espeak_speed=110)
    gtts, espeak = build_engines(["gtts", "espeak-ng"], settings)
    assert isinstance(gtts, GttsEngine) and (gtts.timeout, gtts.retries) == (3.0, 4)
    assert isinstance(espeak, EspeakEngine) and (espeak.voice, espeak.speed) == ("vi-vn-x-south", 110)
    with pytest.raises(SpeechError, match="gtts, espeak-ng"):
        build_engines(["festival"], settings)
    with pytest.raises(SpeechError):
        CachedSpeaker([], SpeechCache(Path("/nonexistent")), normalize=str)


def test_a_new_speaker_on_the_same_cache_respects_the_rest_period(offline, gtts, espeak, cache, clock,
                                                                   mp3_bytes):
    """Pre-render jobs build a speaker each: the failure is shared through the cache folder."""
    CachedSpeaker([gtts, espeak], cache, normalize=lambda t: t, clock=clock).speak(TEXT)
    assert len(offline.requests) == 3
    clock.advance(60)
    second = CachedSpeaker([gtts, espeak], SpeechCache(cache.folder), normalize=lambda t: t, clock=clock)
    speech = second.speak("Một bản tin khác.")
    assert len(offline.requests) == 3 and speech.engine == "espeak-ng"
    assert "Failed to connect" in speech.fallback_reason

    clock.advance(300)
    offline.default, offline.mp3 = "ok", mp3_bytes
    third = CachedSpeaker([gtts, espeak], SpeechCache(cache.folder), normalize=lambda t: t, clock=clock)
    assert third.speak("Một bản tin khác.").engine == "gtts"
    assert json.loads((cache.folder / "engine-failures.json").read_text("utf-8")) == {}
