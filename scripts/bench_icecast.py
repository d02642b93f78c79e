#!/usr/bin/env python3
"""Icecast benchmark: when do listeners hear the air, and what do 200 listeners cost the station?

A real icecast2 on loopback (tests/icecast.py) and the station's `IcecastSink`, fed 0.1 s blocks
in real time as the playout clock feeds it, with a 1 s tone every 3 s.

0. The whole daemon (`--daemon`, the default run does it first): programmes (tone renders) and
   relays (a live Icecast source) scheduled 4 s apart, aired through the sound card (a private
   PulseAudio server, tests/pulseaudio.py) with the Icecast mount following. Start error at the
   sound-card sink (PortAudio's DAC time - the scheduled second) and at 5 listeners (first heard -
   the scheduled second), beside the naive relay: the stream opened at its second.

1. Listener start error and spread: 10 real HTTP listeners on one mount. For each tone, the
   error is (heard - written) per listener; the spread is max - min across listeners.
   Baseline in the same run: the naive way to stream, `ffmpeg -re -i programme.wav ...
   icecast://` (the usual recipe) started at the tone's second, heard by the same kind of
   listeners, who join as soon as the mount appears (between programmes there is none).
2. CPU with 0, 50 and 200 concurrent listeners on the mount (plain HTTP clients in a separate
   process, which stop by themselves): CPU of the station side (this process's sink thread and
   its ffmpeg encoder) and of icecast2, as % of one core.

Usage: .venv/bin/python scripts/bench_icecast.py [--tones 5] [--cpu-seconds 8]
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from broadcaster.wav import write as write_wav  # noqa: E402
from broadcaster.output.icecast import IcecastSink  # noqa: E402
from broadcaster.schedule.model import StreamSettings  # noqa: E402
from broadcaster.schedule.outputs import parse_icecast  # noqa: E402
from tests.icecast import RATE, IcecastServer, Listener, ToneSource  # noqa: E402

HERTZ = 660
PERIOD = 3.0
BLOCK = int(0.1 * RATE)
TICKS = os.sysconf("SC_CLK_TCK")


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * HERTZ * t)).astype(np.float32)


class Feeder(threading.Thread):
    """The playout clock's stand-in: a block every 0.1 s, a 1 s tone at the start of every PERIOD."""

    def __init__(self, sink: IcecastSink) -> None:
        super().__init__(daemon=True)
        self.sink = sink
        self.stop_event = threading.Event()
        self.tone_times: list[float] = []

    def run(self) -> None:
        start = time.time() + 0.5
        beep = tone(1.0)
        index = 0
        while not self.stop_event.is_set():
            time.sleep(max(0.0, start + index * 0.1 - time.time()))
            offset = index % int(PERIOD * 10) * BLOCK
            if not offset:
                self.tone_times.append(time.time())
            block = beep[offset:offset + BLOCK] if offset < len(beep) else np.zeros(BLOCK, dtype=np.float32)
            self.sink.write(block, time.time(), label="bench" if offset < len(beep) else None)
            index += 1


def onsets(listener: Listener, count: int) -> list[float | None]:
    """Wall times the listener heard each of `count` tones (1 s tones PERIOD apart)."""
    times, after = [], 0.0
    for _ in range(count):
        offset = listener.onset(HERTZ, after=after)
        if offset is None:
            times.append(None)
            continue
        times.append(listener.heard(HERTZ, after=after))
        after = offset + 1.5
    return times


def measure_sink(server: IcecastServer, tones: int) -> tuple[list[float], list[float]]:
    sink = IcecastSink(parse_icecast(server.source_url("bench.mp3")), server.password, StreamSettings()).start()
    server.wait_for_mounts("/bench.mp3")
    ears = [Listener(f"{server.base}/bench.mp3", tones * PERIOD + 1.5).start() for _ in range(10)]
    time.sleep(0.3)
    feeder = Feeder(sink)
    feeder.start()
    for ear in ears:
        ear.stop()
    feeder.stop_event.set()
    feeder.join()
    sink.close()
    heard = [onsets(ear, tones) for ear in ears]
    errors, spreads = [], []
    for index, written in enumerate(feeder.tone_times[:tones]):
        times = [h[index] for h in heard if index < len(h) and h[index] is not None]
        if len(times) == len(ears):
            errors += [(t - written) * 1000 for t in times]
            spreads.append((max(times) - min(times)) * 1000)
    return errors, spreads


