"""The switch: the output keeps time, followers get a copy of every block (zones: silence instead),
silence between programmes, and each follower's losses in the report."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from broadcaster.errors import OutputError
from broadcaster.output import FileOutput, SoundDeviceOutput
from broadcaster.output.sink import BufferedSink
from broadcaster.output.switch import Switch
from tests.output.conftest import RATE


class Recording(BufferedSink):
    """A follower that keeps what it is given, with the air time of each block."""

    def __init__(self, name: str, **options) -> None:
        self.blocks: list[tuple[float, int]] = []
        self.labels: set[str | None] = set()
        self.fail = False
        super().__init__(name, RATE, **options)

    def write(self, block, at=None, *, label=None):
        self.blocks.append((at, len(block)))   # air times as the switch stamped them
        self.labels.add(label)
        super().write(block, at, label=label)

    def deliver(self, block):
        if self.fail:
            raise OutputError("the mount is away")
        self.audio.append(block)

    audio: list


@pytest.fixture
def follower():
    made = []

    def make(name: str, **options) -> Recording:
        sink = Recording(name, **options)
        sink.audio = []
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.close()


def heard(sink: Recording) -> np.ndarray:
    return np.concatenate(sink.audio) if sink.audio else np.zeros(0, np.float32)


def test_followers_get_the_programme_or_silence_by_zone(tmp_path, make_wav, follower):
    path, samples = make_wav(0.5)
    east, west = follower("thon-dong"), follower("thon-tay")
    switch = Switch(lambda: FileOutput(tmp_path / "aired", realtime=False), followers=[east, west])
    report = switch.air(path, label="zone", sinks={"thon-dong"})
    switch.close()
    assert report.completed and report.missed == {}
    aired = heard(east)
    first = int(np.flatnonzero(aired)[0])                 # silence from the idle pacer may come first
    np.testing.assert_array_equal(np.round(aired[first:first + len(samples)] * 32768).astype(np.int16), samples)
    assert "zone" in east.labels and west.labels == {None}
    quiet = heard(west)
    assert len(quiet) >= len(samples) and not quiet.any()


def test_a_cut_reaches_the_followers_faded_like_the_output(tmp_path, make_wav, follower):
    from broadcaster.wav import read as read_wav

    path, samples = make_wav(3.0)
    sink = follower("all")
    switch = Switch(lambda: FileOutput(tmp_path), followers=[sink])
    threading.Timer(0.5, switch.stop, kwargs={"fade": 0.25}).start()
    report = switch.air(path, label="cut")
    switch.close()
    written = read_wav(tmp_path / "cut.wav")[0][:, 0]
    assert report.interrupted and len(written) < len(samples)
    start = next(i for i, (at, _) in enumerate(sink.blocks) if at >= report.started.timestamp() - 1e-6)
    frames = sum(n for _, n in sink.blocks[start:])
    aired = heard(sink)[-frames:][:len(written)]
    np.testing.assert_array_equal(np.round(aired * 32768).astype(np.int16), written)


@pytest.mark.serial
def test_between_programmes_followers_get_silence_in_real_time(tmp_path, follower):
    sink = follower("mount")
    switch = Switch(lambda: FileOutput(tmp_path), followers=[sink])
    time.sleep(0.6)
    switch.close()
    seconds = len(heard(sink)) / RATE
    assert 0.3 < seconds < 0.8 and not heard(sink).any()
    times = [at for at, _ in sink.blocks]
    assert all(b > a for a, b in zip(times, times[1:]))


@pytest.mark.serial
def test_what_a_follower_could_not_take_is_reported(tmp_path, make_wav, follower):
    path, _ = make_wav(0.5)
    away, small = follower("away"), follower("small", ring_seconds=0.01)   # 10 ms ring, 20 ms blocks
    away.fail = True
    switch = Switch(lambda: FileOutput(tmp_path), followers=[away, small])
    report = switch.air(path, label="lossy")
    switch.close()
    assert report.completed and set(report.missed) == {"away", "small"}
    assert 0 < report.missed["away"] <= 0.5 and 0.2 <= report.missed["small"] <= 0.5


def test_the_sound_card_feeds_followers_from_its_own_clock(pulse_clean, make_wav, follower):
    path, samples = make_wav(1.0)
    sink = follower("mount")
    switch = Switch(lambda: SoundDeviceOutput(None), followers=[sink])
    start_at = datetime.now(timezone.utc) + timedelta(seconds=0.8)
    report = switch.air(path, label="clocked", start_at=start_at)
    switch.close()
    assert report.completed and report.missed == {}
    audio = heard(sink)
    first = int(np.flatnonzero(audio)[0])
    np.testing.assert_array_equal(audio[first:first + len(samples)], samples.astype(np.float32) / 32768)
    # The air time the follower was told for the programme's first sample is the one the card reported.
    offset, when = 0, None
    for at, n in sink.blocks:
        if offset + n > first:
            when = at + (first - offset) / RATE
            break
        offset += n
    assert when == pytest.approx(report.started.timestamp(), abs=0.002)
