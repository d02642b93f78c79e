"""Benchmark: assemble a 60-minute programme with the production code and the plain pydub way.

Where it sits: a measurement script, not a test. It builds one hour of air: 12 bulletins of
speech-like audio (noise shaped into syllable bursts, 24 kHz mono like gTTS), each between the
intro/outro jingles and read twice with the spoken bridge, with the station's pauses.
- production: `ProgrammeBuilder.render` (ffmpeg decode + horn voicing, numpy levelling,
  compression and true-peak limiting, streamed block by block), then verified with ffmpeg.
- pydub: the same layout the way pydub is usually used: `from_wav`, `set_frame_rate`,
  `apply_gain` to level each element, `fade_in/out`, `+` to join, `overlay` for the alert tone,
  `normalize`, `export`. (It does less: no voicing, no loudness meter, no true-peak limiter.)
Each runs in its own child process, so peak RSS is the child's own (plus, for production, the
largest ffmpeg it ran). Figures are printed side by side.

Usage: .venv/bin/python scripts/bench_programme.py [--minutes 60] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEECH_RATE = 24_000
BULLETINS = 12
BRIDGE = "Xin nhắc lại"


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def speech_like(seconds: float, seed: int, level_db: float) -> np.ndarray:
    """Noise shaped into syllable bursts (~4 a second) with pauses between phrases."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SPEECH_RATE)
    noise = np.convolve(rng.standard_normal(n), np.hanning(12) / 6, mode="same").astype(np.float32)
    t = np.arange(n, dtype=np.float32) / SPEECH_RATE
    syllable = np.clip(np.sin(2 * np.pi * 4.1 * t), 0, None) ** 1.5
    phrase = (np.sin(2 * np.pi * 0.25 * t + seed) > -0.8).astype(np.float32)
    signal = noise * syllable * phrase
    return signal / np.sqrt(np.mean(signal ** 2)) * 10 ** (level_db / 20)


def prepare_inputs(folder: Path, minutes: float) -> dict:
    """Speech files for the hour, sized so the whole programme lasts `minutes`."""
    # Per bulletin: two readings + jingles (~6.4 s) + bridge (0.8 s) + pauses (3.8 s); 1.5 s between.
    reading = (minutes * 60 - (BULLETINS - 1) * 1.5) / BULLETINS / 2 - 5.5
    texts = {}
    for index in range(BULLETINS):
        path = folder / f"bulletin-{index:02d}.wav"
        write_wav(path, speech_like(reading, index, level_db=-20 - index % 4 * 3), SPEECH_RATE)
        texts[f"Bản tin số {index}"] = str(path)
    bridge = folder / "bridge.wav"
    write_wav(bridge, speech_like(0.8, 99, level_db=-22), SPEECH_RATE)
    texts[BRIDGE] = str(bridge)
    return texts


def run_production(texts: dict, out: Path) -> dict:
    from broadcaster.programme import ProgrammeBuilder
    from broadcaster.schedule.model import Bulletin, Priority, Schedule, Station
    from broadcaster.speech.base import Speaker, Speech

    class FileSpeaker(Speaker):
        def speak(self, text: str) -> Speech:
            return Speech(path=Path(texts[text]), engine="bench")

    jingles = {name: ROOT / "audio" / "jingles" / f"{name}.wav" for name in ("intro", "outro", "alert")}
    station = Station(name="bench", timezone=ZoneInfo("Asia/Ho_Chi_Minh"), state_dir=out.parent,
                      jingles=jingles)
    bulletins = [Bulletin(id=f"b{i}", title=text, text=text, repeat=2,
                          priority=Priority.EMERGENCY if i == 0 else Priority.NORMAL)
                 for i, text in enumerate(t for t in texts if t != BRIDGE)]
    schedule = Schedule(path=out.parent / "schedule.yaml", station=station,
                        bulletins={b.id: b for b in bulletins}, slots=())
    started = time.perf_counter()
    programme = ProgrammeBuilder(schedule, FileSpeaker()).render(bulletins, out)
    return {"seconds": time.perf_counter() - started, "duration": programme.duration,
            "loudness": programme.loudness, "true_peak": programme.true_peak}


