#!/usr/bin/env python3
"""Health-check cost benchmark: what the checks cost the daemon, and whether they move start times.

1. CPU per hour of checks: one hour of the daemon's health work on the root schedule.yaml in
   this process: 60 runs of the cheap checks (disk, as-run log, clock, voice, schedule, next)
   plus output probes on a real PulseAudio sound card (tests/pulseaudio.py) before each
   pre-render (PROBES_PER_HOUR, generous: the root station airs twice a day). Process CPU time
   (user + system) beside wall time; the baseline is the same hour with no checks (zero).
2. Start error with checks beside: scripts/bench_onair.py's daemon run (real renders, real
   PortAudio into the private PulseAudio server), once without health checks and once with the
   cheap checks every second (60x the daemon's rate) and an output probe before every
   pre-render, in the same process, one after the other.

Usage: .venv/bin/python scripts/bench_health.py [--starts 30] [--hours 1]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=30)
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
        finally:
            pulse.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
