"""A child process's stderr, read as it comes by a thread of its own, only its tail kept.

Where it sits: beside every stage that reads a program's stdout as a stream (the programme stage
decoding a recording, the output's pipe sources). A stderr pipe nobody reads fills at 64 KiB and
the program then stops writing its stdout too, so the reader waits for ever; ffmpeg writes a line
per bad frame of a damaged recording (megabytes for a long one). Out: the last line, to name the
failure in a message.
"""

from __future__ import annotations

import threading
from typing import BinaryIO

KEEP = 4096          # bytes kept: enough for the last lines, however much the program writes


class StderrTail:
    """Reads `stream` to its end on a daemon thread; `last_line()` once the program has ended."""

    def __init__(self, stream: BinaryIO, name: str = "stderr") -> None:
        self._tail = b""
        self._thread = threading.Thread(target=self._read, args=(stream,), name=name, daemon=True)
        self._thread.start()

    def _read(self, stream: BinaryIO) -> None:
        try:
            while chunk := stream.read1(65536):
                self._tail = (self._tail + chunk)[-KEEP:]
        except (OSError, ValueError):       # the stream was closed under it
            pass

    def join(self, timeout: float = 1.0) -> None:
        self._thread.join(timeout)

    def last_line(self, timeout: float = 1.0) -> str:
        """The last line written (the program has ended: its stderr is at its end), or ""."""
        self.join(timeout)
        text = self._tail.decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else ""
