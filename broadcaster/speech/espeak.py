"""eSpeak NG, the offline engine: normalized text in (stdin), 22.05 kHz WAV out.

Runs the `espeak-ng` binary with an argument list (never a shell). It is deterministic, so its
version is part of the cache key: an upgraded eSpeak NG re-renders instead of mixing voices.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path

from broadcaster import i18n
from broadcaster.constants import ESPEAK_NG
from broadcaster.errors import SpeechError
from broadcaster.schedule.model import SpeechSettings
from broadcaster.speech import messages as _messages  # noqa: F401
from broadcaster.speech.base import SpeechEngine

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def espeak_version(binary: str) -> str:
    """The first line of `espeak-ng --version`, e.g. "eSpeak NG text-to-speech: 1.51  Data at: ..."."""
    path = shutil.which(binary)
    if path is None:
        raise SpeechError(i18n.tr("speech.espeak.missing", binary=binary))
    result = subprocess.run([path, "--version"], capture_output=True, timeout=10, check=False)
    line = result.stdout.decode("utf-8", "replace").strip().splitlines()
    if result.returncode != 0 or not line:
        raise SpeechError(i18n.tr("speech.espeak.failed", code=result.returncode,
                                  error=result.stderr.decode("utf-8", "replace").strip()))
    # The data path is installation detail, not voice: keep "text-to-speech: 1.51" only.
    return line[0].split("Data at:")[0].strip()


class EspeakEngine(SpeechEngine):
    name = ESPEAK_NG
    suffix = ".wav"

    def __init__(self, voice: str = "vi", speed: int = 125, *, binary: str = "espeak-ng",
                 timeout: float = 60.0) -> None:
        self.voice = voice
        self.speed = speed
        self.binary = binary
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: SpeechSettings) -> "EspeakEngine":
        return cls(voice=settings.espeak_voice, speed=settings.espeak_speed)

    def cache_options(self) -> dict[str, object]:
        return {"voice": self.voice, "speed": self.speed, "version": espeak_version(self.binary)}

    def command(self, target: Path | None) -> list[str]:
        """The argument list that speaks stdin into `target`, or as a WAV stream to stdout when None."""
        path = shutil.which(self.binary)
        if path is None:
            raise SpeechError(i18n.tr("speech.espeak.missing", binary=self.binary))
        # -b 1: the input is UTF-8; --stdin: the whole text at once, whatever characters it holds.
        out = ["--stdout"] if target is None else ["-w", str(target)]
        return [path, "-v", self.voice, "-s", str(self.speed), "-b", "1", *out, "--stdin"]

    def synthesize(self, text: str, target: Path) -> None:
        command = self.command(target)
        log.debug("espeak-ng: %s", command)
        try:
            result = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                                    timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SpeechError(i18n.tr("speech.espeak.timeout", timeout=self.timeout)) from exc
        if result.returncode != 0:
            error = result.stderr.decode("utf-8", "replace").strip()
            raise SpeechError(i18n.tr("speech.espeak.failed", code=result.returncode, error=error))
