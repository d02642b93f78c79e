"""Fixtures of the speech tests: a faked Google TTS endpoint, real MP3 audio, counting engines.

Google's endpoint is the only thing faked, at the `requests` transport with `responses`, so
gTTS's own request building and reply parsing run for real. The MP3 it "returns" is made at test
time by eSpeak NG and ffmpeg, so it decodes like a real reply.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.parse
from collections import deque
from pathlib import Path

import pytest
import requests
import responses

from broadcaster.speech.base import SpeechEngine
from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.gtts_engine import GttsEngine

GOOGLE_URL = "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"


@pytest.fixture(scope="session")
def mp3_bytes(tmp_path_factory) -> bytes:
    """A real, short MP3 (eSpeak NG voice, encoded by ffmpeg at 24 kHz mono like Google's)."""
    folder = tmp_path_factory.mktemp("mp3")
    wav, mp3 = folder / "voice.wav", folder / "voice.mp3"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "xin chào bà con"], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-ar", "24000", "-ac", "1",
                    "-codec:a", "libmp3lame", "-b:a", "32k", str(mp3)], check=True)
    return mp3.read_bytes()


def google_reply(audio: bytes) -> str:
    """A batchexecute reply as Google sends it: compact JSON on the line gTTS searches."""
    line = json.dumps([["wrb.fr", "jQ1olc", json.dumps([base64.b64encode(audio).decode("ascii")]),
                        None, None, None, "generic"]], separators=(",", ":"))
    return f")]}}'\n\n{len(line)}\n{line}\n25\n[[\"e\",4,null,null,147]]\n"


def posted_text(body: str | bytes) -> list:
    """The `[text, lang, speed, "null"]` parameter gTTS POSTed."""
    if isinstance(body, bytes):
        body = body.decode("ascii")
    form = urllib.parse.parse_qs(body)
    rpc = json.loads(form["f.req"][0])
    return json.loads(rpc[0][0][1])


class FakeGoogle:
    """Google's TTS endpoint: answers each POST with the next scripted behaviour.

    A behaviour is "ok" (real MP3 reply), an exception instance (raised at the transport),
    an int (that HTTP status), or a str starting with "raw:" (that body with status 200).
    When the script runs out, `default` answers.
    """

    def __init__(self, mock: responses.RequestsMock, mp3: bytes) -> None:
        self.mp3 = mp3
        self.script: deque = deque()
        self.default: object = "ok"
        self.requests: list[list] = []
        self.timeouts: list[object] = []
        mock.add_callback(responses.POST, GOOGLE_URL, callback=self._answer)

    def then(self, *behaviours: object) -> "FakeGoogle":
        self.script.extend(behaviours)
        return self

    @property
    def texts(self) -> list[str]:
        return [params[0] for params in self.requests]

    def _answer(self, request):
        self.requests.append(posted_text(request.body))
        self.timeouts.append(request.req_kwargs.get("timeout"))
        behaviour = self.script.popleft() if self.script else self.default
        if isinstance(behaviour, Exception):
            return behaviour
        if isinstance(behaviour, int):
            return (behaviour, {}, "")
        if isinstance(behaviour, str) and behaviour.startswith("raw:"):
            return (200, {}, behaviour[4:])
        assert behaviour == "ok", behaviour
        return (200, {"Content-Type": "application/json; charset=utf-8"}, google_reply(self.mp3))


@pytest.fixture
def google(mp3_bytes):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock, mp3_bytes)


@pytest.fixture
def offline():
    """No network: every POST to Google fails to connect, like DNS failing."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGoogle(mock, b"")
        fake.default = requests.exceptions.ConnectionError("Name or service not known")
        yield fake


class Sleeps:
    """An injected `sleep` that records the backoff instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def gtts(sleeps) -> GttsEngine:
    return GttsEngine(timeout=5.0, retries=2, sleep=sleeps)


@pytest.fixture
def espeak() -> EspeakEngine:
    return EspeakEngine()


class Counting(SpeechEngine):
    """Wraps a real engine and counts the texts it was asked to speak."""

    def __init__(self, inner: SpeechEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.suffix = inner.suffix
        self.texts: list[str] = []

    def synthesize(self, text: str, target: Path) -> None:
        self.texts.append(text)
        self.inner.synthesize(text, target)

    def cache_options(self) -> dict[str, object]:
        return self.inner.cache_options()


class Clock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path) -> SpeechCache:
    return SpeechCache(tmp_path / "cache")


def all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
