#!/usr/bin/env python3
"""On-air start-time benchmark: how close to its scheduled second does each programme start?

Runs N scheduled starts (one every 2 s) through the real path: APScheduler, the daemon's
playout thread, `SoundDeviceOutput` -> PortAudio -> a private PulseAudio server (the test
harness's pipe sink, tests/pulseaudio.py), while programmes are really rendered (programme stage
+ eSpeak NG + ffmpeg loudness) a few seconds ahead of each start. The start error is
`PlaybackReport.started - scheduled`, from PortAudio's DAC time.

Three runs in the same process, same machine, same minute:
  daemon+renders   the daemon as shipped: renders in its worker processes, cue 3 s early,
                   `output.play(start_at=...)` waiting precisely for the second
  daemon-quiet     the same with renders done before the run (nothing in parallel)
  naive+renders    the baseline the daemon replaces: an APScheduler job at the second calls
                   `output.play()` at once, with renders running in a thread of the same process

Faults (`--mode faults`, needs root for a tmpfs): the same start-error measurement with real
faults injected while the daemon airs, next to a fault-free baseline run in the same process:
the state folder's disk filled (and freed), 200 idle control connections plus a nested-JSON
line, a hostile edit (alias bomb used as a key), a pathological bulletin (40,000 characters of
ranges) added by an edit, and two faults that hit rendering: the disk full when a slot edited
10 s ahead must be rendered again (rendered in memory from the speech the disk's cache holds),
then the memory folder full too (the slot airs from its parts: eSpeak NG's stdout into the
output). For each fault: the start error of the slots in the 6 s after it (and of the slot whose
render hit the fault), as PortAudio reports it and as heard at the PulseAudio pipe sink, and
the time from the fault to its first log line (also for a truncated as-run log at start-up).
Then the time and peak memory of `validate` (a process each) and of the reload's check (the
child process the daemon uses) on the worst inputs, next to the station's own schedule.yaml.

Memory (`--mode memory`, or `all`): the daemon's resident memory above idle while it airs a
60-minute programme on the sound card, each measurement in a fresh process:
  daemon           the daemon as shipped: the programme streamed from disk in blocks
  in-memory        baseline, same daemon and file: the programme also loaded whole as float32
                   the way the output did before it streamed (`load_whole`, the old code)
The programme airs for `--air-seconds` (the old path loaded it all before the first sample, so
its peak shows at once; the streamed path is flat after the first second), then is stopped.

Usage: .venv/bin/python scripts/bench_onair.py [--mode all|starts|memory|faults] [--starts 50]
       [--minutes 60] [--air-seconds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.measure import run_measured  # noqa: E402
from tests.pulseaudio import PulseServer  # noqa: E402

TZ_NAME = "Asia/Ho_Chi_Minh"
TEXTS = ["Một.", "Hai.", "Ba.", "Bốn.", "Năm."]           # programmes of ~0.6 s
LOAD_TEXT = "Thông báo của Ủy ban nhân dân xã về lịch tiêm chủng cho trẻ em dưới năm tuổi."
SPACING = 2                                                  # seconds between starts
ONSET_LEVEL = 1e-3        # a sample above this (-60 dBFS) is "loud": where a programme is first heard


def write_schedule(folder: Path, starts: int, first: datetime, prerender_s: float) -> Path:
    bulletins = {f"b{i}": {"text": TEXTS[i % len(TEXTS)]} for i in range(starts)}
    bulletins["load"] = {"text": LOAD_TEXT}
    slots = [{"name": f"s{i:02d}", "at": (first + timedelta(seconds=SPACING * i)).strftime("%H:%M:%S"),
              "play": [f"b{i}"]} for i in range(starts)]
    document = {"station": {"name": "Bench", "timezone": TZ_NAME, "state_dir": str(folder / "var"),
                            "output": "default", "prerender": prerender_s / 60, "speech": {"engines": ["espeak-ng"]}},
                "bulletins": bulletins, "slots": slots}
    path = folder / "schedule.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def summary(name: str, errors_ms: list[float], expected: int) -> str:
    if not errors_ms:
        return f"{name:16s} no starts measured"
    ordered = sorted(errors_ms)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    absolute = sorted(abs(e) for e in errors_ms)
    return (f"{name:16s} n={len(errors_ms):3d}/{expected}  median {statistics.median(errors_ms):7.2f} ms  "
            f"p99 {p99:7.2f} ms  max {ordered[-1]:7.2f} ms  max|err| {absolute[-1]:7.2f} ms")


def heard_onsets(pulse: PulseServer) -> list[float]:
    """Epoch times at which each programme's first loud sample left the PulseAudio pipe sink.

    The pipe sink writes each block when its first sample is due (system clock), and the
    capture thread notes when it read each chunk; a chunk read late (the reader was descheduled,
    or several blocks waited in the FIFO) would look late. So a sample's time is its index in
    the continuous stream plus the earliest (index, arrival) offset among the chunks of the
    second around it: the chunks read promptly fix the clock.
    """
    import numpy as np

    chunks, starts, arrivals, index = [], [], [], 0
    for arrived, chunk in pulse._snapshot():
        samples = np.frombuffer(chunk[: len(chunk) - len(chunk) % 4], dtype="<f4")
        chunks.append(samples)
        starts.append(index)
        arrivals.append(arrived)
        index += len(samples)
    if not chunks:
        return []
    starts_a, offsets = np.array(starts), np.array(arrivals) - np.array(starts) / pulse.rate
    samples = np.concatenate(chunks)
    loud = np.flatnonzero(np.abs(samples) > ONSET_LEVEL)
    onsets = [loud[0]] + [b for a, b in zip(loud, loud[1:]) if b - a > pulse.rate // 4] if len(loud) else []
    heard = []
    for onset in onsets:
        near = np.abs(starts_a - onset) <= pulse.rate          # chunks within a second of it
        heard.append(onset / pulse.rate + float(offsets[near].min()))
    return heard


def heard_by_slot(pulse: PulseServer, scheduled: list[datetime],
                  lead_ins: dict[datetime, float] | None = None) -> dict[datetime, float]:
    """Start error at the sink (ms) of each scheduled second that has a programme onset near it.

    A programme's first loud sample is not its first sample (speech fades in, eSpeak NG starts
    with a breath of silence): `lead_ins` gives, per slot, how far into the programme its first
    loud sample lies, and that is taken off, so what remains is the start's own error.
    """
    errors: dict[datetime, float] = {}
    for heard in heard_onsets(pulse):
        nearest = min(scheduled, key=lambda s: abs(s.timestamp() - heard))
        if abs(nearest.timestamp() - heard) < SPACING / 2 and nearest not in errors:
            lead_in = (lead_ins or {}).get(nearest, 0.0)
            errors[nearest] = (heard - nearest.timestamp() - lead_in) * 1000
    return errors


def lead_in_seconds(source) -> float:
    """Seconds from a source's first sample to its first loud one (0.0 if it has none); closes it."""
    import numpy as np

    position = 0
    try:
        while len(block := source.read(4800)):
            loud = np.flatnonzero(np.abs(block) > ONSET_LEVEL)
            if len(loud):
                return (position + int(loud[0])) / source.rate
            position += len(block)
    finally:
        source.close()
    return 0.0


