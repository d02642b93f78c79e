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

Usage: .venv/bin/python scripts/bench_onair.py [--starts 50]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import CancelledError
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.pulseaudio import PulseServer  # noqa: E402

TZ_NAME = "Asia/Ho_Chi_Minh"
TEXTS = ["Một.", "Hai.", "Ba.", "Bốn.", "Năm."]           # programmes of ~0.6 s
LOAD_TEXT = "Thông báo của Ủy ban nhân dân xã về lịch tiêm chủng cho trẻ em dưới năm tuổi."
SPACING = 2                                                  # seconds between starts


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


def heard_errors(pulse: PulseServer, scheduled: list[datetime]) -> list[float]:
    """Independent check from the sink side: when each programme's first loud sample left the
    pipe sink (sample time = chunk arrival - samples after it / rate), minus its scheduled second."""
    import numpy as np

    times, values = [], []
    for arrived, chunk in pulse._snapshot():
        samples = np.frombuffer(chunk[: len(chunk) - len(chunk) % 4], dtype="<f4")
        values.append(samples)
        times.append(arrived - (len(samples) - np.arange(len(samples))) / pulse.rate)
    if not values:
        return []
    samples, when = np.concatenate(values), np.concatenate(times)
    loud = np.flatnonzero(np.abs(samples) > 1e-3)
    onsets = [loud[0]] + [b for a, b in zip(loud, loud[1:]) if b - a > pulse.rate // 4] if len(loud) else []
    errors = []
    for index in onsets:
        heard = when[index]
        nearest = min(scheduled, key=lambda s: abs(s.timestamp() - heard))
        errors.append((heard - nearest.timestamp()) * 1000)
    return errors


def run_daemon(folder: Path, starts: int, *, quiet: bool) -> tuple[list[float], list[datetime]]:
    from broadcaster.onair.daemon import Station
    from broadcaster.schedule import load_schedule

    lead = 3.0 if not quiet else 3600.0          # quiet: everything pre-rendered before the first start
    first = datetime.now(ZoneInfo(TZ_NAME)).replace(microsecond=0) + timedelta(seconds=8 if not quiet else 5 + starts // 3)
    schedule = load_schedule(write_schedule(folder, starts, first, lead))
    errors: list[float] = []

    def aired(entry, report) -> None:
        if report.started is not None and entry.kind.value == "scheduled":
            errors.append((report.started - entry.scheduled).total_seconds() * 1000)

    station = Station(schedule, on_aired=aired, control=False)
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
    return errors, [first + timedelta(seconds=SPACING * i) for i in range(starts)]


def run_naive(folder: Path, starts: int) -> tuple[list[float], list[datetime]]:
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
    return errors, [first + timedelta(seconds=SPACING * i) for i in range(starts)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="bench-onair-") as tmp:
        root = Path(tmp)
        pulse = PulseServer(root / "pulse")
        pulse.start()
        try:
            pulse.activate()
            results = {}
            for name, run in (("daemon+renders", lambda f: run_daemon(f, args.starts, quiet=False)),
                              ("daemon-quiet", lambda f: run_daemon(f, args.starts, quiet=True)),
                              ("naive+renders", lambda f: run_naive(f, args.starts))):
                folder = root / name
                folder.mkdir()
                print(f"running {name} ({args.starts} starts, one every {SPACING} s) ...", flush=True)
                pulse.clear()
                errors, scheduled = run(folder)
                time.sleep(0.5)                 # let the last programme drain out of the sink
                results[name] = (errors, heard_errors(pulse, scheduled))
            print()
            print(f"start error, {args.starts} starts each (target for the daemon: median <= 5 ms, max <= 30 ms)")
            print("reported: PortAudio DAC time of the first sample - scheduled second")
            for name, (errors, _) in results.items():
                print(summary(name, errors, args.starts))
            print("heard: first loud sample leaving the PulseAudio pipe sink - scheduled second "
                  "(includes the server's buffering)")
            for name, (_, heard) in results.items():
                print(summary(name, heard, args.starts))
        finally:
            pulse.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
