"""Speech-stage figures, each next to a baseline measured in the same run.

1. Normalizer throughput on the seed plan (chars/s, ms per pass) against a plain
   `str.lower()` + whitespace-regex pass over the same text.
2. Cold render of one bulletin with eSpeak NG through CachedSpeaker (empty cache in a temp dir:
   split, synthesize every piece, decode, join), against one raw `espeak-ng` call on the whole
   normalized text (no splitting, no cache).
3. Cache-hit render time (median of N `speak` calls) against a bare `os.stat` of the result,
   and a hit on a new speaker (which must normalize and split the text once).
4. Normalizer cost on long and hostile input (the seed plan, 40,000 characters of `1-1-1-…`,
   1 MB of ordinary Vietnamese, 1 MB of adversarial mixtures), each timed for this checkout and
   for the normalizer of `--baseline` (a git revision, default the last one before the
   linear-time rules). The baseline's `broadcaster` package is taken out of git into a temporary
   folder; every figure is measured in a child process (the same interpreter, one workload each,
   the two implementations alternating), and a baseline still running after `--timeout`
   seconds is stopped and shown as "> N s".

5. A simulated morning with the internet down from 04:00 to 08:00 (injected clock; Google's
   endpoint faked at the HTTP transport, eSpeak NG and ffmpeg real): three bulletins saved the
   evening before, one written at 05:00 during the outage, all airing at 06:00 and again at 10:00,
   each rendered 30 minutes before air as the daemon does. The share of airtime spoken in
   Google's voice, with speech ahead of time (`speech.SpeechAhead`) and without it (the
   baseline: what the station did before, rendering only 30 minutes ahead), in the same run.

Run: .venv/bin/python scripts/bench_speech.py [--passes 20] [--hits 200] [--baseline REV] [--timeout 60]
     (--only-normalizer skips the eSpeak NG render and outage figures; --only-outage runs only those)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.schedule import load_schedule
from broadcaster import wav
from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.gtts_engine import GttsEngine
from broadcaster.speech.speaker import CachedSpeaker, make_normalizer
from broadcaster.text import Normalizer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))           # the faked Google endpoint of the tests (tests.speech.conftest)
SEED = ROOT.parent / "shared" / "seed" / "000_3c48e4e992f1d6b8.txt"
BULLETIN = ROOT / "bulletins" / "cchc-2023" / "02-muc-dich-yeu-cau.txt"
# The last revision whose rules were one backtracking pattern (issue 11 made them linear).
BASELINE = "b8a79c0"
MEGABYTE = 1_000_000


def timed(func, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def bench_normalizer(passes: int) -> None:
    text = SEED.read_text("utf-8")
    normalizer = Normalizer()
    normalizer.normalize(text)          # warm-up: compiled patterns, lazy tables
    space = re.compile(r"\s+")
    baseline = statistics.median(timed(lambda: space.sub(" ", text.lower()), passes))
    real = statistics.median(timed(lambda: normalizer.normalize(text), passes))
    print(f"normalizer on {SEED.name} ({len(text)} chars, median of {passes} passes)")
    print(f"  baseline lower()+regex : {baseline * 1e3:8.3f} ms/pass  {len(text) / baseline:12,.0f} chars/s")
    print(f"  Normalizer.normalize   : {real * 1e3:8.3f} ms/pass  {len(text) / real:12,.0f} chars/s"
          f"  ({real / baseline:.0f}x baseline)")


def bench_render(hits: int) -> None:
    text = BULLETIN.read_text("utf-8")
    normalize = Normalizer().normalize
    with tempfile.TemporaryDirectory() as folder:
        engine = EspeakEngine()
        engine.cache_options()          # the version probe is per process, not per render
        raw = Path(folder) / "raw.wav"
        normalized = normalize(text)
        raw_time = timed(lambda: engine.synthesize(normalized, raw), 1)[0]

        speaker = CachedSpeaker([engine], SpeechCache(Path(folder) / "cache"), normalize)
        start = time.perf_counter()
        speech = speaker.speak(text)
        cold = time.perf_counter() - start
        pieces = len(list((Path(folder) / "cache").glob("*.wav"))) - 1

        hit_times = timed(lambda: speaker.speak(text), hits)
        fresh_times = timed(
            lambda: CachedSpeaker([engine], SpeechCache(Path(folder) / "cache"), normalize).speak(text), 20)
        stat_times = timed(lambda: os.stat(speech.path), hits)

    print(f"render of {BULLETIN.name} ({len(text)} chars, {pieces} pieces) with eSpeak NG")
    print(f"  baseline one raw espeak-ng call : {raw_time * 1e3:8.1f} ms")
    print(f"  cold CachedSpeaker.speak         : {cold * 1e3:8.1f} ms  ({cold / raw_time:.1f}x raw)")
    print(f"cache hit, median of {hits}")
    print(f"  baseline os.stat of the WAV      : {statistics.median(stat_times) * 1e6:8.1f} µs")
    print(f"  CachedSpeaker.speak (hit)        : {statistics.median(hit_times) * 1e6:8.1f} µs"
          f"  (text seen before: stat + sidecar read)")
    print(f"  hit on a fresh CachedSpeaker     : {statistics.median(fresh_times) * 1e6:8.1f} µs"
          f"  (median of 20: also normalizes and splits)")


def ordinary_text(size: int) -> str:
    """The commune's own bulletins and plan, repeated to `size` characters."""
    texts = [SEED.read_text("utf-8")] + [p.read_text("utf-8") for p in sorted(BULLETIN.parent.glob("*.txt"))]
    block = "\n".join(texts)
    return (block * (size // len(block) + 1))[:size]


def adversarial_text(size: int) -> str:
    """Digits, dashes, slashes, dots and abbreviations glued in the shapes that made the old
    pattern backtrack, in lines of a few thousand characters (a pasted table or a stuck key)."""
    rng = random.Random(11)
    pieces = ["1", "12", "2023", "0228", "-", "–", "/", ".", ",", " ", "UBND", "KH", "TT", "NQ", "A",
              "1-", "1/", "1.", "1,", "và", "đến", "h", ":", "%", "°", "(", ")", "&", "m²", "km/h"]
    families = [lambda: "1-" * 50, lambda: "1/1-" * 25, lambda: "A-" * 50, lambda: "1 và " * 20,
                lambda: "12.3," * 20, lambda: "/KH-" * 25, lambda: "a&" * 50,
                lambda: "".join(rng.choice(pieces) for _ in range(60))]
    lines, length = [], 0
    while length < size:
        line = "".join(rng.choice(families)() for _ in range(rng.randint(20, 60)))
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines)[:size]


WORKLOADS = {
    "seed": "seed plan, median ms per pass",
    "dashes4k": "1-1-1-… 4,000 chars",
    "dashes40k": "1-1-1-… 40,000 chars",
    "ordinary": "1 MB ordinary Vietnamese",
    "adversarial": "1 MB adversarial mixture",
}


def measure(workload: str, passes: int) -> dict[str, float]:
    """Wall and CPU seconds of one workload in this process (the child side of `bench_linear`):
    the median of `passes` for the seed plan, the best of three for the long texts."""
    from broadcaster.text import Normalizer as Current    # whichever package PYTHONPATH put first

    normalizer = Current()
    if workload == "seed":
        text = SEED.read_text("utf-8")
        normalizer.normalize(text)
        repeat, pick = passes, statistics.median
    else:
        normalizer.normalize("1-1 UBND 06/KH-UBND 17/01/2023")          # warm-up
        text = {"dashes4k": lambda: ("1-" * 2000)[:4000], "dashes40k": lambda: ("1-" * 20000)[:40000],
                "ordinary": lambda: ordinary_text(MEGABYTE),
                "adversarial": lambda: adversarial_text(MEGABYTE)}[workload]()
        repeat, pick = 3, min
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        normalizer.normalize(text)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall": pick(walls), "cpu": pick(cpus)}


def child(workload: str, passes: int, package_dir: Path | None, timeout: float) -> dict | None:
    env = dict(os.environ)
    if package_dir is not None:
        env["PYTHONPATH"] = str(package_dir) + os.pathsep + env.get("PYTHONPATH", "")
    try:
        result = subprocess.run([sys.executable, __file__, "--measure", workload, "--passes", str(passes)],
                                capture_output=True, text=True, env=env, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(result.stdout)


def bench_linear(passes: int, baseline: str, timeout: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", baseline, "broadcaster"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        print(f"normalizer on long and hostile input: this checkout vs {baseline} (timeout {timeout:.0f} s)")
        load = os.getloadavg()
        print(f"  load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
        for workload, label in WORKLOADS.items():
            new = child(workload, passes, None, timeout)
            old = child(workload, passes, Path(folder), timeout)
            unit, scale = ("ms", 1e3) if workload == "seed" else ("s", 1)
            shown = [f"> {timeout:.0f} s (stopped)" if v is None
                     else f"{v['wall'] * scale:.3f} {unit} (cpu {v['cpu'] * scale:.3f})" for v in (new, old)]
            ratio = f"  {old['wall'] / new['wall']:.1f}x faster" if new and old else ""
            print(f"  {label:32}: now {shown[0]:>26}   baseline {shown[1]:>26}{ratio}")


OUTAGE = (4.0, 8.0)                 # hours the internet is down
SAVED_BEFORE = ("01-mo-dau", "02-muc-dich-yeu-cau", "03-noi-dung-tuyen-truyen")
WRITTEN_DURING = "04-phuong-tien-hinh-thuc"
AIRINGS = (6.0, 10.0)


def _outage_schedule(folder: Path, names: tuple[str, ...]) -> Path:
    bulletins = "".join(f"  {name}:\n    title: {name}\n    text_file: {name}.txt\n" for name in names)
    for name in names:
        (folder / f"{name}.txt").write_text((BULLETIN.parent / f"{name}.txt").read_text("utf-8"), "utf-8")
    path = folder / "schedule.yaml"
    path.write_text("station:\n  name: Đài thử\n  timezone: Asia/Ho_Chi_Minh\n"
                    f"bulletins:\n{bulletins}"
                    f"slots:\n  - name: Sáng\n    at: [\"06:00\", \"10:00\"]\n    play: [{', '.join(names)}]\n",
                    "utf-8")
    return path


def simulate_outage_day(folder: Path, with_ahead: bool) -> dict:
    """One simulated morning; returns seconds of airtime per (airing hour, group) and voice."""
    # Imported here, not at the top: a `--measure` child runs an older `broadcaster` without them.
    import requests
    import responses

    from broadcaster.speech.ahead import SpeechAhead
    from tests.speech.conftest import FakeGoogle

    day = datetime(2024, 3, 4, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    clock = [day.timestamp()]
    now = lambda: clock[0]                                              # noqa: E731
    cache = SpeechCache(folder / "cache")

    def station_speaker(_schedule=None) -> CachedSpeaker:
        gtts = GttsEngine(timeout=4.0, retries=2, sleep=lambda s: None)
        return CachedSpeaker([gtts, EspeakEngine()], cache, make_normalizer(None), clock=now)

    def wait(seconds: float) -> None:
        clock[0] += seconds

    def run_ahead_until(hour: float) -> None:
        end = (day + timedelta(hours=hour)).timestamp()
        while with_ahead and clock[0] < end:
            step = ahead.step()
            wait(min(max(step.wait, 1.0), end - clock[0]) if step.done != "prepared" else 0.0)
        clock[0] = max(clock[0], end)

    mp3 = _mp3(folder)
    airtime: dict = {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        google = FakeGoogle(mock, mp3)
        ahead = SpeechAhead(station_speaker, clock=now, wait=wait)
        folder_v1, folder_v2 = folder / "v1", folder / "v2"
        folder_v1.mkdir()
        folder_v2.mkdir()
        before = load_schedule(_outage_schedule(folder_v1, SAVED_BEFORE))
        ahead.update(before)                                            # 00:00 the station starts
        run_ahead_until(OUTAGE[0])
        google.default = requests.exceptions.ConnectionError("Name or service not known")
        run_ahead_until(5.0)
        during = load_schedule(_outage_schedule(folder_v2, SAVED_BEFORE + (WRITTEN_DURING,)))
        ahead.update(during)                                            # 05:00 a bulletin is written
        for airing in AIRINGS:
            render_at = airing - 0.5
            if render_at >= OUTAGE[1] and google.default != "ok":
                run_ahead_until(OUTAGE[1])
                google.default = "ok"                                   # 08:00 the internet is back
            run_ahead_until(render_at)
            speaker = station_speaker()                                 # the render 30 min before air
            for bulletin in during.bulletins.values():
                speech = speaker.speak(bulletin.text)
                group = "written during" if bulletin.id == WRITTEN_DURING else "saved before"
                key = (airing, group, speech.engine)
                airtime[key] = airtime.get(key, 0.0) + wav.seconds(speech.path)
        google_requests = len(google.requests)
    return {"airtime": airtime, "requests": google_requests, "ahead_requests": ahead.requests}


def _mp3(folder: Path) -> bytes:
    """A real MP3 to stand for Google's reply (eSpeak NG encoded by ffmpeg at 24 kHz mono)."""
    import subprocess

    wav, mp3 = folder / "voice.wav", folder / "voice.mp3"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "xin chào bà con"], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ar", "24000", "-ac", "1",
                    "-codec:a", "libmp3lame", "-b:a", "32k", str(mp3)], check=True)
    return mp3.read_bytes()


def bench_outage_day() -> None:
    logging.getLogger("broadcaster").setLevel(logging.ERROR)     # the outage's warnings are expected
    print(f"a morning with the internet down {OUTAGE[0]:02.0f}:00-{OUTAGE[1]:02.0f}:00: "
          "share of airtime in Google's voice")
    results = {}
    for with_ahead in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            results[with_ahead] = simulate_outage_day(Path(folder), with_ahead)
            results[with_ahead]["seconds"] = time.perf_counter() - start
    for airing in AIRINGS:
        for group in ("saved before", "written during"):
            shares = []
            for with_ahead in (True, False):
                times = {engine: s for (a, g, engine), s in results[with_ahead]["airtime"].items()
                         if a == airing and g == group}
                total = sum(times.values())
                shares.append(f"{100 * times.get('gtts', 0.0) / total:5.1f}% of {total:6.1f} s" if total else "-")
            label = f"{airing:02.0f}:00, bulletins {group} the outage"
            print(f"  {label:44}: with speech ahead {shares[0]:>18}   baseline {shares[1]:>18}")
    for with_ahead, name in ((True, "with speech ahead"), (False, "baseline")):
        r = results[with_ahead]
        print(f"  {name:18}: {r['requests']} requests to Google ({r['ahead_requests']} from speech ahead),"
              f" simulated in {r['seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--hits", type=int, default=200)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the normalizer to compare with")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a baseline run is stopped")
    parser.add_argument("--only-normalizer", action="store_true")
    parser.add_argument("--only-outage", action="store_true")
    parser.add_argument("--measure", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.passes)))
        return
    if args.only_outage:
        bench_outage_day()
        return
    bench_normalizer(args.passes)
    bench_linear(args.passes, args.baseline, args.timeout)
    if not args.only_normalizer:
        bench_render(args.hits)
        bench_outage_day()


if __name__ == "__main__":
    main()
