"""A source fed by a child process: sound a program writes to its stdout, with no file between.

Where it sits: beside `WavSource`, for programmes that have no rendered file (the disk refused
it): ffmpeg decoding a recording, or eSpeak NG speaking a text to `--stdout`. The command is an
argument list (never a shell); text for the program goes to its stdin from a thread, so a long
text never blocks against the program's output. The program starts at the first `read()` (in
the output's prefetch thread, before air) and is killed by `close()` if it still runs.

Two kinds of stdout: raw float32 mono at a known rate (ffmpeg `-f f32le`), or a WAV stream
(eSpeak NG), whose header gives the rate (a `Chain` resamples it to the air's rate).
"""

from __future__ import annotations

import logging
import struct
import subprocess
import threading
from collections.abc import Sequence

import numpy as np

from broadcaster import i18n
from broadcaster.childerr import StderrTail
from broadcaster.errors import OutputError
from broadcaster.output.source import Source

log = logging.getLogger(__name__)


i18n.register({
    "output.pipe_failed": ("Không chạy được {program}: {detail}", "Could not run {program}: {detail}"),
    "output.pipe_bad_wav": ("{program} không xuất ra âm thanh WAV 16 bit: {detail}",
                            "{program} did not write 16-bit WAV sound: {detail}"),
})


class PipeSource(Source):
    """Float32 mono blocks from `command`'s stdout: raw float32 at `rate`, or a 16-bit WAV stream (`wav=True`).

    The program starts here (a `Chain` builds each part only when the air reaches it); a WAV
    stream's header is read at once, so `rate` is known before the first block.
    """

    def __init__(self, command: Sequence[str], *, rate: int | None = None, wav: bool = False,
                 stdin: bytes | None = None) -> None:
        self.command = list(command)
        self.program_frames = None          # known only once the program ends
        self._stdin = stdin
        self._feeder: threading.Thread | None = None
        self._channels, self._width = 1, 4  # frames on the pipe: float32 mono unless the header says
        self._pcm = False
        self._ended = False
        try:
            self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE if stdin is not None
                                             else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE)
        except OSError as exc:
            raise OutputError(i18n.tr("output.pipe_failed", program=self.program, detail=exc)) from exc
        # stderr is drained all along: a program that writes much there (ffmpeg on a damaged
        # recording, a line per bad frame) would otherwise fill the pipe and stop its sound.
        self._errors = StderrTail(self._process.stderr, name=f"pipe-{self.program}-stderr")
        if stdin is not None:
            self._feeder = threading.Thread(target=self._feed, args=(self._process,), name=f"pipe-{self.program}",
                                            daemon=True)
            self._feeder.start()
        try:
            self.rate = self._read_wav_header() if wav else int(rate)
        except BaseException:
            self.close()
            raise

    @property
    def program(self) -> str:
        return self.command[0].rsplit("/", 1)[-1]

    def _feed(self, process: subprocess.Popen) -> None:
        try:
            process.stdin.write(self._stdin)
        except OSError:                     # the program ended early: its exit status tells why
            pass
        finally:
            try:
                process.stdin.close()
            except OSError:
                pass

    def _exact(self, size: int) -> bytes:
        data = self._process.stdout.read(size)
        if len(data) != size:
            raise OutputError(i18n.tr("output.pipe_bad_wav", program=self.program, detail=self._stderr()
                                      or f"{len(data)} of {size} header bytes"))
        return data

    def _read_wav_header(self) -> int:
        """Skip the RIFF header up to the data chunk (its size is not trusted: a stream has none); the rate."""
        if self._exact(12)[8:12] != b"WAVE":
            raise OutputError(i18n.tr("output.pipe_bad_wav", program=self.program, detail="no RIFF/WAVE header"))
        rate = None
        while True:
            chunk, size = struct.unpack("<4sI", self._exact(8))
            if chunk == b"data":
                break
            body = self._exact(size + (size & 1))
            if chunk == b"fmt ":
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                if tag != 1 or bits != 16:
                    raise OutputError(i18n.tr("output.pipe_bad_wav", program=self.program,
                                              detail=f"format {tag}, {bits} bits"))
                self._channels, self._width, self._pcm = channels, 2 * channels, True
        if rate is None:
            raise OutputError(i18n.tr("output.pipe_bad_wav", program=self.program, detail="no fmt chunk"))
        return rate

    def _stderr(self) -> str:
        """The last line the program wrote to stderr, once it has ended."""
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        return self._errors.last_line()

    def read(self, frames: int) -> np.ndarray:
        if self._ended or self._process is None:
            return np.zeros(0, dtype=np.float32)
        data = self._process.stdout.read(frames * self._width)
        data = data[:len(data) - len(data) % self._width]
        if not data:
            self._ended = True
            code = self._process.wait()
            if code != 0:
                log.warning("%s ended with status %s: %s", self.program, code, self._stderr())
            return np.zeros(0, dtype=np.float32)
        if not self._pcm:
            return np.frombuffer(data, dtype="<f4").copy()
        pcm = np.frombuffer(data, dtype="<i2").reshape(-1, self._channels).mean(axis=1)
        return pcm.astype(np.float32) * np.float32(1 / 32768)

    def close(self) -> None:
        process, self._process = self._process, None
        self._ended = True
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        self._errors.join()
        for stream in (process.stdout, process.stderr):
            stream.close()
        if self._feeder is not None:
            self._feeder.join(timeout=1)
