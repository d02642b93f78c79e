"""Sources read programmes from disk a block at a time: exact samples, padding, bad files, prefetch."""

from __future__ import annotations

import time

import numpy as np
import pytest

from broadcaster.errors import OutputError
from broadcaster.wav import write as write_wav
from broadcaster.output.source import Prefetch, Silence, WavReader, WavSource
from tests.output.conftest import RATE


def drain(source, block: int) -> np.ndarray:
    parts = []
    while len(part := source.read(block)):
        parts.append(part)
    return np.concatenate(parts)


@pytest.mark.parametrize("block", [1000, 4800, 123_456], ids=["small", "tenth", "larger-than-file"])
def test_wav_source_streams_exact_samples_then_the_padding(make_wav, block):
    path, samples = make_wav(1.0)
    source = WavSource(path, pad_seconds=0.25)
    out = drain(source, block)
    source.close()
    assert out.dtype == np.float32 and len(out) == len(samples) + RATE // 4
    np.testing.assert_array_equal(np.round(out[:len(samples)] * 32768).astype(np.int16), samples)
    assert not out[len(samples):].any() and source.program_frames == len(samples)


def test_stereo_is_mixed_to_mono_and_a_truncated_file_ends_where_its_data_does(tmp_path):
    left, right = np.full(1000, 1000, np.int16), np.full(1000, 3000, np.int16)
    path = tmp_path / "stereo.wav"
    write_wav(path, np.stack([left, right], axis=1), RATE)
    data = path.read_bytes()
    path.write_bytes(data[:-400])                   # 100 frames short of what the header says
    source = WavSource(path)
    out = drain(source, 256)
    assert len(out) == 900 == source.program_frames
    np.testing.assert_allclose(out, 2000 / 32768)


@pytest.mark.parametrize("content, detail", [(b"RIFF....not a wav", "bad.wav"), (None, "8-bit")])
def test_unreadable_programmes_are_output_errors(tmp_path, content, detail):
    path = tmp_path / "bad.wav"
    if content is None:
        import wave

        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1), wav.setsampwidth(1), wav.setframerate(RATE)
            wav.writeframes(bytes(100))
    else:
        path.write_bytes(content)
    with pytest.raises(OutputError, match=detail):
        WavReader(path)


def test_prefetch_hands_over_every_frame_in_order_through_a_small_ring(make_wav):
    path, samples = make_wav(2.0)
    feed = Prefetch(WavSource(path), seconds=0.05)  # a ring far smaller than the programme
    feed.start(wait_for=0.05)
    got, out = [], np.zeros(777, dtype=np.float32)
    while True:
        complete = feed.complete           # asked before reading, as the sound card's callback does
        n = feed.read_into(out)
        got.append(out[:n].copy())
        if not n:
            if complete:
                break
            time.sleep(0.001)
    feed.close()
    heard = np.concatenate(got)
    np.testing.assert_array_equal(np.round(heard * 32768).astype(np.int16), samples)


def test_silence_never_ends():
    assert not Silence(RATE).read(480).any() and len(Silence(RATE).read(480)) == 480


@pytest.mark.parametrize("silent_tail, padded", [(0.0, 0.25), (0.1, 0.15), (0.25, 0.0), (0.4, 0.0)],
                         ids=["none", "some", "all", "more"])
def test_only_the_trailing_silence_a_file_lacks_is_added(tmp_path, silent_tail, padded):
    """A programme from the programme stage already ends in TRAILING_SILENCE: not padded twice."""
    from broadcaster.constants import TRAILING_SILENCE

    sound = np.full(RATE // 2, 1000, np.int16)
    path = tmp_path / "tail.wav"
    write_wav(path, np.concatenate([sound, np.zeros(int(silent_tail * RATE), np.int16)]), RATE)
    source = WavSource(path, pad_seconds=TRAILING_SILENCE)
    out = drain(source, 4800)
    assert source.pad_frames == int(padded * RATE) and len(out) == len(sound) + int(max(silent_tail, 0.25) * RATE)
    np.testing.assert_array_equal(np.round(out[:len(sound)] * 32768).astype(np.int16), sound)