def run_pydub(texts: dict, out: Path) -> dict:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from pydub import AudioSegment
    from pydub.generators import Sine

    started = time.perf_counter()
    target = -16.0

    def level(segment: AudioSegment) -> AudioSegment:
        segment = segment.set_frame_rate(48_000).set_channels(1)
        return segment.apply_gain(target - segment.dBFS).fade_in(10).fade_out(10)

    jingle = {name: level(AudioSegment.from_wav(ROOT / "audio" / "jingles" / f"{name}.wav"))
              for name in ("intro", "outro", "alert")}
    bridge = level(AudioSegment.from_wav(texts[BRIDGE]))

    def silence(seconds: float) -> AudioSegment:
        return AudioSegment.silent(duration=int(seconds * 1000), frame_rate=48_000)

    programme = AudioSegment.silent(duration=0, frame_rate=48_000)
    for index, text in enumerate(t for t in texts if t != BRIDGE):
        if index:
            programme += silence(1.5)
        if index == 0:
            tone = Sine(853, sample_rate=48_000).to_audio_segment(2000, volume=-12)
            tone = tone.overlay(Sine(960, sample_rate=48_000).to_audio_segment(2000, volume=-12))
            programme += jingle["alert"] + silence(0.6) + level(tone) + silence(0.6)
        else:
            programme += jingle["intro"] + silence(0.6)
        reading = level(AudioSegment.from_wav(texts[text]))
        programme += reading + silence(1.2) + bridge + silence(1.2) + reading
        programme += silence(0.8) + jingle["outro"]
    programme = programme.normalize(headroom=1.0)
    programme.export(out, format="wav")
    return {"seconds": time.perf_counter() - started, "duration": len(programme) / 1000}


def child(kind: str, inputs: Path, out: Path) -> None:
    texts = json.loads(inputs.read_text())
    result = (run_production if kind == "production" else run_pydub)(texts, out)
    # VmHWM is this process's own peak since exec (ru_maxrss would include the parent's
    # memory at fork time); ffmpeg children are forked from a small process, so theirs is fair.
    status = Path("/proc/self/status").read_text()
    result["rss_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
    result["children_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def spawn(kind: str, inputs: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(inputs), str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{kind} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "INPUTS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0

    from broadcaster.programme import measure
    from broadcaster.programme.builder import WORKERS

    with tempfile.TemporaryDirectory(prefix="bench-programme-") as work:
        folder = Path(work)
        inputs = folder / "inputs.json"
        inputs.write_text(json.dumps(prepare_inputs(folder, args.minutes)))
        results: dict[str, list[dict]] = {"production": [], "pydub": []}
        for _ in range(args.runs):
            for kind in results:
                out = folder / f"{kind}.wav"
                results[kind].append(spawn(kind, inputs, out))
        metered = measure(folder / "production.wav")
        pydub_metered = measure(folder / "pydub.wav")

    print(f"60-minute programme benchmark ({args.minutes:g} min asked, {args.runs} run(s), median)")
    rows = []
    for kind, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        ffmpeg_rss = max(r["children_rss_mb"] for r in runs)
        # Production runs WORKERS ffmpeg decoders at once: count each one's peak in full,
        # although most of an ffmpeg's RSS is shared libraries.
        total = rss + (WORKERS if kind == "production" else 1) * ffmpeg_rss
        rows.append((kind, seconds, total))
        print(f"  {kind:<10} {seconds:7.2f} s wall   peak RSS {rss:6.1f} MB python"
              f" + {ffmpeg_rss:5.1f} MB per ffmpeg = {total:6.1f} MB"
              f"   ({runs[0]['duration'] / 60:.1f} min of audio)")
    ratio = rows[0][1] / rows[1][1]
    print(f"  production / pydub time: {ratio:.2f}x (target <= 0.5x);"
          f" production peak RSS {rows[0][2]:.0f} MB (target <= 200 MB)")
    print(f"  production by ffmpeg ebur128: {metered.integrated:.1f} LUFS, {metered.true_peak:.1f} dBTP"
          f" (builder said {results['production'][0]['loudness']:.1f} LUFS,"
          f" {results['production'][0]['true_peak']:.1f} dBTP)")
    print(f"  pydub by ffmpeg ebur128:      {pydub_metered.integrated:.1f} LUFS,"
          f" {pydub_metered.true_peak:.1f} dBTP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
