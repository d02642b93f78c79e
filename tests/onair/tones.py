"""Fast renderers for on-air tests: each bulletin becomes a tone, so timing and order are checkable.

They run in the daemon's render worker processes (so they must be importable top-level
functions). A bulletin's text sets its tone: "2.5s 660Hz" -> 2.5 s at 660 Hz (defaults 1 s and a
pitch derived from the bulletin id). Text containing "RENDER-FAIL" fails every render;
"ONLINE-FAIL" fails unless the daemon asks for the offline voice, like gTTS with no network.
"""

from __future__ import annotations

import re
import wave
import zlib
from pathlib import Path

import numpy as np

from broadcaster.errors import SpeechError
from broadcaster.onair.render import RenderJob, RenderResult

RATE = 48_000
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s\b")
_HERTZ = re.compile(r"(\d+)Hz\b")


def tone_spec(bulletin) -> tuple[float, int]:
    text = bulletin.text or ""
    seconds = float(m.group(1)) if (m := _SECONDS.search(text)) else 1.0
    hertz = int(m.group(1)) if (m := _HERTZ.search(text)) else 300 + zlib.crc32(bulletin.id.encode()) % 900
    return seconds, hertz


def write_tones(out: Path, parts: list[tuple[float, int]]) -> float:
    chunks = []
    for seconds, hertz in parts:
        t = np.arange(int(seconds * RATE)) / RATE
        chunks.append(0.3 * np.sin(2 * np.pi * hertz * t))
    samples = np.round(np.concatenate(chunks) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.tobytes())
    return len(samples) / RATE


def tone_renderer(job: RenderJob, out: Path) -> RenderResult:
    texts = " ".join(b.text or "" for b in job.bulletins)
    if "RENDER-FAIL" in texts:
        raise SpeechError("tone renderer told to fail")
    if "ONLINE-FAIL" in texts and not job.offline_only:
        raise SpeechError("gTTS: Failed to connect (simulated)")
    duration = write_tones(out, [tone_spec(b) for b in job.bulletins])
    if job.offline_only:
        return RenderResult(out, duration, "tone-offline", "offline retry")
    return RenderResult(out, duration, "tone", None)


def dominant_hertz(path: Path, start: float = 0.0, length: float = 0.2) -> int:
    """The strongest frequency in a stretch of a WAV, to tell which programme a file holds."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    piece = samples[int(start * rate): int((start + length) * rate)]
    spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
    return int(round(np.argmax(spectrum) * rate / len(piece)))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


GOOGLE = re.compile(r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute")


def gtts_down_renderer(job: RenderJob, out: Path) -> RenderResult:
    """The real renderer (programme stage + station speaker) with Google's endpoint unreachable.

    `responses` intercepts at the requests transport inside the worker process, so gTTS's own
    code runs and fails as it does with no network; eSpeak NG then really speaks.
    """
    import requests
    import responses

    from broadcaster.onair.render import programme_renderer

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, GOOGLE,
                 body=requests.exceptions.ConnectionError("Failed to resolve 'translate.google.com'"))
        return programme_renderer(job, out)
