"""The Icecast sink: air as it plays, encoded and sent to one Icecast mount (a zone or an output).

Where it sits: beside the sound card at the end of the flow. The playout clock hands every
sink the same blocks (48 kHz mono float32) at the same moment; this sink queues them without
ever blocking (the sound card must never wait for a network), and its own thread writes them
to an ffmpeg encoder (libmp3lame or libopus, mono) whose output it sends to Icecast as a source
client (HTTP PUT with the password from the secrets file). In: blocks tagged with the programme
they belong to (None = silence between programmes). Out: the stream, `state()` for `broadcaster
outputs`, and `take_missed(label)`: the parts of a programme that never reached the mount.

Why the HTTP part is ours and not ffmpeg's icecast:// output: ffmpeg would need the password on
its command line, where any local user reads it in /proc; and here the sink knows the moment a
connection breaks, so the gap is logged once per outage and accounted per programme.

Between programmes the sink keeps sending silence (receivers stay connected). When Icecast
goes away the encoder is stopped, blocks are counted as missed, and the connection is retried
with backoff; the next connection starts a fresh encoder (new stream headers, which Ogg needs).
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from broadcaster import i18n
from broadcaster.output.sink import Sink
from broadcaster.schedule.model import Station, StreamSettings
from broadcaster.schedule.outputs import IcecastMount, is_icecast, parse_icecast

log = logging.getLogger(__name__)

RATE = 48_000
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)   # seconds between reconnection tries
QUEUE_SECONDS = 2.0                          # audio the sink holds before it drops (never blocks)
IDLE_FILL = 0.2                              # fill with silence once the feed is this late
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg"}

i18n.register({
    "icecast.refused": ("Icecast từ chối: {detail}", "Icecast refused: {detail}"),
    "icecast.unreachable": ("không kết nối được Icecast: {detail}", "cannot reach Icecast: {detail}"),
    "icecast.lost": ("mất kết nối Icecast: {detail}", "lost the Icecast connection: {detail}"),
    "icecast.encoder": ("bộ mã hóa ffmpeg dừng: {detail}", "the ffmpeg encoder stopped: {detail}"),
})


@dataclass(frozen=True)
class MissedPart:
    """A stretch of a programme that did not reach the mount: `start` seconds into it, `seconds` long."""

    label: str
    start: float
    seconds: float


@dataclass(frozen=True)
class SinkState:
    name: str
    connected: bool
    since: float | None              # clock time of the last change of `connected`
    last_error: str | None
    outages: int


def encoder_command(stream: StreamSettings, rate: int = RATE) -> list[str]:
    """ffmpeg: raw float32 mono on stdin -> an MP3 or Ogg/Opus stream on stdout, packet by packet."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
               "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0", "-ac", "1",
               "-b:a", f"{stream.bitrate}k"]
    if stream.format == "opus":
        # Ogg pages of 20 ms instead of the muxer's default second: listeners hear it now.
        command += ["-c:a", "libopus", "-application", "audio", "-page_duration", "20000", "-f", "ogg"]
    else:
        command += ["-c:a", "libmp3lame", "-f", "mp3"]
    # Without -flush_packets the pipe's 32 KB buffer holds seconds of a 64 kbit/s stream.
    return command + ["-flush_packets", "1", "pipe:1"]


