"""The speech stage's interfaces: an engine speaks one text; a speaker turns a bulletin into speech.

Shaped like Home Assistant's TTS providers: one blocking call, text in, audio file out. An
engine's name, version and options are part of the render cache key, so a change of voice or
speed is never served from an old render.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Speech:
    """Speech rendered to a file, and who spoke it.

    `fallback_reason` is None when the first engine of the chain spoke; otherwise it says why
    the engines before `engine` failed, for the as-run log and the operator.
    """

    path: Path
    engine: str
    fallback_reason: str | None = None

    @property
    def is_fallback(self) -> bool:
        return self.fallback_reason is not None


class SpeechEngine(ABC):
    """One text-to-speech engine."""

    name: str
    suffix: str = ".wav"                # the audio container `synthesize` writes

    @abstractmethod
    def synthesize(self, text: str, target: Path) -> None:
        """Speak already-normalized `text` into the file `target`; raise SpeechError on failure."""

    def cache_options(self) -> dict[str, object]:
        """Everything besides the text that changes the sound (voice, speed, version)."""
        return {}


class Speaker(ABC):
    """Turns a bulletin's written text into one speech file: normalize, split, speak, join.

    The programme stage depends on this interface only, so tests can pass a fast fake.
    """

    @abstractmethod
    def speak(self, text: str) -> Speech:
        """Speak written Vietnamese `text` (normalized here) into one audio file."""
