"""Sources with no file behind them: a program's stdout (real eSpeak NG and ffmpeg), chained and resampled."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from broadcaster.errors import OutputError
from broadcaster.output.pipe import PipeSource
from broadcaster.output.source import Chain, Resampler
from broadcaster.speech.espeak import EspeakEngine


def drain(source, block: int = 4800) -> np.ndarray:
    parts = []
    while len(data := source.read(block)):
        assert len(data) <= block and data.dtype == np.float32
        parts.append(data)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def hertz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def sine(rate: int, hz: float, seconds: float) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(rate * seconds)) / rate)).astype(np.float32)


def test_the_resampler_streams_without_a_seam_between_blocks():
    tone = sine(22_050, 440, 1.0)
    resampler = Resampler(22_050, 48_000)
    sizes = [1, 7, 1000, 4410, 333] * 20
    out, start = [], 0
    for size in sizes:
        out.append(resampler(tone[start:start + size]))
        start += size
    out.append(resampler(tone[start:]))
    streamed = np.concatenate(out)
    assert 0 <= 48_000 - len(streamed) <= 3           # nothing extrapolated past the last input sample
    expected = np.interp(np.arange(len(streamed)) * 22_050 / 48_000, np.arange(len(tone)), tone)
    assert np.abs(streamed - expected).max() < 1e-5


def test_espeak_speaks_to_its_stdout_and_the_header_gives_the_rate():
    engine = EspeakEngine()
    source = PipeSource(engine.command(None), wav=True, stdin="Xin chào bà con.".encode())
    try:
        assert source.rate == 22_050
        speech = drain(source)
    finally:
        source.close()
    assert len(speech) > 0.5 * 22_050 and float(np.sqrt(np.mean(speech ** 2))) > 0.02


def test_ffmpeg_decodes_straight_into_float32_at_the_air_rate(tmp_path):
    command = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=660:duration=0.5",
               "-ac", "1", "-ar", "48000", "-f", "f32le", "pipe:1"]
    source = PipeSource(command, rate=48_000)
    samples = drain(source)
    source.close()
    assert len(samples) == 24_000 and round(hertz(samples, 48_000)) == 660


@pytest.mark.parametrize("command, message", [
    (["/nonexistent/espeak-ng"], "Could not run espeak-ng"),
    (["echo", "not a wav stream at all"], "did not write 16-bit WAV sound"),
], ids=["missing program", "not a WAV"])
def test_a_program_that_cannot_give_sound_is_an_output_error(command, message):
    from broadcaster import i18n

    i18n.set_language("en")
    try:
        with pytest.raises(OutputError, match=message):
            PipeSource(command, wav=True)
    finally:
        i18n.set_language(None)


def test_a_program_writing_much_to_stderr_still_gives_its_sound():
    import sys

    # 1 MB of complaints, far more than a pipe holds, before the sound: like ffmpeg on a damaged MP3.
    script = "import sys; sys.stderr.write('bad frame\\n' * 100000); sys.stderr.flush(); sys.stdout.buffer.write(b'\\0' * 19200)"
    source = PipeSource([sys.executable, "-c", script], rate=48_000)
    try:
        assert len(drain(source)) == 4800
    finally:
        source.close()


def test_close_stops_a_program_still_speaking():
    source = PipeSource(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440",
                         "-ac", "1", "-f", "f32le", "pipe:1"], rate=48_000)      # endless
    assert len(source.read(4800)) == 4800
    process = source._process
    source.close()
    assert process.poll() is not None


def test_a_chain_opens_parts_when_reached_resamples_pauses_skips_the_broken_and_pads():
    opened = []

    def tone(rate: int, hz: float):
        def open_it():
            opened.append(hz)
            return PipeSource(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                               f"sine=frequency={hz}:duration=0.5", "-ac", "1", "-ar", str(rate),
                               "-f", "f32le", "pipe:1"], rate=rate)
        return open_it

    def broken():
        return PipeSource(["/nonexistent/ffmpeg"], rate=48_000)

    chain = Chain([tone(24_000, 440), 0.25, broken, tone(48_000, 880)], rate=48_000, pad_seconds=0.25)
    first = chain.read(4800)
    assert opened == [440] and len(first) == 4800          # the second program has not started yet
    rest = drain(chain, 1000)
    chain.close()
    samples = np.concatenate([first, rest])
    assert abs(len(samples) - int(1.5 * 48_000)) <= 2      # 0.5 + 0.25 + 0.5 + 0.25 s of padding
    assert round(hertz(samples[:24_000], 48_000)) == 440
    assert not samples[24_100:35_900].any()                 # the pause
    assert round(hertz(samples[36_000:60_000], 48_000)) == 880
    assert not samples[-11_900:].any() and chain.pad_frames == 12_000
    assert len(chain.failures) == 1 and "ffmpeg" in chain.failures[0]


@pytest.mark.serial
def test_espeak_through_a_chain_reaches_the_sound_card_sample_exact_and_on_time(pulse_clean):
    from broadcaster.output import SoundDeviceOutput

    engine = EspeakEngine()
    parts = [lambda: PipeSource(engine.command(None), wav=True, stdin="Xin chào bà con.".encode())]
    expected = drain(Chain(parts, rate=48_000))                 # eSpeak NG is deterministic
    lead_in = int(np.flatnonzero(np.abs(expected) > 1e-4)[0])
    start_at = datetime.now(timezone.utc) + timedelta(seconds=0.8)
    report = SoundDeviceOutput(None).play(Chain(parts, rate=48_000, pad_seconds=0.25), label="loa", start_at=start_at)
    assert report.completed and report.error is None and abs(report.start_error) < 0.25
    assert pulse_clean.wait_for_samples(int((0.8 + len(expected) / 48_000 + 0.3) * 48_000))   # since the clear
    index, arrived = pulse_clean.first_sound()
    np.testing.assert_array_equal(pulse_clean.captured()[index:index + len(expected) - lead_in], expected[lead_in:])
    assert abs(arrived - lead_in / 48_000 - start_at.timestamp()) < 0.25     # generous: a shared, noisy machine
