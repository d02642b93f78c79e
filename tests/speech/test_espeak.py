"""eSpeak NG runs for real: deterministic bytes, its version in the cache options, clear errors."""

from __future__ import annotations

import subprocess
import wave

import pytest

from broadcaster.errors import SpeechError
from broadcaster.speech.espeak import EspeakEngine, espeak_version


def test_speaks_vietnamese_to_wav_deterministically(espeak, tmp_path):
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    espeak.synthesize("Xin chào bà con, hôm nay trời đẹp.", first)
    espeak.synthesize("Xin chào bà con, hôm nay trời đẹp.", second)
    assert first.read_bytes() == second.read_bytes()
    with wave.open(str(first)) as w:
        assert w.getnchannels() == 1 and w.getnframes() / w.getframerate() > 1.0


def test_speed_changes_the_sound(tmp_path):
    slow, fast = tmp_path / "slow.wav", tmp_path / "fast.wav"
    EspeakEngine(speed=110).synthesize("Xin chào bà con", slow)
    EspeakEngine(speed=175).synthesize("Xin chào bà con", fast)
    assert slow.stat().st_size > fast.stat().st_size


def test_text_is_data_not_arguments(espeak, tmp_path):
    """Text starting with a dash or holding shell characters is spoken, never interpreted."""
    target = tmp_path / "x.wav"
    espeak.synthesize("-w /tmp/evil.wav; rm -rf $HOME `date`", target)
    assert target.stat().st_size > 1000
    assert not (tmp_path / "evil.wav").exists()


def test_version_is_part_of_the_cache_options(espeak):
    printed = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    options = espeak.cache_options()
    assert options["voice"] == "vi" and options["speed"] == 125
    assert options["version"] == espeak_version("espeak-ng")
    assert options["version"] in printed and "Data at" not in options["version"]


def test_unknown_voice_is_an_error_naming_espeak(tmp_path):
    with pytest.raises(SpeechError, match="eSpeak NG"):
        EspeakEngine(voice="nosuchvoice").synthesize("xin chào", tmp_path / "x.wav")


def test_missing_binary_is_an_error_naming_the_package(tmp_path):
    with pytest.raises(SpeechError, match="espeak-ng"):
        EspeakEngine(binary="espeak-ng-not-installed").synthesize("xin chào", tmp_path / "x.wav")
