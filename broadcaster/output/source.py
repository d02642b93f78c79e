"""Sources: where the blocks of sound a sink plays come from, read a block at a time.

Where it sits: between a programme file on disk and a sink (sound card, WAV file). A source
yields float32 mono blocks in [-1, 1) on request, so no part of the air ever holds a whole
programme in memory: a 60-minute programme is 690 MB as float32 but is read here one block at a
time. `Prefetch` runs a source ahead of a real-time consumer in its own thread, so an audio
callback copies from memory and never waits for the disk.

- `WavSource`: a 16-bit PCM WAV from disk (a programme), optionally followed by silence.
- `Silence`: zeros, forever (what the air carries between programmes).
- `Chain`: sources one after another with pauses, each opened when reached and resampled to the
  air's rate (a programme aired straight from its parts when no render of it could be written).
"""

from __future__ import annotations

import logging
import threading
import wave
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from broadcaster import i18n, wav
from broadcaster.errors import BroadcasterError, OutputError

log = logging.getLogger(__name__)

READ_SECONDS = 0.1        # a disk read: 19 KB of a 48 kHz mono 16-bit programme
PREFETCH_SECONDS = 2.0    # how far a prefetch reads ahead of the consumer
POLL_SECONDS = 0.01       # a full ring is looked at again this often (the callback takes no lock to wake it)