class LeadIns:
    """Each aired slot's lead-in (`lead_in_seconds`), taken as it airs: renders are deleted after air.

    A programme aired from its parts has no file: its parts are opened again after the run
    (eSpeak NG is deterministic) from the bulletins the entry carries.
    """

    def __init__(self) -> None:
        self.seconds: dict[datetime, float] = {}
        self._from_parts: list = []

    def aired(self, entry) -> None:
        from broadcaster.output.source import WavSource

        try:
            result = entry.audio.result(timeout=0)
        except Exception:          # failed render: it aired from its parts
            result = None
        if result is not None and result.path is not None and result.path.exists():
            self.seconds[entry.scheduled] = lead_in_seconds(WavSource(result.path))
        else:
            self._from_parts.append(entry)

    def finish(self, schedule) -> dict[datetime, float]:
        from broadcaster.onair.direct import aired_from_parts

        for entry in self._from_parts:
            self.seconds[entry.scheduled] = lead_in_seconds(aired_from_parts(entry.content, schedule, "").parts())
        return self.seconds


def run_daemon(folder: Path, starts: int, *, quiet: bool,
               station_options: dict | None = None) -> tuple[list[float], list[datetime], dict[datetime, float]]:
    from broadcaster.onair.daemon import Station
    from broadcaster.schedule import load_schedule

    lead = 3.0 if not quiet else 3600.0          # quiet: everything pre-rendered before the first start
    first = datetime.now(ZoneInfo(TZ_NAME)).replace(microsecond=0) + timedelta(seconds=8 if not quiet else 5 + starts // 3)
    schedule = load_schedule(write_schedule(folder, starts, first, lead))
    errors: list[float] = []
    lead_ins = LeadIns()

    def aired(entry, report) -> None:
        if report.started is not None and entry.kind.value == "scheduled":
            errors.append((report.started - entry.scheduled).total_seconds() * 1000)
            lead_ins.aired(entry)

    station = Station(schedule, on_aired=aired, control=False, **(station_options or {}))
    station.start()
    stop = threading.Event()

    def render_load() -> None:
        """Keep the daemon's render worker busy with real renders for the whole run."""
        from broadcaster.onair.render import RenderJob

        n = 0
        while not stop.is_set():
            job = RenderJob(f"load{n}", "load", (schedule.bulletins["load"],), schedule)
            future = station.prerenderer.request(job, deadline=datetime.now(ZoneInfo(TZ_NAME)) + timedelta(hours=1))
            try:
                future.result(timeout=60)
            except CancelledError:          # the station stopped
                return
            station.prerenderer.discard(job.key)
            n += 1

    loader = threading.Thread(target=render_load, daemon=True)
    if quiet:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            tasks = station.prerenderer._tasks.values()
            if len(tasks) >= starts and all(t.future.done() for t in tasks):
                break
            time.sleep(0.1)
        if datetime.now(ZoneInfo(TZ_NAME)) > first - timedelta(seconds=2):
            print("  (renders were not done before the first start; quiet run is not quiet)")
    if not quiet:
        loader.start()
    try:
        end = first + timedelta(seconds=SPACING * starts + 5)
        while datetime.now(ZoneInfo(TZ_NAME)) < end and len(errors) < starts:
            time.sleep(0.2)
    finally:
        stop.set()
        station.stop()
    return errors, [first + timedelta(seconds=SPACING * i) for i in range(starts)], lead_ins.finish(station.schedule)


def run_naive(folder: Path, starts: int) -> tuple[list[float], list[datetime], dict[datetime, float]]:
    """APScheduler fires at the second and plays at once; renders share the process (the old way)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from broadcaster.onair.render import RenderJob, programme_renderer
    from broadcaster.output import open_output
    from broadcaster.schedule import load_schedule

    tz = ZoneInfo(TZ_NAME)
    first = datetime.now(tz).replace(microsecond=0) + timedelta(seconds=8)
    schedule = load_schedule(write_schedule(folder, starts, first, 3.0))
    out_dir = folder / "naive"
    out_dir.mkdir()
    programmes = {}
    for i in range(starts):
        bulletin = schedule.bulletins[f"b{i}"]
        programmes[i] = programme_renderer(RenderJob(f"k{i}", "t", (bulletin,), schedule), out_dir / f"p{i}.wav").path
    output = open_output("default")
    errors: list[float] = []
    stop = threading.Event()

    def render_load() -> None:
        n = 0
        while not stop.is_set():
            programme_renderer(RenderJob(f"load{n}", "t", (schedule.bulletins["load"],), schedule),
                               out_dir / f"load{n % 4}.wav")
            n += 1

    def fire(i: int, scheduled: datetime) -> None:
        report = output.play(programmes[i], label=f"naive{i}")
        if report.started is not None:
            errors.append((report.started - scheduled).total_seconds() * 1000)

    scheduler = BackgroundScheduler(timezone=tz, job_defaults={"misfire_grace_time": 30})
    for i in range(starts):
        when = first + timedelta(seconds=SPACING * i)
        scheduler.add_job(fire, "date", run_date=when, args=[i, when])
    loader = threading.Thread(target=render_load, daemon=True)
    scheduler.start()
    loader.start()
    try:
        while datetime.now(tz) < first + timedelta(seconds=SPACING * starts + 5) and len(errors) < starts:
            time.sleep(0.2)
    finally:
        stop.set()
        scheduler.shutdown(wait=True)
        loader.join(30)
        output.close()
    scheduled = [first + timedelta(seconds=SPACING * i) for i in range(starts)]
    from broadcaster.output.source import WavSource

    return errors, scheduled, {when: lead_in_seconds(WavSource(programmes[i])) for i, when in enumerate(scheduled)}


BOMB = "[" + ", ".join(["&a0 [x, x, x, x, x, x, x, x, x]"] + [
    f"&a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 24)]) + "]"
FAULT_WINDOW = 6.0        # seconds after a fault whose slots count as "around" it
LOG_WINDOW = 15.0         # seconds after a fault in which its first log line is looked for


class Captured(logging.Handler):
    """Every log record of the run with its wall time, to find each fault's first line."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.created, record.getMessage()))

    def first_after(self, moment: float, needle: str, within: float = LOG_WINDOW) -> float | None:
        """Seconds from `moment` to the first line holding `needle` within `within` s (a later fault's
        line is not this one's)."""
        return next((t - moment for t, text in self.records if moment <= t <= moment + within and needle in text),
                    None)


def run_faults(folder: Path, starts: int, *, inject: bool, captured: Captured,
               pulse: PulseServer) -> tuple[dict, dict[datetime, float], dict[datetime, float]]:
    """Slots every SPACING s through the sound card; with `inject`, faults at fixed slots.

    Returns each fault's (slots around it, time to its log line, its own slot if it has one),
    and the start error of every slot as PortAudio reports it and as heard at the sink.
    """
    import socket

    from broadcaster.onair.control import socket_path
    from broadcaster.onair.daemon import Station
    from broadcaster.schedule import load_schedule
    from tests.filesystems import SmallDisk

    disk = SmallDisk(folder / "state-disk", size="64m")
    # Renders go here while the state disk refuses them (/dev/shm in the product): a tmpfs of
    # its own, so the bench can fill it too without touching the machine's /dev/shm.
    memory = SmallDisk(folder / "memory-disk", size="128m")
    disk.mount()
    memory.mount()
    try:
        first = datetime.now(ZoneInfo(TZ_NAME)).replace(microsecond=0) + timedelta(seconds=10 + starts // 3)
        path = write_schedule(folder, starts, first, 3600.0)
        current = yaml.safe_load(path.read_text(encoding="utf-8"))
        current["station"]["state_dir"] = str(disk.path)
        good = yaml.safe_dump(current, allow_unicode=True, sort_keys=False)
        path.write_text(good, encoding="utf-8")

        def edit() -> None:
            path.write_text(yaml.safe_dump(current, allow_unicode=True, sort_keys=False), encoding="utf-8")

        scheduled = [first + timedelta(seconds=SPACING * i) for i in range(starts)]
        errors: dict[datetime, float] = {}
        lead_ins = LeadIns()

        def aired(entry, report) -> None:
            if report.started is not None and entry.kind.value == "scheduled":
                errors[entry.scheduled] = (report.started - entry.scheduled).total_seconds() * 1000
                lead_ins.aired(entry)

        if inject:                                    # a log truncated while the station was off
            (disk.path / "asrun.sqlite3").write_bytes(b"")
        station = Station(load_schedule(path), on_aired=aired, reload_interval=0.5, memory=memory.path / "memory")
        pulse.clear()
        started = time.time()
        station.start()
        faults: dict[str, tuple[float, str, datetime | None]] = {}
        if inject:
            faults["truncated log at start"] = (started, "DAMAGED", None)
        deadline = time.monotonic() + 120             # renders done before the first start
        while time.monotonic() < deadline:
            tasks = station.prerenderer._tasks.values()
            if len(tasks) >= starts and all(t.future.done() for t in tasks):
                break
            time.sleep(0.1)
        plan = {3: "disk full", 8: "disk freed", 10: "control flood", 14: "hostile edit (alias-bomb key)",
                17: "edit reverted", 19: "pathological bulletin edit",
                # Faults that hit rendering: an edit changes a slot 10 s ahead, so it is rendered again.
                23: "render into full disk", 30: "render with memory full too", 38: "disks freed"} if inject else {}
        plan = {i: name for i, name in plan.items() if i + 6 < starts}
        idle: list = []
        try:
            for index, when in enumerate(scheduled):
                name = plan.get(index)
                if name is None:
                    continue
                moment = when + timedelta(seconds=0.5)    # half a second after a slot's start
                while datetime.now(ZoneInfo(TZ_NAME)) < moment:
                    time.sleep(0.01)
                at = time.time()
                if name == "disk full":
                    disk.fill()
                    faults[name] = (at, "AS-RUN LOG WRITE FAULT", None)
                elif name == "disk freed":
                    disk.free()
                    faults[name] = (at, "writable again", None)
                elif name == "control flood":
                    for _ in range(200):
                        sock = socket.socket(socket.AF_UNIX)
                        sock.connect(str(socket_path(disk.path)))
                        idle.append(sock)
                    with socket.socket(socket.AF_UNIX) as nested:
                        nested.connect(str(socket_path(disk.path)))
                        nested.sendall(b"[" * 1200 + b"\n")
                    faults[name] = (at, "control", None)    # none expected: each is answered, not logged
                elif name.startswith("hostile edit"):
                    path.write_text(good.replace("bulletins:", f"bulletins:\n  ? {BOMB}\n  : x"), encoding="utf-8")
                    faults[name] = (at, "aliases (*name) expand", None)
                elif name == "edit reverted":
                    edit()
                    faults[name] = (at, "schedule reloaded", None)
                elif name == "pathological bulletin edit":
                    (folder / "benh.txt").write_text("1-" * 20_000, encoding="utf-8")
                    current["bulletins"]["benh"] = {"text_file": "benh.txt"}
                    edit()
                    faults[name] = (at, "schedule reloaded", None)
                elif name == "render into full disk":
                    # The disk fills, then the slot 10 s ahead is edited to play another bulletin,
                    # whose speech the disk's cache holds: it is rendered in memory from it.
                    disk.fill()
                    target = index + 5
                    current["slots"][target]["play"] = [f"b{(target + 1) % starts}"]
                    edit()
                    faults[name] = (at, "rendered in memory", scheduled[target])
                elif name == "render with memory full too":
                    # Memory fills too; the slot 10 s ahead gets a text never spoken: no render
                    # can be written anywhere, so it airs from its parts (eSpeak NG's stdout).
                    memory.fill()
                    target = index + 5
                    current["bulletins"]["moi"] = {"text": "Sáu bảy."}
                    current["slots"][target]["play"] = ["moi"]
                    edit()
                    faults[name] = (at, "no room to render in memory", scheduled[target])
                else:
                    disk.free()
                    memory.free()
                    faults[name] = (at, "writable again", None)
            end = scheduled[-1] + timedelta(seconds=5)
            while datetime.now(ZoneInfo(TZ_NAME)) < end and len(errors) < starts:
                time.sleep(0.2)
            time.sleep(0.5)                           # the last programme drains out of the sink
        finally:
            for sock in idle:
                sock.close()
            station.stop()
        heard = heard_by_slot(pulse, scheduled, lead_ins.finish(station.schedule))
        report = {}
        for name, (at, needle, target) in faults.items():
            around = [s for s in errors if 0 <= s.timestamp() - at <= FAULT_WINDOW]
            latency = captured.first_after(at, needle) if needle != "control" else None
            if name == "disk freed" and latency is None and "disk full" in faults:
                # Deleting aired renders may give the log its space back before the operator does.
                cleared = captured.first_after(faults["disk full"][0], needle, at - faults["disk full"][0])
                latency = None if cleared is None else cleared - (at - faults["disk full"][0])
            report[name] = (around, latency, target)
        return report, errors, heard
    finally:
        disk.unmount()
        memory.unmount()


def worst_inputs(root: Path) -> dict[str, Path]:
    """One station folder per hostile input, beside a copy of the station's own schedule (the baseline)."""
    import os
    import shutil

    inputs = {}
    base = (ROOT / "schedule.yaml").read_text(encoding="utf-8")
    for name in ("baseline: schedule.yaml", "alias-bomb key", "alias-bomb value", "nested 5000 deep",
                 "/dev/zero link", "FIFO", "40,000-char ranges", "2 MB schedule"):
        folder = root / f"in{len(inputs)}"
        shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(".venv", ".git", "var", "tests", "*.pyc"))
        path = folder / "schedule.yaml"
        if name == "alias-bomb key":
            path.write_text(base.replace("bulletins:", f"bulletins:\n  ? {BOMB}\n  : x", 1), encoding="utf-8")
        elif name == "alias-bomb value":
            path.write_text(base.replace("bulletins:", f"bulletins:\n  bom:\n    text: {BOMB}", 1), encoding="utf-8")
        elif name == "nested 5000 deep":
            path.write_text(base.replace("bulletins:", "bulletins:\n  sau:\n    text: " + "[" * 5000 + "]" * 5000, 1),
                            encoding="utf-8")
        elif name == "/dev/zero link":
            path.unlink()
            path.symlink_to("/dev/zero")
        elif name == "FIFO":
            path.unlink()
            os.mkfifo(path)
        elif name == "40,000-char ranges":
            (folder / "benh.txt").write_text("1-" * 20_000, encoding="utf-8")
            path.write_text(base.replace("bulletins:", "bulletins:\n  benh:\n    text_file: benh.txt", 1),
                            encoding="utf-8")
        elif name == "2 MB schedule":
            path.write_text(base + "#" * (2 * 1024 * 1024 - len(base.encode()) - 16) + "\n", encoding="utf-8")
        inputs[name] = path
    return inputs


@contextlib.contextmanager
def private_pulse(prefix: str) -> Iterator[tuple[Path, PulseServer]]:
    """A temporary folder with a private PulseAudio server in it, this process's sound card meanwhile."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        pulse = PulseServer(root / "pulse")
        pulse.start()
        try:
            pulse.activate()
            yield root, pulse
        finally:
            pulse.stop()


PREMADE_ENV = "BENCH_ONAIR_PROGRAMME"


def premade_renderer(job, out: Path):
    """A render worker's renderer that "renders" the long programme made before the run (a hard link)."""
    import wave

    from broadcaster.onair.render import RenderResult

    source = Path(os.environ[PREMADE_ENV])
    os.link(source, out)
    with wave.open(str(out), "rb") as wav:
        duration = wav.getnframes() / wav.getframerate()
    return RenderResult(out, duration, "premade")


def write_long_programme(path: Path, minutes: float, rate: int = 48_000) -> None:
    """A quiet 220 Hz tone of `minutes`, 48 kHz mono 16-bit, written a minute at a time."""
    import numpy as np

    from broadcaster.wav import Writer

    t = np.arange(60 * rate) / rate
    minute = np.round(0.1 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    with Writer(path, rate, 1) as writer:
        whole, rest = int(minutes), minutes - int(minutes)
        for _ in range(whole):
            writer.write(minute)
        writer.write(minute[:int(rest * 60 * rate)])


def rss_mb() -> float:
    """This process's resident set size (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def load_whole(path: Path, pad_seconds: float = 0.25):
    """The output's programme loading before it streamed (read_programme, kept here as the baseline):
    the whole programme as one float32 array, converted a second at a time."""
    import wave

    import numpy as np

    with wave.open(str(path), "rb") as wav:
        channels, rate = wav.getnchannels(), wav.getframerate()
        frames = wav.getnframes()
        data = np.zeros(frames + int(pad_seconds * rate), dtype=np.float32)
        position = 0
        while position < frames:
            raw = wav.readframes(rate)
            if not raw:
                break
            block = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
            mono = block[:, 0] if channels == 1 else block.mean(axis=1)
            data[position:position + len(mono)] = mono
            position += len(mono)
    data[:position] *= np.float32(1 / 32768)
    return data


def memory_child(mode: str, air_seconds: float) -> int:
    """One measurement (a fresh process): idle daemon RSS, then peak RSS while the programme airs."""
    from broadcaster.onair.daemon import Station
    from broadcaster.onair.queue import Kind
    from broadcaster.onair.requests import Request
    from broadcaster.schedule import load_schedule
    from broadcaster.schedule.model import Priority

    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    first = datetime.now(ZoneInfo(TZ_NAME)) + timedelta(hours=3)
    schedule = load_schedule(write_schedule(folder, 1, first, 3.0))
    station = Station(schedule, renderer=premade_renderer, control=False)
    station.start()
    try:
        time.sleep(2.0)
        idle = rss_mb()
        held = load_whole(Path(os.environ[PREMADE_ENV])) if mode == "in-memory" else None
        bulletin = schedule.bulletins["b0"]
        station.submit(Request(Kind.MANUAL, "long", (bulletin,), Priority.NORMAL))
        peak, started = idle, None
        deadline = time.monotonic() + air_seconds + 60
        while time.monotonic() < deadline:
            peak = max(peak, rss_mb())
            rows = [r for r in station.asrun.history() if r.status.value == "playing"]
            if rows and started is None:
                started = time.monotonic()
            if started is not None and time.monotonic() - started >= air_seconds:
                break
            time.sleep(0.1)
        del held
        print(f"{idle:.1f} {peak:.1f} {'aired' if started is not None else 'never-started'}", flush=True)
    finally:
        station.stop()
    return 0


def run_memory(root: Path, pulse: PulseServer, minutes: float, air_seconds: float) -> list[str]:
    programme = root / "long.wav"
    print(f"writing a {minutes:g}-minute programme ...", flush=True)
    write_long_programme(programme, minutes)
    lines = []
    for mode in ("daemon", "in-memory"):
        print(f"running memory/{mode} (airs {air_seconds:g} s of it) ...", flush=True)
        env = {**pulse.env(), PREMADE_ENV: str(programme)}
        result = subprocess.run([sys.executable, __file__, "--memory-child", mode, "--air-seconds", str(air_seconds)],
                                env=env, capture_output=True, text=True, timeout=air_seconds + 300, check=False)
        fields = result.stdout.split()
        if result.returncode != 0 or len(fields) != 3:
            lines.append(f"{mode:16s} failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
            continue
        idle, peak, state = float(fields[0]), float(fields[1]), fields[2]
        lines.append(f"{mode:16s} idle {idle:7.1f} MB  peak while airing {peak:7.1f} MB  "
                     f"above idle {peak - idle:7.1f} MB  ({state})")
    return lines


def _ms(value: float | None) -> str:
    return "not aired" if value is None else f"{value:.2f} ms"


def faults_main(starts: int) -> None:
    from broadcaster.onair.reload import validate_off_path
    from broadcaster.schedule import Schedule  # noqa: F401  (the reload check unpickles one)

    from broadcaster import i18n

    i18n.set_language("en")                     # the log lines are matched in English
    root_logger = logging.getLogger()
    for handler in root_logger.handlers:
        handler.setLevel(logging.WARNING)       # the console stays quiet; the capture sees INFO
    captured = Captured()
    root_logger.addHandler(captured)
    root_logger.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    load_before = os.getloadavg()
    with private_pulse("bench-faults-") as (root, pulse):
        runs = {}
        for name, inject in (("no faults", False), ("with faults", True)):
            folder = root / name.replace(" ", "-")
            folder.mkdir()
            print(f"running {name} ({starts} starts, one every {SPACING} s) ...", flush=True)
            runs[name] = run_faults(folder, starts, inject=inject, captured=captured, pulse=pulse)
        load_after = os.getloadavg()
        print()
        print("machine load average (1, 5, 15 min): before %.2f %.2f %.2f, after the two runs %.2f %.2f %.2f"
              % (*load_before, *load_after))
        print("start error (target: median <= 5 ms, max <= 30 ms at the device)")
        print("reported: PortAudio's DAC time of the first sample - scheduled second")
        for name, (_, errors, _) in runs.items():
            print(summary(name, list(errors.values()), starts))
        print("heard: the first loud sample leaving the PulseAudio pipe sink - scheduled second - where that "
              "sample lies in the programme")
        for name, (_, _, heard) in runs.items():
            print(summary(name, list(heard.values()), starts))
        print(f"slots in the {FAULT_WINDOW:g} s after each fault (reported, then heard), and the time to the fault's "
              "first log line:")
        report, errors, heard = runs["with faults"]
        for name, (around, latency, target) in report.items():
            line = "no log line by design" if name == "control flood" else (
                "no log line" if latency is None else f"first log line after {latency * 1000:7.1f} ms"
                if latency >= 0 else f"log writable again {-latency * 1000:7.1f} ms before")
            reported = [errors[s] for s in around]
            heard_around = [heard[s] for s in around if s in heard]
            print(f"  {name:30s} {summary('', reported, len(around)).strip() if around else 'no slot in the window':70s} "
                  f"{line}")
            if around:
                print(f"  {'':30s} {summary('', heard_around, len(around)).strip()} (heard)")
            if target is not None:
                print(f"  {'':30s} its own slot {target:%H:%M:%S}: "
                      f"reported {_ms(errors.get(target))}, heard {_ms(heard.get(target))}")
        print()
        print("validate (own process) and the reload's check (its child process) on the worst inputs "
              "(target <= 5 s, <= 200 MB):")
        for name, path in worst_inputs(root / "inputs").items():
            code, _, seconds, peak_kb = run_measured(["validate", "--schedule", str(path)], ROOT, timeout=120)
            peak = peak_kb // 1024
            check = validate_off_path(path)
            print(f"  {name:26s} validate {seconds:6.2f} s {peak:5d} MB exit {code}   "
                  f"reload check {check.seconds:6.2f} s {check.peak_kb // 1024:5d} MB "
                  f"({'accepted' if check.schedule is not None else 'refused: ' + check.problems[0].key})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("all", "starts", "memory", "faults"), default="all",
                        help="all: starts and memory; faults needs root")
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the programme for --mode memory")
    parser.add_argument("--air-seconds", type=float, default=20.0)
    parser.add_argument("--memory-child", choices=("daemon", "in-memory"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.memory_child:
        return memory_child(args.memory_child, args.air_seconds)
    if args.mode == "faults":
        faults_main(args.starts)
        return 0
    with private_pulse("bench-onair-") as (root, pulse):
        if args.mode in ("all", "memory"):
            memory = run_memory(root, pulse, args.minutes, args.air_seconds)
            print()
            print(f"daemon RSS airing a {args.minutes:g}-minute programme on the sound card "
                  f"(target: <= 64 MB above idle)")
            for line in memory:
                print(line)
            print()
        if args.mode == "memory":
            return 0
        results = {}
        for name, run in (("daemon+renders", lambda f: run_daemon(f, args.starts, quiet=False)),
                          ("daemon-quiet", lambda f: run_daemon(f, args.starts, quiet=True)),
                          ("naive+renders", lambda f: run_naive(f, args.starts))):
            folder = root / name
            folder.mkdir()
            print(f"running {name} ({args.starts} starts, one every {SPACING} s) ...", flush=True)
            pulse.clear()
            errors, scheduled, lead_ins = run(folder)
            time.sleep(0.5)                 # let the last programme drain out of the sink
            results[name] = (errors, list(heard_by_slot(pulse, scheduled, lead_ins).values()))
        print()
        print(f"start error, {args.starts} starts each (target for the daemon: median <= 5 ms, max <= 30 ms)")
        print("reported: PortAudio DAC time of the first sample - scheduled second")
        for name, (errors, _) in results.items():
            print(summary(name, errors, args.starts))
        print("heard: first loud sample leaving the PulseAudio pipe sink - scheduled second - where that sample "
              "lies in the programme (includes the server's buffering)")
        for name, (_, heard) in results.items():
            print(summary(name, heard, args.starts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
