"""gTTS, the preferred online engine: normalized text in, Google's MP3 out.

Every call has a connect/read timeout (gTTS waits forever by default) and a bounded number of
retries with backoff; the backoff's `sleep` is injectable so tests run the real gTTS code against
a faked HTTP transport without waiting. gTTS's `save()` leaves a 0-byte file when the network
fails, so the MP3 is collected in memory and written to `target` only once it is complete.
"""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import requests
from gtts import gTTS, gTTSError
from gtts.version import __version__ as gtts_version

from broadcaster import i18n
from broadcaster.constants import GTTS
from broadcaster.errors import SpeechError
from broadcaster.schedule.model import SpeechSettings
from broadcaster.speech import messages as _messages  # noqa: F401
from broadcaster.speech.base import SpeechEngine

log = logging.getLogger(__name__)


class RateLimited(SpeechError):
    """Google answered 429 Too Many Requests: the network works, we asked too often."""


def exponential_backoff(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): 1, 2, 4, ... capped at 30."""
    return min(30.0, 2.0 ** (attempt - 1))


class GttsEngine(SpeechEngine):
    name = GTTS
    suffix = ".mp3"

    def __init__(
        self,
        lang: str = "vi",
        tld: str = "com",
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: Callable[[int], float] = exponential_backoff,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.lang = lang
        self.tld = tld
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.attempts_made = 0      # HTTP attempts over this engine's life, for logs and tests

    @classmethod
    def from_settings(cls, settings: SpeechSettings) -> "GttsEngine":
        return cls(timeout=settings.gtts_timeout, retries=settings.gtts_retries)

    def cache_options(self) -> dict[str, object]:
        return {"lang": self.lang, "tld": self.tld, "slow": False, "version": gtts_version}

    def synthesize(self, text: str, target: Path) -> None:
        attempts = self.retries + 1
        last_error = ""
        rate_limited = False
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                delay = self.backoff(attempt - 1)
                log.info("gTTS retry %s of %s in %.1f s after: %s", attempt - 1, self.retries, delay, last_error)
                self.sleep(delay)
            self.attempts_made += 1
            try:
                audio = self._fetch(text)
            except SpeechError as exc:
                last_error = str(exc)
                rate_limited = isinstance(exc, RateLimited)
                continue
            tmp = target.with_name(f".{target.name}.part")
            try:
                tmp.write_bytes(audio)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            return
        failed = RateLimited if rate_limited else SpeechError
        raise failed(i18n.tr("speech.gtts.failed", attempts=attempts, error=last_error))

    def _fetch(self, text: str) -> bytes:
        """One full gTTS request (one POST per 100-character part), the MP3 bytes or SpeechError."""
        # No pre-processors: they substitute English abbreviations, and our text is normalized.
        tts = gTTS(text, lang=self.lang, tld=self.tld, timeout=self.timeout, pre_processor_funcs=[])
        buffer = io.BytesIO()
        try:
            tts.write_to_fp(buffer)
        except gTTSError as exc:
            cause = exc.__context__
            if isinstance(cause, requests.exceptions.Timeout):
                raise SpeechError(i18n.tr("speech.gtts.timeout", timeout=self.timeout)) from exc
            if getattr(exc.rsp, "status_code", None) == 429:
                raise RateLimited(str(exc)) from exc
            raise SpeechError(str(exc)) from exc
        except (requests.exceptions.RequestException, ValueError) as exc:
            # ValueError: a reply that looks like audio but is not base64 (binascii.Error).
            raise SpeechError(f"{type(exc).__name__}: {exc}") from exc
        audio = buffer.getvalue()
        if not audio:
            raise SpeechError(i18n.tr("speech.gtts.empty"))
        return audio
