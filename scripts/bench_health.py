#!/usr/bin/env python3
"""Health-check cost benchmark: what the checks cost the daemon, and whether they move start times.

1. CPU per hour of checks: one hour of the daemon's health work on the root schedule.yaml in
   this process: 60 runs of the cheap checks (disk, as-run log, clock, voice, schedule, next)
   plus output probes on a real PulseAudio sound card (tests/pulseaudio.py) before each
   pre-render (PROBES_PER_HOUR, generous: the root station airs twice a day). Process CPU time
   (user + system) beside wall time; the baseline is the same hour with no checks (zero).
2. Start error with checks beside: scripts/bench_onair.py's daemon run (real renders kept
   running beside, real PortAudio into the private PulseAudio server, one start every
   SPACING s), without health checks and with the cheap checks every second (60x the daemon's
   rate) plus the sound-card probe in the second before each pre-render, alternated ROUNDS
   times in the same process. Process CPU time of each run is printed beside.

Usage: .venv/bin/python scripts/bench_health.py [--starts 15] [--rounds 2] [--hours 1]
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tests.pulseaudio import PulseServer  # noqa: E402

PROBES_PER_HOUR = 4
SPACING = 6          # seconds between starts: room for a probe between one programme and the next cue


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def hour_of_checks(state_dir: Path, hours: int) -> tuple[float, float, int, int]:
    """(CPU seconds, wall seconds, cheap runs, probes) of `hours` of the daemon's checks."""
    import dataclasses

    from broadcaster.health import ScheduleSource
    from broadcaster.health.checks import file_version
    from broadcaster.health.watch import HealthWatch
    from broadcaster.schedule import load_schedule

    schedule = load_schedule(ROOT / "schedule.yaml")
    schedule = dataclasses.replace(schedule, station=dataclasses.replace(schedule.station, state_dir=state_dir))
    tz = schedule.station.timezone
    source = ScheduleSource(schedule.path, "file", version=file_version(schedule.path))
    watch = HealthWatch(lambda: schedule, source, outputs=["default"], clock=lambda: datetime.now(tz))
    watch.start_up()                    # warm: the voice check's normalizer, PortAudio, imports
    cpu, wall = cpu_seconds(), time.perf_counter()
    runs = probes = 0
    for _ in range(hours):
        for minute in range(60):
            watch.minute()
            runs += 1
            if minute % (60 // PROBES_PER_HOUR) == 0:
                watch.before_prerender()
                probes += 1
    return cpu_seconds() - cpu, time.perf_counter() - wall, runs, probes


def start_errors(root: Path, pulse: PulseServer, starts: int, rounds: int) -> None:
    import bench_onair

    bench_onair.SPACING = SPACING
    runs = (("without checks", {"health_every": None}), ("checks every 1 s", {"health_every": 1.0}))
    results: dict[str, tuple[list[float], list[float], float]] = {name: ([], [], 0.0) for name, _ in runs}
    for round_ in range(rounds):
        for name, options in runs:
            folder = root / f"{name.replace(' ', '-')}-{round_}"
            folder.mkdir()
            print(f"running {name}, round {round_ + 1} ({starts} starts, one every {SPACING} s) ...", flush=True)
            pulse.clear()
            cpu = cpu_seconds()
            errors, scheduled = bench_onair.run_daemon(folder, starts, quiet=False, station_options=options)
            cpu = cpu_seconds() - cpu
            time.sleep(0.5)             # let the last programme drain out of the sink
            reported, heard, spent = results[name]
            results[name] = (reported + errors, heard + bench_onair.heard_errors(pulse, scheduled), spent + cpu)
    expected = starts * rounds
    print()
    print(f"start error, {expected} starts each ({rounds} alternated rounds; daemon target: median <= 5 ms, "
          "max <= 30 ms)")
    print("reported: PortAudio DAC time of the first sample - scheduled second")
    for name, (reported, _, _) in results.items():
        print(bench_onair.summary(name, reported, expected))
    print("heard: first loud sample leaving the PulseAudio pipe sink - scheduled second")
    for name, (_, heard, _) in results.items():
        print(bench_onair.summary(name, heard, expected))
    print("process CPU over the runs (renders and playout included):")
    for name, (_, _, spent) in results.items():
        print(f"{name:16s} {spent:7.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--hours", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp:
        root = Path(tmp)
        pulse = PulseServer(root / "pulse")
        pulse.start()
        try:
            pulse.activate()
            cpu, wall, runs, probes = hour_of_checks(root / "var", args.hours)
            print(f"checks: {runs} cheap runs + {probes} output probes = {args.hours} h of the daemon's checks "
                  "(root schedule.yaml, PulseAudio sound card)")
            print(f"  CPU {cpu:.3f} s per {args.hours} h ({cpu / args.hours / 3600 * 100:.4f} % of one core), "
                  f"wall {wall:.3f} s; baseline without checks: 0 s")
            print(f"  per cheap run {cpu / runs * 1000:.2f} ms CPU")
            print(flush=True)
            start_errors(root, pulse, args.starts, args.rounds)
        finally:
            pulse.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