def measure_naive(server: IcecastServer, tones: int, folder: Path) -> tuple[list[float], list[float]]:
    """ffmpeg -re from a WAV straight to icecast:// at each tone's second (a new source per programme)."""
    path = folder / "programme.wav"
    write_wav(path, np.round(tone(1.0) * 32767).astype(np.int16), RATE)
    errors, spreads = [], []
    for _ in range(tones):
        written = time.time()
        source = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", str(path), "-ac", "1",
             "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
             f"icecast://source:{server.password}@127.0.0.1:{server.port}/naive.mp3"])
        # Between programmes there is no mount: receivers wait for it to appear, then join.
        server.wait_for_mounts("/naive.mp3", timeout=5)
        ears = [Listener(f"{server.base}/naive.mp3", PERIOD + 2.0).start() for _ in range(10)]
        source.wait()
        for ear in ears:
            ear.stop()
        times = [ear.heard(HERTZ) for ear in ears]
        times = [t for t in times if t is not None]
        if times:
            errors += [(t - written) * 1000 for t in times]
            spreads.append((max(times) - min(times)) * 1000)
    return errors, spreads


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure_cpu(server: IcecastServer, clients: int, seconds: float) -> tuple[float, float]:
    """(% of a core used by the station side, by icecast2) while `clients` listeners pull the mount."""
    sink = IcecastSink(parse_icecast(server.source_url("cpu.mp3")), server.password, StreamSettings()).start()
    server.wait_for_mounts("/cpu.mp3")
    feeder = Feeder(sink)
    feeder.start()
    crowd = None
    if clients:
        crowd = subprocess.Popen([sys.executable, __file__, "--clients", str(clients),
                                  f"127.0.0.1:{server.port}/cpu.mp3", str(seconds + 2)])
        time.sleep(1.5)
    encoder = sink._encoder.pid
    station0, encoder0, ice0 = time.process_time(), cpu_seconds(encoder), cpu_seconds(server.process.pid)
    time.sleep(seconds)
    station = time.process_time() - station0 + cpu_seconds(encoder) - encoder0
    ice = cpu_seconds(server.process.pid) - ice0
    feeder.stop_event.set()
    feeder.join()
    sink.close()
    if crowd is not None:
        try:
            crowd.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            crowd.kill()             # its own deadline should have ended it; never leave it behind
            crowd.wait()
    return 100 * station / seconds, 100 * ice / seconds


