"""The relay source against real live streams: an Icecast mount fed by ffmpeg and an HLS playlist."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from broadcaster.wav import write as write_wav
from broadcaster.output.relay import RelaySource, _Buffer, room_tone, spoken_notice
from broadcaster.programme.meter import measure
from broadcaster.schedule.model import SpeechSettings
from tests.icecast import RATE, ToneSource

BLOCK = int(0.1 * RATE)


@pytest.fixture
def tone_sources():
    started: list[ToneSource] = []

    def make(server, mount, hertz=440, level_db=-32.0):
        source = ToneSource(server, mount, hertz, level_db).start()
        started.append(source)
        return source

    yield make
    for source in started:
        source.kill()


def air(relay: RelaySource, seconds: float, on_second=None) -> np.ndarray:
    """Read the relay in real time, 0.1 s blocks, like the playout clock, until it ends or `seconds` pass."""
    blocks = []
    start = time.monotonic()
    for index in range(int(seconds * 10)):
        if on_second is not None and index % 10 == 0:
            on_second(index // 10)
        block = relay.read(BLOCK)
        if not len(block):
            break
        blocks.append(block)
        time.sleep(max(0.0, start + (index + 1) * 0.1 - time.monotonic()))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def wait_ready(relay: RelaySource, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not relay.ready():
        assert time.monotonic() < deadline, "the relay never buffered its cushion"
        time.sleep(0.05)


def hertz_level(samples: np.ndarray, hertz: float) -> float:
    t = np.arange(len(samples)) / RATE
    return float(2 * abs(np.dot(samples, np.exp(-2j * np.pi * hertz * t))) / max(len(samples), 1))


def test_relay_of_an_icecast_mount_is_levelled_and_ends_on_time_with_a_fade(icecast, tone_sources, tmp_path):
    tone_sources(icecast, "vov1.mp3", 440, level_db=-32)       # a quiet national stream
    relay = RelaySource(f"icecast://127.0.0.1:{icecast.port}/vov1.mp3", 7.0).open()
    try:
        wait_ready(relay)
        relay.start()
        began = time.monotonic()
        out = air(relay, 9.0)
        ended = time.monotonic()
    finally:
        relay.close()
    assert abs(len(out) / RATE - 7.0) < 0.05 and abs((ended - began) - 7.0) < 0.5
    report = relay.report()
    assert (report.status, report.gaps) == ("played", ()) and report.relayed == pytest.approx(7.0, abs=0.05)
    assert hertz_level(out[RATE:2 * RATE], 440) > 0.1                 # raised from -32 dBFS
    assert np.abs(out[-BLOCK // 10:]).max() < 0.01                   # faded out at its end
    path = tmp_path / "relay.wav"
    write_wav(path, np.round(out[:int(4.5 * RATE)] * 32767).astype(np.int16), RATE)
    loudness = measure(path)
    assert abs(loudness.integrated - -16.0) <= 2.0 and loudness.true_peak <= -1.0, loudness


@pytest.mark.serial
def test_source_dropping_mid_relay_is_a_gap_of_room_tone_with_a_notice_then_resumes(icecast, tone_sources):
    source = tone_sources(icecast, "vov1.mp3", 440)
    notice = (0.2 * np.sin(2 * np.pi * 1000 * np.arange(RATE) / RATE)).astype(np.float32)
    relay = RelaySource(f"http://127.0.0.1:{icecast.port}/vov1.mp3", 14.0, relay_gap=1.0, notice=notice,
                        backoff=(0.3,)).open()

    def outage(second: int) -> None:
        if second == 2:
            source.kill()
        if second == 4:     # in the background: the air must not wait for the source to come up
            threading.Thread(target=tone_sources, args=(icecast, "vov1.mp3", 440), daemon=True).start()

    try:
        wait_ready(relay)
        relay.start()
        out = air(relay, 15.0, on_second=outage)
    finally:
        relay.close()
    assert len(out) == 14 * RATE
    report = relay.report()
    assert report.status == "partial" and len(report.gaps) == 1, report
    gap = report.gaps[0]
    assert 2.0 <= gap.start <= 5.0 and 2.0 <= gap.seconds <= 9.0, gap
    assert report.relayed == pytest.approx(14.0 - gap.seconds, abs=0.15)
    inside = out[int((gap.start + 0.1) * RATE):int((gap.start + 0.9) * RATE)]
    rms = float(np.sqrt(np.mean(inside ** 2)))
    assert 1e-4 < rms < 3e-3                                          # room tone, not dead air
    spoken = out[int((gap.start + 1.0) * RATE):int((gap.start + 2.0) * RATE)]
    assert hertz_level(spoken, 1000) > 0.1                             # the notice after relay_gap
    after = out[int((gap.start + gap.seconds + 0.5) * RATE):int((gap.start + gap.seconds + 1.5) * RATE)]
    assert hertz_level(after, 440) > 0.1                               # live again
    assert "vov1.mp3" in report.note()


def test_source_that_never_answers_fails_and_ends_on_time(icecast):
    relay = RelaySource(f"http://127.0.0.1:{icecast.port}/khong-co.mp3", 2.0, backoff=(0.3,)).open()
    try:
        relay.start()
        began = time.monotonic()
        out = air(relay, 4.0)
        ended = time.monotonic()
    finally:
        relay.close()
    report = relay.report()
    assert report.status == "failed" and report.relayed == 0.0
    assert [round(g.seconds, 1) for g in report.gaps] == [2.0]
    assert "404" in report.gaps[0].cause or "Not Found" in report.gaps[0].cause
    assert len(out) == 2 * RATE and abs((ended - began) - 2.0) < 0.5
    assert float(np.sqrt(np.mean(out[:RATE] ** 2))) > 1e-4           # room tone throughout


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_relay_of_a_live_hls_playlist(tmp_path: Path):
    hls = tmp_path / "hls"
    hls.mkdir()
    encoder = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=f=550:r=48000",
         "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", "1", "-hls_list_size", "4",
         "-hls_flags", "delete_segments", str(hls / "live.m3u8")], stdin=subprocess.DEVNULL)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(hls)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    relay = None
    try:
        deadline = time.monotonic() + 10
        while not (hls / "live.m3u8").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        relay = RelaySource(f"http://127.0.0.1:{server.server_address[1]}/live.m3u8", 3.0).open()
        wait_ready(relay)
        relay.start()
        out = air(relay, 4.0)
    finally:
        if relay is not None:
            relay.close()
        server.shutdown()
        server.server_close()
        os.kill(encoder.pid, signal.SIGKILL)
        encoder.wait()
    assert relay.report().status == "played"
    assert len(out) == 3 * RATE and hertz_level(out[:2 * RATE], 550) > 0.1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_time_cut_away_counts_and_the_relay_resumes_live():
    """A cut-in (nobody reads) spends the relay's time; reading resumes from the freshest audio."""
    clock = FakeClock()
    relay = RelaySource("http://127.0.0.1:9/x.mp3", 10.0, clock=clock, cushion=1.0)
    relay._buffer = _Buffer()
    relay._buffer.push(np.full(RATE, 0.5, dtype=np.float32))
    relay._ever_connected = True
    relay._started = clock.now                                        # on air, without pulling
    assert len(relay.read(RATE // 2)) == RATE // 2                    # 0.5 s of live audio
    clock.now += 6.0                                                  # an emergency airs for 6 s
    relay._buffer.push(np.full(RATE, 0.25, dtype=np.float32))
    relay._buffer.trim(RATE)                                          # what the puller keeps
    block = relay.read(RATE // 2)
    assert float(block[0]) == 0.25                                    # live, not where it stopped
    rest = []
    while len(part := relay.read(RATE)):
        rest.append(part)
    assert sum(len(p) for p in rest) == int(3.5 * RATE)               # ends 10 s after its start
    assert relay.report().relayed == pytest.approx(1.0)
    assert [round(g.seconds, 1) for g in relay.report().gaps] == [3.5]
    assert float(np.sqrt(np.mean(room_tone(RATE) ** 2))) == pytest.approx(1e-3, rel=0.01)


def test_gap_notice_is_spoken_by_the_offline_voice():
    notice = spoken_notice("Đài truyền thanh đang kết nối lại. Xin bà con chờ.", SpeechSettings())
    assert 1.5 < len(notice) / RATE < 8.0
    rms = float(np.sqrt(np.mean(notice ** 2)))
    assert 10 ** (-22 / 20) < rms <= 10 ** (-14 / 20) and float(np.abs(notice).max()) <= 10 ** (-3 / 20) + 1e-6


# A stream ffmpeg decodes with errors: a line per bad frame on stderr (far past a pipe's 64 KiB)
# before and between its audio, then a last line that names why it ended.
NOISY_SOURCE = """
import sys
for n in range(20000):
    sys.stderr.write(f"[mp3float @ 0x55d] Header missing, frame {n}\\n")
sys.stderr.flush()
sys.stdout.buffer.write(b"\\x00\\x00\\x00\\x3f" * 48000)
sys.stdout.flush()
sys.stderr.write("stream ended by the source\\n")
"""


def test_a_stream_with_many_decode_errors_still_relays_and_names_its_end():
    """Before, stderr was read only at the end: ffmpeg blocked on the full stderr pipe and the
    relay never got its audio (nor ended)."""
    relay = RelaySource("http://127.0.0.1:9/x.mp3", 30.0, cushion=0.5,
                        command=lambda url: [sys.executable, "-c", NOISY_SOURCE])
    relay.open()
    try:
        deadline = time.monotonic() + 10
        while not relay.report().connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.report().connected
        while relay._cause is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay._cause == "stream ended by the source"
    finally:
        relay.close()