class IcecastSink(Sink):
    """One Icecast mount fed from the playout clock. `start()`, `write()` each block, `close()`."""

    def __init__(self, mount: IcecastMount, password: str, stream: StreamSettings, *, name: str | None = None,
                 rate: int = RATE, clock: Callable[[], float] = time.monotonic,
                 backoff: Sequence[float] = BACKOFF, timeout: float = 5.0) -> None:
        self.mount = mount
        self.name = name or mount.url
        self._password = password
        self.stream = stream
        self.rate = rate
        self.clock = clock
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(QUEUE_SECONDS * 10)))
        self._lock = threading.Lock()   # guards the state and missed fields below; never held while doing I/O
        self._connected = False
        self._since: float | None = None
        self._last_error: str | None = None
        self._outages = 0
        self._in_outage = False
        self._missed: dict[str, list[MissedPart]] = {}
        self._position: dict[str, float] = {}     # seconds of each label seen so far
        self._unreported = 0                       # frames lost since the last missed()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"icecast {mount.mount}", daemon=True)
        self._socket: socket.socket | None = None
        self._encoder: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None
        self._broken: str | None = None            # set by the pump when the connection breaks

    # -- the playout side (never blocks) ----------------------------------------------------------
    def start(self) -> "IcecastSink":
        self._thread.start()
        return self

    def write(self, block: np.ndarray, at: float | None = None, *, label: str | None = None) -> None:
        """Queue one block (its first sample airs at epoch `at`); when the queue is full it counts as missed.

        `label` names the programme the block belongs to (None between programmes), for `take_missed`.
        """
        try:
            self._queue.put_nowait((block, label))
        except queue.Full:
            self._account(label, len(block), delivered=False)

    def missed(self) -> float:
        """Seconds of air (programmes and silence) that did not reach the mount since the last call."""
        with self._lock:
            frames, self._unreported = self._unreported, 0
        return frames / self.rate

    def take_missed(self, label: str) -> list[MissedPart]:
        """The parts of programme `label` that never reached the mount (forgotten once taken)."""
        with self._lock:
            self._position.pop(label, None)
            return self._missed.pop(label, [])

    def state(self) -> SinkState:
        with self._lock:
            return SinkState(self.name, self._connected, self._since, self._last_error, self._outages)

    def close(self, timeout: float = 5.0) -> None:
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._disconnect()

    # -- accounting -------------------------------------------------------------------------------
    def _account(self, label: str | None, frames: int, *, delivered: bool) -> None:
        if not delivered:
            with self._lock:
                self._unreported += frames
        if label is None:
            return
        seconds = frames / self.rate
        with self._lock:
            start = self._position.get(label, 0.0)
            self._position[label] = start + seconds
            if delivered:
                return
            parts = self._missed.setdefault(label, [])
            if parts and abs(parts[-1].start + parts[-1].seconds - start) < 1e-6:
                last = parts[-1]
                parts[-1] = MissedPart(label, last.start, last.seconds + seconds)
            else:
                parts.append(MissedPart(label, start, seconds))

    def _set_state(self, connected: bool, error: str | None = None) -> None:
        now = self.clock()
        with self._lock:
            was, self._connected = self._connected, connected
            if was != connected:
                self._since = now
            if error is not None:
                self._last_error = error
            outage_starts = not connected and not self._in_outage
            outage_ends = connected and self._in_outage
            if outage_starts:
                self._in_outage = True
                self._outages += 1
            if outage_ends:
                self._in_outage = False
        # One warning per outage, however many tries it takes; the recovery is an info line.
        if outage_starts:
            log.warning("Icecast mount %s is off the air: %s (retrying with backoff)", self.name, error)
        elif outage_ends:
            log.info("Icecast mount %s is back on the air", self.name)

    # -- the sink's thread -----------------------------------------------------------------------
    def _run(self) -> None:
        tries = 0
        next_try = self.clock()
        fed_until = self.clock()
        silence = np.zeros(int(0.1 * self.rate), dtype=np.float32)
        while not self._closing.is_set():
            if self._encoder is None and self.clock() >= next_try:
                error = self._connect()
                if error is None:
                    tries = 0
                    fed_until = self.clock()
                    self._set_state(True)
                else:
                    self._set_state(False, error)
                    next_try = self.clock() + self.backoff[min(tries, len(self.backoff) - 1)]
                    tries += 1
            try:
                block, label = self._queue.get(timeout=0.05)
            except queue.Empty:
                # Nothing from the playout: keep the stream running in real time with silence.
                if self._encoder is not None and self.clock() - fed_until > IDLE_FILL:
                    while fed_until < self.clock() and self._encoder is not None:
                        self._send(silence, None)
                        fed_until += len(silence) / self.rate
                continue
            fed_until = max(fed_until, self.clock()) + len(block) / self.rate
            self._send(block, label)

    def _send(self, block: np.ndarray, label: str | None) -> None:
        encoder = self._encoder
        if encoder is None or self._broken is not None:
            if encoder is not None:
                self._lost(self._broken)
            self._account(label, len(block), delivered=False)
            return
        try:
            encoder.stdin.write(np.asarray(block, dtype="<f4").tobytes())
            encoder.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            self._lost(self._broken or i18n.tr("icecast.encoder", detail=exc))
            self._account(label, len(block), delivered=False)
            return
        self._account(label, len(block), delivered=True)

    def _lost(self, error: str | None) -> None:
        self._disconnect()
        self._set_state(False, error or i18n.tr("icecast.lost", detail="?"))

    def _connect(self) -> str | None:
        """Open the source connection and a fresh encoder; the error text, or None when on air."""
        mount = self.mount
        auth = base64.b64encode(f"{mount.user}:{self._password}".encode()).decode("ascii")
        request = (f"PUT {mount.mount} HTTP/1.1\r\nHost: {mount.host}:{mount.port}\r\n"
                   f"Authorization: Basic {auth}\r\nUser-Agent: broadcaster\r\n"
                   f"Content-Type: {CONTENT_TYPES[self.stream.format]}\r\nIce-Public: 0\r\n"
                   f"Ice-Audio-Info: channels=1;samplerate={self.rate};bitrate={self.stream.bitrate}\r\n\r\n")
        try:
            sock = socket.create_connection((mount.host, mount.port), timeout=self.timeout)
        except OSError as exc:
            return i18n.tr("icecast.unreachable", detail=exc.strerror or exc)
        try:
            sock.sendall(request.encode("ascii"))
            reply = sock.recv(1024).decode("latin-1")
        except OSError as exc:
            sock.close()
            return i18n.tr("icecast.unreachable", detail=exc.strerror or exc)
        status = reply.split("\r\n", 1)[0]
        if " 200" not in status:
            sock.close()
            return i18n.tr("icecast.refused", detail=status.strip() or "?")
        try:
            encoder = subprocess.Popen(encoder_command(self.stream, self.rate), stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            sock.close()
            return i18n.tr("icecast.encoder", detail=exc)
        self._socket, self._encoder, self._broken = sock, encoder, None
        self._pump = threading.Thread(target=self._forward, args=(encoder, sock), daemon=True,
                                      name=f"icecast-send {mount.mount}")
        self._pump.start()
        return None

    def _forward(self, encoder: subprocess.Popen, sock: socket.socket) -> None:
        """Encoder output -> the Icecast connection, until either ends."""
        try:
            while chunk := encoder.stdout.read1(16384):
                sock.sendall(chunk)
        except OSError as exc:
            self._broken = i18n.tr("icecast.lost", detail=exc.strerror or exc)
            return
        error = encoder.stderr.read().decode(errors="replace").strip().splitlines()
        self._broken = i18n.tr("icecast.encoder", detail=error[-1] if error else "?")

    def _disconnect(self) -> None:
        encoder, sock, pump = self._encoder, self._socket, self._pump
        self._encoder = self._socket = self._pump = None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if encoder is not None:
            for stream in (encoder.stdin,):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                encoder.wait(2)
            except subprocess.TimeoutExpired:
                encoder.kill()
                encoder.wait()
        if pump is not None:
            pump.join(2)
        if encoder is not None:
            encoder.stdout.close()
            encoder.stderr.close()


def listeners(mount: IcecastMount, timeout: float = 2.0) -> int | None:
    """Listeners on `mount` from Icecast's status JSON; None when the server does not answer."""
    mounts = _mounts_on(mount.host, mount.port, timeout)
    return None if mounts is None else mounts.get(mount.mount, 0)


@dataclass(frozen=True)
class OutputStatus:
    """One line of `broadcaster outputs`: an output or zone, where it goes and how it is doing."""

    name: str                        # "default", "file:...", or "zone thon-dong"
    target: str                      # where it goes (never a password)
    connected: bool | None           # None: nobody can tell (no daemon, Icecast silent)
    listeners: int | None
    last_error: str | None
    source: str                      # who said so: "daemon", "icecast" or "-"


def _mounts_on(host: str, port: int, timeout: float) -> dict[str, int] | None:
    """Mount path -> listeners of every source connected to one Icecast server; None if it is down."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/status-json.xsl", timeout=timeout) as reply:
            stats = json.loads(reply.read().decode("utf-8", errors="replace")).get("icestats", {})
    except (OSError, ValueError):
        return None
    sources = stats.get("source") or []
    if isinstance(sources, dict):
        sources = [sources]
    mounts = {}
    for source in sources:
        url = str(source.get("listenurl", ""))
        if url.count("/") >= 3:
            mounts["/" + url.split("/", 3)[3]] = int(source.get("listeners") or 0)
    return mounts


def output_statuses(outputs: Sequence[str], zones: dict[str, str], live: dict[str, dict] | None,
                    timeout: float = 2.0) -> list[OutputStatus]:
    """Every output and zone with its state: the daemon's word when it runs (`live`, keyed by sink
    name: an output's URL, a zone's name), listeners from each Icecast server's status JSON."""
    servers: dict[tuple[str, int], dict[str, int] | None] = {}
    rows = []
    # (shown name, where it goes, the daemon's sink name: the URL for an output, the zone's name)
    named = [(spec, spec, spec) for spec in outputs] + [(f"zone {zone}", url, zone) for zone, url in zones.items()]
    for name, spec, key in named:
        said = (live or {}).get(key)
        listeners_now = None
        connected = said.get("connected") if said else None
        error = said.get("last_error") if said else None
        source = "daemon" if said else "-"
        if is_icecast(spec):
            mount = parse_icecast(spec)
            server = (mount.host, mount.port)
            if server not in servers:
                servers[server] = _mounts_on(mount.host, mount.port, timeout)
            mounts = servers[server]
            if mounts is None:
                error = error or i18n.tr("icecast.unreachable", detail=f"{mount.host}:{mount.port}")
                connected = False if said is None else connected
            else:
                listeners_now = mounts.get(mount.mount)
                if said is None:
                    connected, source = mount.mount in mounts, "icecast"
        rows.append(OutputStatus(name, spec, connected, listeners_now, error, source))
    return rows


def station_sinks(station: Station, **options) -> list[IcecastSink]:
    """One (unstarted) sink per Icecast output, named by its URL, and per zone, named by the zone."""
    named = [(spec, spec) for spec in station.outputs if is_icecast(spec)] + list(station.zones.items())
    sinks = []
    for name, url in named:
        mount = parse_icecast(url)
        sinks.append(IcecastSink(mount, station.passwords.get(mount.key, ""), station.stream, name=name, **options))
    return sinks


def routed_sinks(station: Station, zones: Sequence[str], *, emergency: bool = False) -> frozenset[str] | None:
    """The sinks a programme airs on: None (all) for emergencies and slots without zones; else
    the slot's zones and the main Icecast outputs (the station's own air carries every slot)."""
    if emergency or not zones:
        return None
    return frozenset(zones) | frozenset(spec for spec in station.outputs if is_icecast(spec))