def run_clients(count: int, target: str, seconds: float) -> int:
    """`count` plain HTTP listeners reading a mount for `seconds`, then gone (bounded, never waits on input)."""
    host_port, _, path = target.partition("/")
    host, _, port = host_port.partition(":")
    selector = selectors.DefaultSelector()
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(f"GET /{path} HTTP/1.0\r\nHost: {host_port}\r\n\r\n".encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            if not key.fileobj.recv(65536):
                selector.unregister(key.fileobj)
                key.fileobj.close()
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    return 0


def measure_daemon(server: IcecastServer, starts: int, folder: Path) -> dict[str, list[float]]:
    """Start errors (ms) of programmes and relays at the sound card sink and at Icecast listeners."""
    import yaml
    from zoneinfo import ZoneInfo

    from broadcaster.onair.daemon import Station
    from broadcaster.schedule import load_schedule
    from tests.onair.tones import tone_renderer
    from tests.pulseaudio import PulseServer

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    pulse = PulseServer(folder / "pulse")
    pulse.start()
    pulse.activate()
    relay_hz = [370 + 40 * i for i in range(starts)]
    programme_hz = [1100 + 60 * i for i in range(starts)]
    sources = [ToneSource(server, f"vov{i}.mp3", hz, -24.0).start() for i, hz in enumerate(relay_hz)]
    first = datetime.now(tz).replace(microsecond=0) + timedelta(seconds=12)
    kinds, slots, bulletins = {}, [], {}
    for i in range(2 * starts):
        when = first + timedelta(seconds=4 * i)
        name = f"s{i:02d}"
        if i % 2:
            bulletins[name] = {"relay": f"http://127.0.0.1:{server.port}/vov{i // 2}.mp3", "duration": "3s"}
            kinds[name] = ("relay", relay_hz[i // 2], when)
        else:
            bulletins[name] = {"text": f"1.5s {programme_hz[i // 2]}Hz"}
            kinds[name] = ("programme", programme_hz[i // 2], when)
        slots.append({"name": name, "at": when.strftime("%H:%M:%S"), "play": [name]})
    (folder / "secrets.yaml").write_text(server.secrets_text(), encoding="utf-8")
    (folder / "secrets.yaml").chmod(0o600)
    document = {"station": {"name": "Bench", "state_dir": str(folder / "var"), "secrets": "secrets.yaml",
                            "outputs": ["default", server.source_url("bench.mp3")]},
                "bulletins": bulletins, "slots": slots}
    (folder / "schedule.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    errors: dict[str, list[float]] = {"programme sink": [], "relay sink": []}

    def aired(entry, report) -> None:
        if report.started is not None and report.completed:
            kind = kinds[entry.slot][0]
            errors[f"{kind} sink"].append((report.started - entry.scheduled).total_seconds() * 1000)

    station = Station(load_schedule(folder / "schedule.yaml"), renderer=tone_renderer, on_aired=aired, control=False)
    station.start()
    try:
        server.wait_for_mounts("/bench.mp3")
        ears = [Listener(f"{server.base}/bench.mp3", (first - datetime.now(tz)).total_seconds() + 8 * starts + 2).start()
                for _ in range(5)]
        for ear in ears:
            ear.stop()
    finally:
        station.stop()
        for source in sources:
            source.kill()
        pulse.stop()
    errors.update({"programme listener": [], "relay listener": [], "programme spread": [], "relay spread": []})
    for kind, hertz, when in kinds.values():
        heard = []
        for ear in ears:
            start = max(0.0, when.timestamp() - ear.chunks[0][0] - 1.0)
            offset = ear.onset(hertz, threshold=0.03, after=start)
            if offset is not None:
                heard.append(ear.heard(hertz, threshold=0.03, after=start))
        if len(heard) == len(ears):
            errors[f"{kind} listener"] += [(h - when.timestamp()) * 1000 for h in heard]
            errors[f"{kind} spread"].append((max(heard) - min(heard)) * 1000)
    return errors


def naive_relay(server: IcecastServer, starts: int) -> list[float]:
    """The naive relay: the stream opened at its second; ms until its first live audio."""
    from broadcaster.output.relay import RelaySource

    source = ToneSource(server, "naive-vov.mp3", 500, -24.0).start()
    delays = []
    try:
        for _ in range(starts):
            began = time.monotonic()
            relay = RelaySource(f"http://127.0.0.1:{server.port}/naive-vov.mp3", 30.0).open()
            while relay.report().relayed == 0 and time.monotonic() - began < 20:
                relay.read(int(0.02 * RATE))
                time.sleep(0.02)
            delays.append((time.monotonic() - began) * 1000)
            relay.close()
    finally:
        source.kill()
    return delays


def start_errors(name: str, errors: list[float]) -> str:
    if not errors:
        return f"{name:<26} nothing measured"
    return (f"{name:<26} n={len(errors):3d}  median {statistics.median(errors):8.1f} ms  "
            f"max {max(errors):8.1f} ms  min {min(errors):8.1f} ms")


def describe(name: str, errors: list[float], spreads: list[float]) -> str:
    if not errors:
        return f"{name:<22} nothing heard"
    return (f"{name:<22} latency median {statistics.median(errors):7.1f} ms  max {max(errors):7.1f} ms"
            f"   listener spread median {statistics.median(spreads):6.1f} ms  max {max(spreads):6.1f} ms"
            f"   ({len(spreads)} tones x 10 listeners)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tones", type=int, default=5)
    parser.add_argument("--cpu-seconds", type=float, default=8.0)
    parser.add_argument("--starts", type=int, default=4, help="programmes and relays through the daemon")
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    parser.add_argument("target", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients:
        return run_clients(args.clients, args.target[0], float(args.target[1]))
    print(f"machine load (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    server = IcecastServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            if args.starts:
                errors = measure_daemon(server, args.starts, Path(folder))
                for name in ("programme sink", "programme listener", "relay sink", "relay listener"):
                    print(start_errors(f"daemon {name}", errors[name]))
                for name in ("programme spread", "relay spread"):
                    print(start_errors(f"daemon {name} (5 ears)", errors[name]))
                print(start_errors("naive relay (opened at its second)", naive_relay(server, args.starts)))
            print(describe("station IcecastSink", *measure_sink(server, args.tones)))
            print(describe("naive ffmpeg -re", *measure_naive(server, args.tones, Path(folder))))
        for clients in (0, 50, 200):
            station, ice = measure_cpu(server, clients, args.cpu_seconds)
            print(f"{clients:>3} listeners: station (sink + encoder) {station:5.1f} % of a core,"
                  f" icecast2 {ice:5.1f} %")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
