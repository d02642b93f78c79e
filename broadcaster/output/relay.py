"""A relay source (tiếp sóng): a live national or provincial stream as blocks for the air.

Where it sits: beside the programme file as a source the playout reads a block at a time
(`read(frames)` -> float32 mono at the station's rate; empty once the relay is over). In: a
live HTTP/HTTPS/Icecast MP3 or AAC stream or an HLS playlist. Out: sound levelled for the
station's horns, and a `RelayReport` for the as-run log (seconds relayed, gaps and their causes,
and the status: played, partial or failed).

ffmpeg pulls and decodes the stream, resamples it to mono, gives it the station's voicing
(horn: high-pass and gentle compression) and levels it live (`loudnorm`, dynamic mode, then a
limiter), because national streams arrive at any level. `open()` starts pulling a few seconds
before the slot (`OPEN_LEAD`: loudnorm needs 3 s of look-ahead), so at `start()` a cushion of
audio is ready and the relay begins on its second. When the stream drops, the puller reconnects
with backoff for as long as the relay lasts, and `read()` fills the gap with quiet room tone
(receivers stay open: dead silence makes some close) and, once a gap has lasted `relay_gap`
seconds, the station's spoken notice.

The relay's time runs with the clock: while an emergency cuts in (nobody reads), the puller
keeps the buffer fresh, so the relay resumes live, and its end stays `duration` after its start.
"""

from __future__ import annotations

import collections
import logging
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from broadcaster import i18n
from broadcaster.childerr import StderrTail
from broadcaster.constants import HORN, HORN_HIGHPASS_HZ
from broadcaster.schedule.model import SpeechSettings
from broadcaster.speech.audio import RATE as SPEECH_RATE
from broadcaster.speech.audio import decode_to_pcm, resample, trim_silence
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.text import Normalizer

log = logging.getLogger(__name__)

RATE = 48_000
OPEN_LEAD = 8.0            # seconds before air the stream is opened (3 s of loudnorm look-ahead + cushion)
CUSHION = 2.0              # seconds of audio kept ahead of the air, against network jitter
REBUFFER = 1.0             # after a gap, live audio resumes once this much is buffered
FADE = 2.0                 # the relay's end fades out over this long
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0)
ROOM_TONE_DBFS = -60.0     # audible only as a faint hiss: the line is open, nobody speaks
TRUE_PEAK_LIMIT = 10 ** (-1.5 / 20)   # the limiter's ceiling: 0.5 dB under the -1 dBTP target
MIN_GAP = 0.1              # shorter dropouts are rounding, not gaps
PAUSE = 0.5                # a reader this far behind the relay's clock was cut away (an emergency)

i18n.register({
    "relay.never_connected": ("không kết nối được nguồn tiếp sóng: {detail}",
                              "the relay source never answered: {detail}"),
    "relay.ended": ("nguồn tiếp sóng dừng phát", "the relay source stopped sending"),
    "relay.stalled": ("nguồn tiếp sóng chậm, không có dữ liệu", "the relay source stalled (no data)"),
    "relay.gap": ("gián đoạn {seconds:.1f} giây từ giây {start:.1f}: {cause}",
                  "gap of {seconds:.1f} s from second {start:.1f}: {cause}"),
    "relay.summary": ("tiếp sóng {relayed:.1f} giây; {gaps}", "relayed {relayed:.1f} s; {gaps}"),
})


@dataclass(frozen=True)
class Gap:
    start: float               # seconds into the relay
    seconds: float
    cause: str


@dataclass(frozen=True)
class RelayReport:
    """What a relay did, for its as-run row."""

    relayed: float             # seconds of live audio aired
    gaps: tuple[Gap, ...]
    connected: bool            # the source answered at least once

    @property
    def status(self) -> str:
        """`failed` if it never connected, `partial` with gaps, else `played` (as-run statuses)."""
        if not self.connected:
            return "failed"
        return "partial" if self.gaps else "played"

    def note(self) -> str:
        gaps = "; ".join(i18n.tr("relay.gap", start=g.start, seconds=g.seconds, cause=g.cause) for g in self.gaps)
        return i18n.tr("relay.summary", relayed=self.relayed, gaps=gaps or "-")


