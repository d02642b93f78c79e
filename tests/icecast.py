"""A real Icecast server (Debian `icecast2`) on loopback for the tests, and real listeners.

`IcecastServer` writes its own config (127.0.0.1, a free port, burst-on-connect off so a
listener hears what is sent now, not a buffered past), starts `icecast2` and polls
`/status-json.xsl` until it answers. Icecast refuses to run as root, so as root the config
asks it to change owner to the `icecast2` user, whose log folder and pid file must then be
writable by that user: its folder is made with mkdtemp outside pytest's root-only tmp tree.
It is stopped by its pid (it may be stopped and started again on the same port to play an
outage).

`Listener` is a real HTTP client on a mount; what it received is decoded by ffmpeg, and each
chunk is stamped with its arrival time, so a test can say which tone a listener heard and when.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from tests.helpers import free_port

RATE = 48_000
SOURCE_PASSWORD = "nguon-thu-nghiem"
ADMIN_PASSWORD = "quan-tri-thu-nghiem"
ICECAST_USER = "icecast2"


class IcecastServer:
    """One icecast2 process on 127.0.0.1:`port`; `start()`, `stop()` (by pid), `start()` again."""

    def __init__(self, port: int | None = None, password: str = SOURCE_PASSWORD) -> None:
        self.port = port or free_port()
        self.password = password
        self.root = Path(tempfile.mkdtemp(prefix="broadcaster-icecast-"))
        self.config = self.root / "icecast.xml"
        self.logdir = self.root / "log"
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def source_url(self, mount: str) -> str:
        """The schedule's form: no password in it."""
        return f"icecast://source@127.0.0.1:{self.port}/{mount.lstrip('/')}"

    def secrets_text(self) -> str:
        return f'passwords:\n  "source@127.0.0.1:{self.port}": "{self.password}"\n'

    def _write_config(self) -> None:
        self.logdir.mkdir(exist_ok=True)
        owner = ""
        if os.geteuid() == 0:
            entry = pwd.getpwnam(ICECAST_USER)
            for path in (self.root, self.logdir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            owner = (f"<changeowner><user>{ICECAST_USER}</user>"
                     f"<group>{grp.getgrgid(entry.pw_gid).gr_name}</group></changeowner>")
        self.config.write_text(f"""<icecast>
  <location>loopback</location><admin>test@localhost</admin><hostname>127.0.0.1</hostname>
  <limits>
    <clients>400</clients><sources>20</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>5</source-timeout>
    <burst-on-connect>0</burst-on-connect><burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>{self.password}</source-password>
    <admin-user>admin</admin-user><admin-password>{ADMIN_PASSWORD}</admin-password>
  </authentication>
  <listen-socket><port>{self.port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir><logdir>{self.logdir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>{self.root / "icecast.pid"}</pidfile>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
""", encoding="utf-8")
        self.config.chmod(0o644)

    def start(self, timeout: float = 10.0) -> None:
        self._write_config()
        self.process = subprocess.Popen(["icecast2", "-c", str(self.config)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"icecast2 exited at start ({self.process.returncode}): {error}")
            try:
                self.status()
                return
            except (OSError, ValueError):   # not listening yet, or a reply cut while it starts
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"icecast2 did not answer within {timeout} s")

    def status(self) -> dict:
        """Icecast's status JSON (raises OSError while it does not answer)."""
        with urllib.request.urlopen(f"{self.base}/status-json.xsl", timeout=2) as reply:
            return json.loads(reply.read().decode("utf-8", errors="replace"))

    def mounts(self) -> dict[str, dict]:
        """Mount path -> its status entry (listeners, ...), for the sources connected now."""
        status = self.status()
        # Seen while icecast2 came back up after a restart: a reply that is not the usual mapping.
        stats = status.get("icestats") if isinstance(status, dict) else None
        sources = (stats.get("source") if isinstance(stats, dict) else None) or []
        if isinstance(sources, dict):
            sources = [sources]
        return {"/" + s["listenurl"].split("/", 3)[3]: s for s in sources if "listenurl" in s}

    def wait_for_mounts(self, *mounts: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if all(m in self.mounts() for m in mounts):
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop icecast2 by its pid (SIGTERM, then SIGKILL); safe to call twice."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout)
        process.stderr.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Listener:
    """A real HTTP client on a mount for `seconds`; the MP3 it received is decoded by ffmpeg.

    Bytes are stamped as they arrive. ffmpeg decodes the whole capture afterwards rather than
    live: as a live client it buffers about a second while it probes, which would measure ffmpeg
    and not the station. A constant-bitrate stream maps each decoded second back to the bytes,
    and so to the moment, it arrived in.
    """

    def __init__(self, url: str, seconds: float, bitrate: int = 64) -> None:
        self.url = url
        self.seconds = seconds
        self.bitrate = bitrate
        self.chunks: list[tuple[float, bytes]] = []
        self._thread: threading.Thread | None = None
        self._samples: np.ndarray | None = None

    def start(self) -> "Listener":
        self._thread = threading.Thread(target=self._read, name="icecast-listener", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        deadline = time.monotonic() + self.seconds
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=2) as sock:
                sock.sendall(f"GET {parts.path} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    data = sock.recv(4096)
                    if not data:
                        return
                    head += data
                body = head.split(b"\r\n\r\n", 1)[1]
                if body:
                    self.chunks.append((time.time(), body))
                while time.monotonic() < deadline:
                    sock.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
                    try:
                        data = sock.recv(8192)
                    except TimeoutError:
                        continue
                    if not data:
                        return
                    self.chunks.append((time.time(), data))
        except OSError:
            return

    def stop(self, timeout: float | None = None) -> None:
        """Wait for the listener to end by itself (after `seconds`)."""
        if self._thread is not None:
            self._thread.join(self.seconds + 5 if timeout is None else timeout)

    @property
    def container(self) -> str:
        return "mp3" if self.url.endswith(".mp3") else "ogg"

    def samples(self) -> np.ndarray:
        if self._samples is None:
            data = b"".join(c for _, c in self.chunks)
            decoded = subprocess.run(
                ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "quiet", "-f", self.container, "-i", "pipe:0",
                 "-f", "f32le", "-ac", "1", "-ar", str(RATE), "pipe:1"],
                input=data, capture_output=True, check=False).stdout
            self._samples = np.frombuffer(decoded[:len(decoded) - len(decoded) % 4], dtype="<f4")
        return self._samples

    def onset(self, hertz: float, threshold: float = 0.05, window: float = 0.05, after: float = 0.0) -> float | None:
        """Seconds into the capture where `hertz` is first heard (after `after`), or None."""
        samples = self.samples()
        size = int(window * RATE)
        probe = np.exp(-2j * np.pi * hertz * np.arange(size) / RATE)
        for start in range(int(after * RATE), len(samples) - size + 1, size):
            if 2 * abs(np.dot(samples[start:start + size], probe)) / size > threshold:
                return start / RATE
        return None

    def heard(self, hertz: float, **kwargs) -> float | None:
        """When `hertz` was first heard (wall time, seconds since the epoch), or None."""
        offset = self.onset(hertz, **kwargs)
        if offset is None:
            return None
        byte = offset * self.bitrate * 125
        received = 0
        for arrived, chunk in self.chunks:
            received += len(chunk)
            if received > byte:
                return arrived
        return None

    def level(self, hertz: float, start: float, length: float) -> float:
        """Amplitude of `hertz` in [start, start + length) seconds of the capture."""
        samples = self.samples()[int(start * RATE):int((start + length) * RATE)]
        if not len(samples):
            return 0.0
        t = np.arange(len(samples)) / RATE
        return float(2 * abs(np.dot(samples, np.exp(-2j * np.pi * hertz * t))) / len(samples))


class ToneSource:
    """ffmpeg sending a live sine to an Icecast mount (a national station, for the test)."""

    def __init__(self, server: IcecastServer, mount: str, hertz: int, level_db: float) -> None:
        self.server, self.mount, self.hertz, self.level = server, mount, hertz, 10 ** (level_db / 20)
        self.process: subprocess.Popen | None = None

    def start(self) -> "ToneSource":
        url = f"icecast://source:{self.server.password}@127.0.0.1:{self.server.port}/{self.mount}"
        self.process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
             "-i", f"sine=f={self.hertz}:r=44100,volume={self.level:.4f}", "-ac", "2", "-c:a", "libmp3lame",
             "-b:a", "96k", "-content_type", "audio/mpeg", "-flush_packets", "1", "-f", "mp3", url],
            stdin=subprocess.DEVNULL)
        if not self.server.wait_for_mounts("/" + self.mount):
            self.kill()
            raise RuntimeError(f"the test source never came up on /{self.mount}")
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
