"""The switch: routes what is on air from its source to the sinks, and fades it out when cut.

Where it sits: between the playout thread (which ranks entries by priority and decides when
an emergency cuts in) and the sinks. One programme at a time goes through `air()`:
- the station's `Output` (sound card or WAV files) plays the programme's `Source` and keeps
  time: it places the first sample on its second;
- every block it airs is copied, through a tap, to each follower `Sink` (an Icecast mount, an
  air-check recorder) stamped with its air time, so followers carry the same programme at the
  same second; a programme for some zones only goes to the followers named in `sinks`, the
  others get silence meanwhile;
- between programmes, when no block has come from the output for `IDLE_AFTER`, a pacer thread
  sends the followers silence in real time, so their listeners stay connected;
- `stop(fade)` fades the programme out on the output, and so on every follower.
`air()` returns the output's `PlaybackReport` with what each follower missed.

Locks, in order: `_output_lock` guards the opened output (taken by the playout thread and by a
cut-in; never held while the output plays); `_tap_lock` serialises writes to the followers (the
output's tap and the idle pacer), a leaf held only while copying a block.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

from broadcaster.output.base import Output, PlaybackReport
from broadcaster.output.sink import Sink
from broadcaster.output.source import Source

log = logging.getLogger(__name__)

IDLE_AFTER = 0.1          # seconds without a block from the output before the pacer sends silence
PACE_SECONDS = 0.02       # the pacer's block


class Switch:
    """The air's one router: programme source -> the output (which keeps time) -> follower sinks."""

    def __init__(self, open_output: Callable[[], Output], *, followers: Iterable[Sink] = (),
                 rate: int = 48_000) -> None:
        self._open_output = open_output
        self.followers: dict[str, Sink] = {sink.name: sink for sink in followers}
        self.rate = rate
        self._output: Output | None = None
        self._output_lock = threading.Lock()
        self._tap_lock = threading.Lock()
        self._routed: frozenset[str] = frozenset(self.followers)
        self._label: str | None = None     # the programme on air, for the followers' accounts
        self._last_tap = 0.0              # time.monotonic() of the output's last block
        self._aired_until = time.time()   # epoch where the followers' air ends so far
        self._zeros = np.zeros(int(PACE_SECONDS * rate), dtype=np.float32)
        self._closing = threading.Event()
        self._pacer = threading.Thread(target=self._pace, name="switch-idle", daemon=True)
        if self.followers:
            self._pacer.start()

    # -- the output ----------------------------------------------------------------------------
    def output(self) -> Output:
        """The station's output, opened on first use (raises OutputError when it cannot be)."""
        with self._output_lock:
            if self._output is None:
                self._output = self._open_output()
            return self._output

    def reset(self) -> None:
        """After a device failure: close the output, reopen it next time (the card may come back)."""
        with self._output_lock:
            output, self._output = self._output, None
        if output is not None:
            output.close()

    # -- the air -------------------------------------------------------------------------------
    def air(self, programme: Path | Source, *, label: str, start_at: datetime | None = None,
            sinks: Iterable[str] | None = None) -> PlaybackReport:
        """Play `programme` on the output and on the followers named in `sinks` (None: all of them).

        Blocking, like `Output.play`; raises OutputError when the output cannot be opened.
        """
        output = self.output()
        routed = frozenset(self.followers if sinks is None else sinks)
        unknown = routed - set(self.followers)
        if unknown:
            log.warning("no follower sink named %s; %s airs without it", ", ".join(sorted(unknown)), label)
        for sink in self.followers.values():
            sink.missed()                 # count from here for this programme
        with self._tap_lock:
            self._routed = routed & set(self.followers)
            self._label = label
        try:
            report = output.play(programme, label=label, start_at=start_at,
                                 tap=self._tap if self.followers else None)
        finally:
            with self._tap_lock:
                self._routed = frozenset(self.followers)
                self._label = None
        missed = {name: round(lost, 3) for name, sink in self.followers.items() if (lost := sink.missed()) > 0}
        return dataclasses.replace(report, missed=missed) if missed else report

    def stop(self, fade: float = 0.5) -> None:
        """Fade out what plays (thread-safe; a no-op when idle)."""
        with self._output_lock:
            output = self._output
        if output is not None:
            output.stop(fade=fade)

    def _tap(self, block: np.ndarray, at: float) -> None:
        """The output's tap (its timing thread): copy the block to the followers, silence to the unrouted."""
        with self._tap_lock:
            self._last_tap = time.monotonic()
            if len(self._zeros) < len(block):
                self._zeros = np.zeros(len(block), dtype=np.float32)
            silence = self._zeros[:len(block)]
            for name, sink in self.followers.items():
                if name in self._routed:
                    sink.write(block, at, label=self._label)
                else:
                    sink.write(silence, at)
            self._aired_until = at + len(block) / self.rate

    def _pace(self) -> None:
        """Silence for the followers while the output airs nothing, at the pace of the wall clock."""
        while not self._closing.wait(PACE_SECONDS):
            with self._tap_lock:
                if time.monotonic() - self._last_tap < IDLE_AFTER:
                    continue
                now = time.time()
                if now - self._aired_until > 1.0:      # long idle or first start: resume from now
                    self._aired_until = now - PACE_SECONDS
                frames = int((now - self._aired_until) * self.rate)
                if frames <= 0:
                    continue
                if len(self._zeros) < frames:
                    self._zeros = np.zeros(frames, dtype=np.float32)
                for sink in self.followers.values():
                    sink.write(self._zeros[:frames], self._aired_until)
                self._aired_until += frames / self.rate

    def close(self) -> None:
        """Stop the pacer, flush and close the followers, close the output."""
        self._closing.set()
        if self._pacer.is_alive():
            self._pacer.join(timeout=2)
        for sink in self.followers.values():
            sink.close()
        self.reset()