def reader_url(url: str) -> str:
    """icecast:// names a mount; a listener reads it over plain HTTP."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "icecast":
        return urlunsplit(("http",) + tuple(parts[1:]))
    return url


def is_hls(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".m3u8")


def filter_chain(loudness: float, voicing: str, rate: int = RATE) -> str:
    """Voicing, then live levelling to `loudness` LUFS, then a peak ceiling under -1 dBTP."""
    steps = [f"aresample={rate}", "aformat=channel_layouts=mono"]    # any stream -> the station's mono
    if voicing == HORN:
        # As the programme stage voices speech for horns: cut what they cannot play, even out the level.
        steps += [f"highpass=f={HORN_HIGHPASS_HZ}:poles=2",
                  "acompressor=threshold=0.125:ratio=3:attack=10:release=250:makeup=1"]
    steps += [f"loudnorm=I={loudness:g}:TP=-2:LRA=11",
              f"aresample={rate}",
              f"alimiter=limit={TRUE_PEAK_LIMIT:.4f}:attack=5:release=50:level=disabled"]
    return ",".join(steps)


def relay_command(url: str, loudness: float, voicing: str, rate: int = RATE) -> list[str]:
    """ffmpeg: the live stream -> levelled float32 mono at `rate` on stdout."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"]
    if is_hls(url):
        # A live playlist lists segments already published: without -re ffmpeg bursts through
        # them and the relay runs ahead of (then out of) the live edge.
        command += ["-re"]
    else:
        command += ["-icy", "0"]
    # Named small probes: by default ffmpeg reads up to 1 MB (minutes of a 64 kbit/s stream)
    # before it decodes anything. rw_timeout: a stalled server counts as a drop after 5 s.
    command += ["-probesize", "8192", "-analyzeduration", "0", "-formatprobesize", "4096",
                "-rw_timeout", "5000000", "-i", reader_url(url), "-vn",
                "-af", filter_chain(loudness, voicing, rate), "-ac", "1", "-ar", str(rate),
                "-f", "f32le", "pipe:1"]
    return command


def spoken_notice(text: str, settings: SpeechSettings, loudness: float = -16.0, rate: int = RATE,
                  workdir: Path | None = None) -> np.ndarray:
    """The station's gap notice in the offline voice (eSpeak NG), as float32 at `rate`.

    Offline on purpose: when a relay drops, the network may be what failed, and gTTS with it.
    Levelled by its RMS to about `loudness` (speech's RMS sits near its loudness), and never
    above -3 dBFS, so it neither startles nor vanishes under the room tone.
    """
    engine = EspeakEngine.from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="broadcaster-notice-", dir=workdir) as folder:
        target = Path(folder) / "notice.wav"
        engine.synthesize(Normalizer().normalize(text), target)
        samples = trim_silence(decode_to_pcm(target, engine.name)).astype(np.float64) / 32768
    voice = resample(samples, SPEECH_RATE, rate)
    rms = float(np.sqrt(np.mean(voice ** 2))) or 1.0
    gain = min(10 ** (loudness / 20) / rms, 10 ** (-3 / 20) / max(float(np.abs(voice).max()), 1e-9))
    return (voice * gain).astype(np.float32)


