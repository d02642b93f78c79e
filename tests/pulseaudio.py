"""A private PulseAudio server whose only sink is a FIFO the tests read: real playback without a sound card.

The recipe: user-mode `pulseaudio` with its own XDG_RUNTIME_DIR, only
the native protocol (anonymous auth) and a `module-pipe-sink` writing float32 mono at the
sink rate into a FIFO, paced by the system clock. A reader thread drains the FIFO into a
buffer and stamps each chunk with its arrival time, so tests can compare what was played
(sample-exact) and when it was heard (the first non-silent sample).

Playback code reaches this server through PortAudio's ALSA `pulse`/`default` devices, which
follow `PULSE_SERVER`; PortAudio lists devices once at initialisation, so `activate()` sets
the environment and re-initialises it.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RATE = 48_000


class PulseServer:
    """One private PulseAudio daemon rooted in `root` (a fresh temporary folder)."""

    def __init__(self, root: Path, rate: int = RATE) -> None:
        self.root = Path(root)
        self.rate = rate
        self.runtime = self.root / "runtime"
        self.fifo = self.root / "sink.fifo"
        self.socket = self.runtime / "native"
        self.pid: int | None = None
        self._chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._fd: int | None = None
        self._closing = threading.Event()
        self._stopping = threading.Lock()

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    def env(self) -> dict[str, str]:
        """The environment that points PulseAudio clients (and its own tools) at this server."""
        return {**os.environ, "XDG_RUNTIME_DIR": str(self.runtime), "PULSE_SERVER": self.server,
                "PULSE_RUNTIME_PATH": str(self.runtime / "pulse"), "HOME": str(self.root)}

    def start(self, timeout: float = 10.0) -> None:
        """Start the daemon (again, after `stop()`: a sound card that comes back)."""
        self._closing.clear()
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        config = self.root / "default.pa"
        config.write_text(
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}\n"
            f"load-module module-pipe-sink sink_name=capture file={self.fifo} format=float32le "
            f"rate={self.rate} channels=1 use_system_clock_for_timing=yes\n"
            "set-default-sink capture\n")
        # O_RDWR: opening a FIFO for reading alone would block until pulseaudio opens it.
        self._fd = os.open(self.fifo, os.O_RDWR)
        self._reader = threading.Thread(target=self._drain, name="pulse-fifo-reader", daemon=True)
        self._reader.start()
        subprocess.run(
            ["pulseaudio", "-n", "-F", str(config), "--daemonize=yes", "--exit-idle-time=-1",
             "--use-pid-file=yes", "--log-target=stderr", "--log-level=error"],
            env=self.env(), check=True, capture_output=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(["pactl", "info"], env=self.env(), capture_output=True, timeout=timeout)
            if ready.returncode == 0:
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"pulseaudio did not answer within {timeout} s")
        self.pid = int((self.runtime / "pulse" / "pid").read_text().split()[0])
        log.info("private pulseaudio %s up at %s", self.pid, self.server)

    def _drain(self) -> None:
        fd = self._fd
        while not self._closing.is_set():
            # select with a timeout: we hold the write end too, so the FIFO never reports EOF.
            readable, _, _ = select.select([fd], [], [], 0.05)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            arrived = time.time()
            with self._lock:
                self._chunks.append((arrived, chunk))

    def running(self) -> bool:
        if self.pid is None:
            return False
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return False
        # A daemonised server that exited may linger as a zombie until init reaps it.
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the daemon (pulseaudio -k, then its pid) and the reader; safe to call twice, and from
        two threads at once (a test's timer that unplugs the server mid-programme, then the
        fixture's teardown): the second call waits for the first, which closes the FIFO once."""
        with self._stopping:
            self._stop(timeout)

    def _stop(self, timeout: float) -> None:
        if self.pid is not None and self.running():
            subprocess.run(["pulseaudio", "-k"], env=self.env(), capture_output=True, timeout=timeout)
            deadline = time.monotonic() + timeout
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.running():
                os.kill(self.pid, signal.SIGKILL)
                while self.running():
                    time.sleep(0.02)
        self.pid = None
        self._closing.set()
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- what was played ---------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()

    def _snapshot(self) -> list[tuple[float, bytes]]:
        with self._lock:
            return list(self._chunks)

    def captured(self) -> np.ndarray:
        """Every float32 sample the sink received since the last `clear()`."""
        data = b"".join(chunk for _, chunk in self._snapshot())
        usable = len(data) - len(data) % 4
        return np.frombuffer(data[:usable], dtype="<f4")

    def first_sound(self, threshold: float = 1e-4) -> tuple[int, float] | None:
        """(sample index, arrival time) of the first sample above `threshold`, or None.

        The arrival time is when the block holding that sample was read from the FIFO plus the
        sample's offset in the block: the pipe sink writes each block when it is due (system
        clock), so this is when a listener would have heard it.
        """
        index = 0
        carry = b""
        for arrived, chunk in self._snapshot():
            carry_before = carry
            data = carry + chunk
            usable = len(data) - len(data) % 4
            samples = np.frombuffer(data[:usable], dtype="<f4")
            carry = data[usable:]
            loud = np.flatnonzero(np.abs(samples) > threshold)
            if len(loud):
                # The sink writes each block when its first sample is due, so a sample `k`
                # frames into the block was due k frames after the block arrived.
                first = int(loud[0])
                due = arrived + (first - len(carry_before) // 4) / self.rate
                return index + first, due
            index += len(samples)
        return None

    def wait_for_samples(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least `count` samples arrived (the sink drains in real time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(len(c) for _, c in self._snapshot()) // 4 >= count:
                return True
            time.sleep(0.02)
        return False

    def activate(self) -> None:
        """Point this process's PortAudio at this server (environment + re-initialisation)."""
        for key in ("XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_RUNTIME_PATH"):
            os.environ[key] = self.env()[key]
        from broadcaster.output.device import refresh_portaudio

        refresh_portaudio()
