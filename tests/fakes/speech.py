"""A fast, deterministic stand-in for the speech stage, for the programme and on-air tests.

`FakeSpeaker` implements `broadcaster.speech.base.Speaker` without any engine: it writes a
24 kHz mono 16-bit WAV whose length is proportional to the text (`seconds_per_char`), filled with
a tone whose pitch is derived from the text, so different texts give different, reproducible
audio. It records every text it was asked to speak, and can be told to fail or to report a
fallback voice, so callers can test how they log and react to those.
"""

from __future__ import annotations

import hashlib
import math
import wave
from pathlib import Path

import numpy as np

from broadcaster.errors import SpeechError
from broadcaster.speech.base import Speaker, Speech

RATE = 24_000


class FakeSpeaker(Speaker):
    """Speaks any text as a deterministic tone, `seconds_per_char` long per character.

    folder: where WAVs are written (one file per distinct text, named by its sha256 prefix).
    engine / fallback_reason: what the returned `Speech` reports (set `fallback_reason` to
        simulate an eSpeak NG fallback render).
    fail_on: texts containing any of these substrings raise `SpeechError`, like a dead chain.
    """

    def __init__(
        self,
        folder: Path,
        *,
        seconds_per_char: float = 0.01,
        min_seconds: float = 0.2,
        engine: str = "fake",
        fallback_reason: str | None = None,
        fail_on: tuple[str, ...] = (),
        amplitude: float = 0.3,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seconds_per_char = seconds_per_char
        self.min_seconds = min_seconds
        self.engine = engine
        self.fallback_reason = fallback_reason
        self.fail_on = fail_on
        self.amplitude = amplitude
        self.calls: list[str] = []

    def duration_for(self, text: str) -> float:
        """The length in seconds of the WAV `speak(text)` writes (to the sample)."""
        return self._frames_for(text) / RATE

    def _frames_for(self, text: str) -> int:
        seconds = max(self.min_seconds, len(text) * self.seconds_per_char)
        return int(round(seconds * RATE))

    def speak(self, text: str) -> Speech:
        self.calls.append(text)
        for marker in self.fail_on:
            if marker in text:
                raise SpeechError(f"fake speaker told to fail on {marker!r}")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        path = self.folder / f"fake-{digest[:16]}.wav"
        if not path.exists():
            frames = self._frames_for(text)
            # Pitch between 200 and 800 Hz chosen by the text, so texts are told apart by ear and FFT.
            frequency = 200 + int(digest[:4], 16) % 600
            t = np.arange(frames) / RATE
            samples = self.amplitude * np.sin(2 * math.pi * frequency * t)
            pcm = (samples * 32767).astype("<i2")
            tmp = path.with_suffix(".tmp")
            with wave.open(str(tmp), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                out.writeframes(pcm.tobytes())
            tmp.replace(path)
        return Speech(path=path, engine=self.engine, fallback_reason=self.fallback_reason)
