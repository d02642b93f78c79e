"""Every engine's output reaches the one format: 24 kHz mono 16-bit WAV, checked by size."""

from __future__ import annotations

import subprocess
import wave

import numpy as np
import pytest

from broadcaster.errors import SpeechError
from broadcaster import wav
from broadcaster.speech import audio


def _tone(rate: int, seconds: float = 0.5, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    return np.repeat(mono[:, None], channels, axis=1)


def _write(path, samples: np.ndarray, rate: int, width: int = 2) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(width)
        out.setframerate(rate)
        data = samples if width == 2 else (samples // 256 + 128).astype(np.uint8)
        out.writeframes(data.tobytes())


@pytest.mark.parametrize("rate, channels, width", [(22050, 1, 2), (24000, 1, 2), (44100, 2, 2), (16000, 1, 1)],
                         ids=["espeak-22k", "same-rate", "stereo-44k", "8-bit-via-ffmpeg"])
def test_wavs_are_brought_to_the_standard_rate_and_length(tmp_path, rate, channels, width):
    source = tmp_path / "in.wav"
    _write(source, _tone(rate, channels=channels), rate, width)
    samples = audio.decode_to_pcm(source, "test")
    assert samples.dtype == np.dtype("<i2")
    assert abs(samples.size - 12_000) <= 2            # 0.5 s at 24 kHz
    peak = np.abs(samples.astype(np.int32)).max()
    assert 7000 < peak < 9000                         # the level survives


def test_mp3_goes_through_ffmpeg(tmp_path, mp3_bytes):
    source = tmp_path / "in.mp3"
    source.write_bytes(mp3_bytes)
    assert audio.decode_to_pcm(source, "gtts").size > 12_000


@pytest.mark.parametrize("content", [b"", b"<html>no</html>", b"RIFF\x00\x00\x00\x00WAVE"],
                         ids=["empty", "html", "broken-header"])
def test_what_does_not_decode_is_a_speech_error_naming_the_engine(tmp_path, content):
    source = tmp_path / "in.mp3"
    source.write_bytes(content)
    with pytest.raises(SpeechError, match="gtts"):
        audio.decode_to_pcm(source, "gtts")


def test_silence_only_is_not_speech(tmp_path):
    source = tmp_path / "in.wav"
    _write(source, np.zeros((2400, 1), dtype="<i2"), 24000)
    with pytest.raises(SpeechError):
        audio.decode_to_pcm(source, "espeak-ng")


def test_written_wavs_validate_and_truncation_is_seen(tmp_path):
    path = tmp_path / "x.wav"
    wav.write(path, _tone(24000)[:, 0], audio.RATE)
    assert audio.is_valid_wav(path) and path.stat().st_size == 44 + 24000
    ffprobe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=sample_rate,channels",
                              "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    assert ffprobe.stdout.strip() == "24000,1"
    path.write_bytes(path.read_bytes()[:-2])
    assert not audio.is_valid_wav(path)


def test_trim_keeps_30_ms_around_the_voice():
    voice = _tone(24000, 0.2)[:, 0]
    padded = np.concatenate([np.zeros(12000, "<i2"), voice, np.zeros(12000, "<i2")])
    trimmed = audio.trim_silence(padded)
    assert abs(trimmed.size - (voice.size + 2 * 720)) <= 2   # a few quiet samples at the tone's edges
