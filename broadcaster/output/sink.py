"""Follower sinks: places that take a copy of the air block by block, paced by the station's output.

Where it sits: beside the station's `Output` (sound card or WAV files), which keeps time. Every
block the output airs is handed, through the `Switch`, to each follower's `write()`, stamped with
the wall time of its first sample; so every sink carries the same programme at the same second.
A follower must never slow the output down: `write()` only copies into a ring buffer, and a
thread of the sink's own delivers from there (to an encoder, a file, a network). What it could
not take (ring full, its destination away) it counts, and `missed()` reports it per programme.

An Icecast mount is meant to be a follower: a `BufferedSink` whose `deliver()` feeds one
long-lived ffmpeg encoder; a recorder of the air would be another.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

import numpy as np

from broadcaster.errors import OutputError
from broadcaster.output.source import Ring

log = logging.getLogger(__name__)

RING_SECONDS = 5.0        # how much air a follower may fall behind before it drops blocks
POLL_SECONDS = 0.02       # the delivery thread looks at its ring this often


class Sink(ABC):
    """A follower of the air: takes float32 mono blocks at `rate`, never blocks, reports what it missed."""

    name: str
    rate: int

    @abstractmethod
    def write(self, block: np.ndarray, at: float | None = None, *, label: str | None = None) -> None:
        """Take a copy of `block` (float32 mono), whose first sample airs at epoch `at`. Never blocks.

        `label` names the programme the block belongs to (None: silence between programmes, or a
        programme not routed to this sink), so a sink can say which programme lost what.
        """

    @abstractmethod
    def missed(self) -> float:
        """Seconds of air lost since the last call (dropped or undeliverable), and start counting again."""

    def close(self) -> None:
        """Deliver what is buffered, then release the destination."""


class BufferedSink(Sink):
    """A follower with a ring buffer and a delivery thread; subclasses implement `deliver()`.

    One writer at a time (the `Switch` serialises writes), one reader (the delivery thread),
    through a lock-free `Ring`: `write()` never waits.
    """

    def __init__(self, name: str, rate: int, *, ring_seconds: float = RING_SECONDS) -> None:
        self.name = name
        self.rate = rate
        self._ring = Ring(int(ring_seconds * rate))
        self._block = np.zeros(len(self._ring), dtype=np.float32)
        self._dropped = 0                  # frames (writer side)
        self._undelivered = 0              # frames (delivery side)
        self._reported = 0
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sink-{name}", daemon=True)
        self._thread.start()

    def write(self, block: np.ndarray, at: float | None = None, *, label: str | None = None) -> None:
        self._dropped += len(block) - self._ring.write(block)

    def missed(self) -> float:
        lost = self._dropped + self._undelivered
        seconds = (lost - self._reported) / self.rate
        self._reported = lost
        return seconds

    def _run(self) -> None:
        while True:
            closing = self._closing.is_set()
            n = self._ring.read_into(self._block)
            if n:
                block = self._block[:n].copy()
                try:
                    self.deliver(block)
                except OutputError as exc:
                    self._undelivered += n
                    log.debug("sink %s could not deliver %.2f s: %s", self.name, n / self.rate, exc)
            elif closing:
                return
            else:
                self._closing.wait(POLL_SECONDS)

    @abstractmethod
    def deliver(self, block: np.ndarray) -> None:
        """Send `block` on (the delivery thread; may block; raise OutputError to count it missed)."""

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
