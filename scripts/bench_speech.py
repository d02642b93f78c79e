"""Speech-stage figures, each next to a baseline measured in the same run.

1. Normalizer throughput on the seed plan (chars/s, ms per pass) against a plain
   `str.lower()` + whitespace-regex pass over the same text.
2. Cold render of one bulletin with eSpeak NG through CachedSpeaker (empty cache in a temp dir:
   split, synthesize every piece, decode, join), against one raw `espeak-ng` call on the whole
   normalized text (no splitting, no cache).
3. Cache-hit render time (median of N `speak` calls) against a bare `os.stat` of the result,
   and a hit on a new speaker (which must normalize and split the text once).

Run: .venv/bin/python scripts/bench_speech.py [--passes 20] [--hits 200]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.speaker import CachedSpeaker
from broadcaster.text import Normalizer

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seed" / "000_3c48e4e992f1d6b8.txt"
BULLETIN = ROOT / "bulletins" / "cchc-2023" / "02-muc-dich-yeu-cau.txt"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--hits", type=int, default=200)
    args = parser.parse_args()
    bench_normalizer(args.passes)
    bench_render(args.hits)


if __name__ == "__main__":
    main()