class Source(ABC):
    """Sound, a block at a time: float32 mono at `rate`.

    `program_frames` is how many frames are the programme itself, when known (a file), None for
    a live source; `pad_frames` of trailing silence may follow it (the sound card needs some).
    Outputs accept any object with `rate`, `read()` and `close()` (both counts are optional), so
    a live source need not derive from this class; `read()` may block (it runs in a `Prefetch`
    thread, up to `PREFETCH_SECONDS` plus the output's lead ahead of the air).
    """

    rate: int
    program_frames: int | None = None
    pad_frames: int = 0

    @abstractmethod
    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` frames (fewer only at the end); an empty array once the source has ended."""

    def close(self) -> None:
        """Release the file or connection behind the source."""


class Silence(Source):
    """Zeros, never ending."""

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def read(self, frames: int) -> np.ndarray:
        return np.zeros(frames, dtype=np.float32)


@contextmanager
def wav_errors(path: Path, key: str = "output.bad_wav") -> Iterator[None]:
    """Turn a WAV file's errors into the output stage's OutputError, with the file's name."""
    try:
        yield
    except (OSError, EOFError, wave.Error) as exc:
        raise OutputError(i18n.tr(key, path=path, detail=exc)) from exc


class WavReader(wav.Reader):
    """`wav.Reader` for the output stage: an unreadable programme is an OutputError."""

    def __init__(self, path: Path) -> None:
        with wav_errors(path):
            super().__init__(path)

    def seek(self, frame: int) -> None:
        with wav_errors(self.path):
            super().seek(frame)

    def read(self, frames: int) -> np.ndarray:
        with wav_errors(self.path):
            return super().read(frames)


class WavWriter(wav.Writer):
    """`wav.Writer` for the output stage: a file that cannot be written is an OutputError."""

    def __init__(self, path: Path, rate: int, channels: int = 1) -> None:
        with wav_errors(path, "output.write_failed"):
            super().__init__(path, rate, channels)

    def write(self, samples: np.ndarray) -> None:
        with wav_errors(self.path, "output.write_failed"):
            super().write(samples)

    def close(self) -> None:
        with wav_errors(self.path, "output.write_failed"):
            super().close()


class WavSource(Source):
    """A programme WAV streamed from disk as float32 mono, ending in at least `pad_seconds` of silence.

    Only the silence the file lacks is added: a programme from the programme stage already ends
    in `constants.TRAILING_SILENCE`, so it is not padded twice.

    `program_frames` counts the programme's frames read so far plus those the header promises,
    so a sink can tell "played to the end" from "cut"; it shrinks to what was really there if
    the file is shorter than its header says.
    """

    def __init__(self, path: Path, *, pad_seconds: float = 0.0) -> None:
        self._reader = WavReader(path)
        self.rate = self._reader.rate
        self.program_frames = self._reader.frames
        self.pad_frames = max(0, int(pad_seconds * self.rate) - self._silent_tail(int(pad_seconds * self.rate)))
        self.position = 0                 # frames handed out, padding included
        self._read = 0                    # programme frames read from the file
        self._data_done = False
        self._pad_left = self.pad_frames

    @property
    def total_frames(self) -> int:
        return self.program_frames + self.pad_frames

    def _silent_tail(self, frames: int) -> int:
        """How many of the file's last `frames` frames are digital silence (one short read)."""
        tail = min(frames, self.program_frames)
        if tail <= 0:
            return 0
        self._reader.seek(self.program_frames - tail)
        block = self._reader.read(tail)
        self._reader.seek(0)
        sound = np.flatnonzero(block.any(axis=1))
        return len(block) if not len(sound) else len(block) - 1 - int(sound[-1])

    def read(self, frames: int) -> np.ndarray:
        parts = []
        if not self._data_done:
            block = self._reader.read(frames)
            self._read += len(block)
            if len(block) < frames:
                self._data_done = True
                self.program_frames = self._read
            if len(block):
                mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)
                parts.append(mono.astype(np.float32) * np.float32(1 / 32768))
        wanted = frames - sum(len(p) for p in parts)
        if wanted and self._data_done and self._pad_left:
            pad = min(wanted, self._pad_left)
            self._pad_left -= pad
            parts.append(np.zeros(pad, dtype=np.float32))
        out = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        self.position += len(out)
        return out

    def close(self) -> None:
        self._reader.close()


class Resampler:
    """Streaming linear interpolation from `rate` to `target`, block by block, no seam between blocks.

    For the last-resort parts only (speech at 22.05 or 24 kHz to the air's 48 kHz): it needs no
    ffmpeg, which may be what failed; its faint images above the speech band are cut by horns.
    """

    def __init__(self, rate: int, target: int) -> None:
        self.step = rate / target           # input frames per output frame
        self._last: float | None = None     # the previous block's last sample
        self._next = 0.0                    # the next output position, in input frames from `_last`

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if not len(block):
            return np.zeros(0, dtype=np.float32)
        joined = block if self._last is None else np.concatenate([[self._last], block])
        end = len(joined) - 1
        count = int((end - self._next) // self.step) + 1 if self._next <= end else 0
        positions = self._next + self.step * np.arange(count)
        out = np.interp(positions, np.arange(len(joined)), joined).astype(np.float32)
        self._next += self.step * count - end
        self._last = float(joined[-1])
        return out


class Primed(Source):
    """A source whose first block was already read (to see that it sounds at all), given back first."""

    def __init__(self, source: Source, first: np.ndarray) -> None:
        self.source = source
        self.rate = source.rate
        self.program_frames = getattr(source, "program_frames", None)
        self._first = first

    def read(self, frames: int) -> np.ndarray:
        if len(self._first):
            block, self._first = self._first[:frames], self._first[frames:]
            return block
        return self.source.read(frames)

    def close(self) -> None:
        self.source.close()


Part = Callable[[], Source] | float
"""A part of a `Chain`: a source to open when the air reaches it, or seconds of silence."""


class Chain(Source):
    """Parts one after another at `rate`, then `pad_seconds` of silence; a live source (length unknown).

    Each source is opened only when reached (a program it runs starts then) and closed when it
    ends. A part that cannot be opened or read is logged and skipped: the rest still airs.
    """

    def __init__(self, parts: Iterable[Part], *, rate: int, pad_seconds: float = 0.0) -> None:
        self.rate = rate
        self.program_frames = None
        self.pad_frames = int(pad_seconds * rate)
        self.failures: list[str] = []
        self._parts = deque(parts)
        self._current: Source | None = None
        self._resample: Resampler | None = None
        self._silence = 0
        self._pad_left = self.pad_frames
        self._carry = np.zeros(0, dtype=np.float32)

    def _open_next(self) -> bool:
        """Move to the next part; False when there is none."""
        while self._parts:
            part = self._parts.popleft()
            if isinstance(part, (int, float)):
                self._silence = int(part * self.rate)
                return True
            try:
                source = part()
            except (BroadcasterError, OSError) as exc:
                log.error("a part of the programme could not be opened and is skipped: %s", exc)
                self.failures.append(str(exc))
                continue
            self._current = source
            self._resample = Resampler(source.rate, self.rate) if source.rate != self.rate else None
            return True
        return False

    def _from_current(self, frames: int) -> np.ndarray | None:
        """Up to about `frames` frames of the current source at the air's rate; None once it has ended."""
        source = self._current
        wanted = frames if self._resample is None else max(1, int(frames * self._resample.step))
        try:
            block = source.read(wanted)
        except OutputError as exc:
            log.error("a part of the programme failed while airing and is cut short: %s", exc)
            self.failures.append(str(exc))
            block = np.zeros(0, dtype=np.float32)
        if not len(block):
            source.close()
            self._current = None
            return None
        block = self._resample(block) if self._resample is not None else block
        return np.clip(block, -1.0, 32767 / 32768, dtype=np.float32)

    def read(self, frames: int) -> np.ndarray:
        parts, got = [self._carry], len(self._carry)
        while got < frames:
            if self._silence:
                n = min(self._silence, frames - got)
                self._silence -= n
                block = np.zeros(n, dtype=np.float32)
            elif self._current is not None:
                block = self._from_current(frames - got)
                if block is None:
                    continue
            elif self._open_next():
                continue
            elif self._pad_left:
                n = min(self._pad_left, frames - got)
                self._pad_left -= n
                block = np.zeros(n, dtype=np.float32)
            else:
                break
            parts.append(block)
            got += len(block)
        joined = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self._carry = joined[frames:]
        return joined[:frames]

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        self._parts.clear()


class Ring:
    """A float32 ring buffer for one writer thread and one reader thread, without a lock.

    Each side only advances its own counter, after copying, and Python int assignment is
    atomic: so an audio callback may read (or write) it without waiting for the other side.
    """

    def __init__(self, frames: int) -> None:
        self._data = np.zeros(max(1, frames), dtype=np.float32)
        self.written = 0                  # frames put in (writer only)
        self.taken = 0                    # frames taken out (reader only)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def room(self) -> int:
        return len(self._data) - (self.written - self.taken)

    @property
    def available(self) -> int:
        return self.written - self.taken

    def write(self, block: np.ndarray) -> int:
        """Copy as much of `block` as fits; returns how many frames were taken."""
        size = len(self._data)
        n = min(len(block), self.room)
        start = self.written % size
        first = min(n, size - start)
        self._data[start:start + first] = block[:first]
        self._data[:n - first] = block[first:n]
        self.written += n
        return n

    def read_into(self, out: np.ndarray) -> int:
        """Copy up to len(out) frames into `out`; returns how many."""
        size = len(self._data)
        n = min(len(out), self.available)
        start = self.taken % size
        first = min(n, size - start)
        out[:first] = self._data[start:start + first]
        out[first:n] = self._data[:n - first]
        self.taken += n
        return n


class Prefetch:
    """Reads a source ahead of a real-time consumer (one producer thread, one consumer).

    The consumer (an audio callback) calls `read_into()`, which only copies from a `Ring` of
    `seconds` of sound and never blocks. The producer thread fills the ring from the source.
    `error` holds a read failure of the source.
    """

    def __init__(self, source: Source, *, seconds: float = PREFETCH_SECONDS) -> None:
        self.source = source
        self.rate = source.rate
        self._ring = Ring(int(seconds * source.rate))
        self._ended = False               # the source has no more frames (producer only)
        self.error: OutputError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="prefetch", daemon=True)

    def start(self, wait_for: float | None = None) -> None:
        """Start reading ahead; with `wait_for`, return once that many seconds are buffered (or the end)."""
        self._thread.start()
        if wait_for:
            wanted = min(len(self._ring), int(wait_for * self.rate))
            while self._ring.available < wanted and not self._ended and self._thread.is_alive():
                self._stop.wait(POLL_SECONDS)

    @property
    def complete(self) -> bool:
        """The source has ended: every frame it will give is in the ring (or already taken)."""
        return self._ended

    @property
    def exhausted(self) -> bool:
        """The source has ended and the consumer has taken every frame of it."""
        return self._ended and not self._ring.available

    def _fill(self) -> None:
        block = max(1, int(READ_SECONDS * self.rate))
        try:
            while not self._stop.is_set():
                room = self._ring.room
                if room < min(block, len(self._ring)):
                    self._stop.wait(POLL_SECONDS)     # the consumer frees room at its own pace
                    continue
                data = self.source.read(min(block, room))
                if not len(data):
                    break
                self._ring.write(data)
        except OutputError as exc:
            self.error = exc
        finally:
            self._ended = True

    def read_into(self, out: np.ndarray) -> int:
        """Copy up to len(out) buffered frames into `out`; returns how many (fewer: starved or ended)."""
        return self._ring.read_into(out)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.source.close()