def room_tone(frames: int, rate: int = RATE, seed: int = 7) -> np.ndarray:
    """Quiet, soft noise at ROOM_TONE_DBFS RMS: an open line, not dead air."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(frames + rate // 10)
    soft = np.convolve(white, np.ones(8) / 8, mode="same")[rate // 10:]      # less hiss, more hum
    soft *= 10 ** (ROOM_TONE_DBFS / 20) / max(float(np.sqrt(np.mean(soft ** 2))), 1e-12)
    return soft.astype(np.float32)


@dataclass
class _Buffer:
    """Decoded audio waiting for the air: a queue of float32 arrays, trimmed from the old end."""

    blocks: collections.deque = field(default_factory=collections.deque)
    frames: int = 0

    def push(self, block: np.ndarray) -> None:
        self.blocks.append(block)
        self.frames += len(block)

    def trim(self, keep: int) -> None:
        while self.frames > keep and self.blocks:
            extra = self.frames - keep
            first = self.blocks[0]
            if len(first) <= extra:
                self.blocks.popleft()
                self.frames -= len(first)
            else:
                self.blocks[0] = first[extra:]
                self.frames -= extra

    def take(self, frames: int) -> np.ndarray:
        parts, wanted = [], frames
        while wanted and self.blocks:
            first = self.blocks[0]
            part, rest = first[:wanted], first[wanted:]
            parts.append(part)
            wanted -= len(part)
            if len(rest):
                self.blocks[0] = rest
            else:
                self.blocks.popleft()
        taken = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        self.frames -= len(taken)
        return taken


class RelaySource:
    """A live stream relayed for `duration` seconds: `open()` early, `start()` on the second, `read()` blocks.

    `command` builds the ffmpeg argument list (tests may point it elsewhere); `clock` is
    monotonic seconds; `notice` is the station's spoken "reconnecting" message (float32 at
    `rate`), aired once per gap after `relay_gap` seconds of it.
    """

    def __init__(self, url: str, duration: float, *, rate: int = RATE, loudness: float = -16.0,
                 voicing: str = HORN, relay_gap: float = 15.0, notice: np.ndarray | None = None,
                 clock: Callable[[], float] = time.monotonic, backoff: Sequence[float] = BACKOFF,
                 cushion: float = CUSHION, fade: float = FADE,
                 command: Callable[[str], list[str]] | None = None) -> None:
        self.url = url
        self.duration = duration
        self.rate = rate
        self.relay_gap = relay_gap
        self.notice = notice
        self.clock = clock
        self.backoff = tuple(backoff)
        self.cushion = int(cushion * rate)
        self.fade = fade
        self._command = command or (lambda u: relay_command(u, loudness, voicing, rate))
        self._lock = threading.Lock()        # guards the buffer and the fields below; no I/O under it
        self._buffer = _Buffer()
        self._connected = False              # ffmpeg is delivering audio now
        self._ever_connected = False
        self._cause: str | None = None       # why the source is not delivering
        self._started: float | None = None   # clock time of air
        self._position = 0                   # frames of the relay's time used (live, tone or paused)
        self._relayed = 0                    # frames of live audio aired
        self._gaps: list[Gap] = []
        self._gap_start: int | None = None   # position where the current gap began
        self._gap_cause: str | None = None
        self._notice_at: int | None = None   # position in the gap's notice being aired
        self._tone = room_tone(rate * 2, rate)
        self._tone_at = 0
        self._closing = threading.Event()
        self._process: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._pull, name="relay", daemon=True)

    # -- life cycle --------------------------------------------------------------------------------
    def open(self) -> "RelaySource":
        """Start pulling the stream now (call OPEN_LEAD seconds before air)."""
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def start(self) -> None:
        """The relay goes on air now: keep only the freshest cushion, and its time starts running."""
        self.open()
        with self._lock:
            self._started = self.clock()
            self._buffer.trim(self.cushion)

    def ready(self) -> bool:
        """A full cushion is buffered: the relay can go on air on its second."""
        with self._lock:
            return self._buffer.frames >= self.cushion

    @property
    def ends_at(self) -> float | None:
        return None if self._started is None else self._started + self.duration

    def over(self) -> bool:
        """Its time has run out (`duration` after it went on air)."""
        with self._lock:
            if self._started is None:
                return False
            return self._position >= int(self.duration * self.rate) or self.clock() >= self._started + self.duration

    def airing(self) -> "_Airing":
        """A view of the relay for one airing: the output may close it; the relay keeps running.

        An emergency cut ends an airing (the output closes what it played); the relay itself must
        live on, so the next airing resumes live. Its owner closes it once it is over.
        """
        return _Airing(self)

    def close(self) -> None:
        self._closing.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        if self._thread.is_alive():
            self._thread.join(5)
        with self._lock:
            self._end_gap()

    def report(self) -> RelayReport:
        with self._lock:
            gaps = list(self._gaps)
            if self._gap_start is not None:
                seconds = (self._position - self._gap_start) / self.rate
                if seconds >= MIN_GAP:
                    gaps.append(Gap(self._gap_start / self.rate, seconds, self._gap_cause or "?"))
            return RelayReport(self._relayed / self.rate, tuple(gaps), self._ever_connected)

    # -- the air's side ---------------------------------------------------------------------------
    def read(self, frames: int) -> np.ndarray:
        """`frames` of the relay (live, or room tone in a gap); fewer at its end, then empty."""
        with self._lock:
            if self._started is None:
                self._started = self.clock()
                self._buffer.trim(self.cushion)
            # Time spent cut away (an emergency) is the relay's time too: catch up with the clock.
            # A reader a little behind the clock (a late block) must not lose samples: only a
            # real pause counts.
            behind = int((self.clock() - self._started) * self.rate) - self._position
            if behind > PAUSE * self.rate:
                self._position += behind
            total = int(self.duration * self.rate)
            frames = max(0, min(frames, total - self._position))
            if not frames:
                return np.zeros(0, dtype=np.float32)
            out = self._fill(frames)
            fade_frames = int(self.fade * self.rate)
            to_end = total - self._position
            if to_end - frames < fade_frames:
                # The last FADE seconds fall from 1 to 0 (raised cosine), wherever blocks are cut.
                left = (to_end - np.arange(frames)) / max(fade_frames, 1)
                out = out * (0.5 - 0.5 * np.cos(np.pi * np.clip(left, 0.0, 1.0))).astype(np.float32)
            self._position += frames
            return out

    def _fill(self, frames: int) -> np.ndarray:
        """Live audio when enough is buffered, otherwise a gap of room tone (caller holds the lock)."""
        in_gap = self._gap_start is not None
        enough = self._buffer.frames >= (int(REBUFFER * self.rate) if in_gap else frames)
        if enough:
            self._end_gap()
            self._relayed += frames
            return self._buffer.take(frames)
        # Whatever is buffered waits until the buffer has refilled: no stutter of half-blocks.
        if not in_gap:
            self._gap_start = self._position
            self._gap_cause = self._cause or i18n.tr("relay.stalled")
        out = self._room_tone(frames)
        gap_frames = self._position - self._gap_start
        if self.notice is not None and self._notice_at is None and gap_frames >= self.relay_gap * self.rate:
            self._notice_at = 0
        if self.notice is not None and self._notice_at is not None and self._notice_at < len(self.notice):
            part = self.notice[self._notice_at:self._notice_at + frames]
            out[:len(part)] += part
            self._notice_at += len(part)
        return out

    def _room_tone(self, frames: int) -> np.ndarray:
        indices = (self._tone_at + np.arange(frames)) % len(self._tone)
        self._tone_at = int((self._tone_at + frames) % len(self._tone))
        return self._tone[indices]

    def _end_gap(self) -> None:
        if self._gap_start is None:
            return
        seconds = (self._position - self._gap_start) / self.rate
        if seconds >= MIN_GAP:
            self._gaps.append(Gap(self._gap_start / self.rate, seconds, self._gap_cause or "?"))
        self._gap_start = self._gap_cause = self._notice_at = None

    # -- the puller's thread ------------------------------------------------------------------
    def _over(self) -> bool:
        ends = self.ends_at
        return self._closing.is_set() or (ends is not None and self.clock() >= ends)

    def _pull(self) -> None:
        tries = 0
        while not self._over():
            got_audio, error = self._pull_once()
            if self._over():
                return
            with self._lock:
                self._connected = False
                self._cause = error
                if self._gap_start is not None and self._gap_cause == i18n.tr("relay.stalled"):
                    self._gap_cause = error      # the gap began before the puller knew why
            if got_audio or not tries:     # once per outage, not once per try
                log.warning("relay %s: %s; reconnecting with backoff", self.url, error)
            tries = 0 if got_audio else tries
            self._closing.wait(self.backoff[min(tries, len(self.backoff) - 1)])
            tries += 1

    def _pull_once(self) -> tuple[bool, str]:
        """Run ffmpeg on the stream until it stops: (whether audio came, the cause for the as-run note)."""
        try:
            process = subprocess.Popen(self._command(self.url), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            return False, i18n.tr("relay.never_connected", detail=exc)
        self._process = process
        errors = StderrTail(process.stderr, name="relay-stderr")   # read as it comes: see childerr
        got_audio = False
        carry = b""
        keep = self.cushion + int(0.5 * self.rate)
        try:
            while not self._over():
                chunk = process.stdout.read1(32768)
                if not chunk:
                    break
                data = carry + chunk
                usable = len(data) - len(data) % 4
                carry = data[usable:]
                block = np.frombuffer(data[:usable], dtype="<f4").copy()
                with self._lock:
                    if not got_audio:
                        got_audio = self._connected = self._ever_connected = True
                        self._cause = None
                    self._buffer.push(block)
                    # Unread audio (before air, during a cut-in) ages: keep the freshest only.
                    self._buffer.trim(keep)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            last = errors.last_line()
            process.stdout.close()
            process.stderr.close()
            self._process = None
        if not got_audio:
            return False, i18n.tr("relay.never_connected", detail=last or "?")
        return True, last or i18n.tr("relay.ended")


class _Airing:
    """One airing of a relay, as a source: reads go to the relay, close() leaves it running."""

    def __init__(self, relay: RelaySource) -> None:
        self.relay = relay
        self.rate = relay.rate

    def read(self, frames: int) -> np.ndarray:
        return self.relay.read(frames)

    def close(self) -> None:
        """The relay outlives its airings (see `RelaySource.airing`)."""
