"""FileOutput: exact samples to DIR/<label>.wav, real-time pacing, cut and fade on stop()."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
import numpy as np
import pytest

from broadcaster.errors import OutputError
from broadcaster.output import FileOutput, open_output, play_test_tone, tone
from broadcaster.output.base import safe_label
from broadcaster.wav import read as read_wav
from tests.output.conftest import RATE


@pytest.mark.parametrize("label, name", [
    ("20230116-060000-Ban-tin-sang", "20230116-060000-Ban-tin-sang"),
    ("20230116-060000-Bản tin sáng", "20230116-060000-Ban-tin-sang"),
    ("20230116-173000-Thông báo Đảng ủy", "20230116-173000-Thong-bao-Dang-uy"),
    ("../../etc/passwd", "etc-passwd"),
    ("a/b\\c:d*e?f", "a-b-c-d-e-f"),
    ("...", "programme"),
], ids=["ascii", "vietnamese", "d-stroke", "traversal", "separators", "empty"])
def test_safe_label(label, name):
    assert safe_label(label) == name


def test_writes_exact_samples(tmp_path, make_wav):
    path, samples = make_wav(2.0)
    output = open_output("file:aired", base=tmp_path)
    assert isinstance(output, FileOutput) and output.folder == tmp_path / "aired"
    output.realtime = False
    report = output.play(path, label="20230116-060000-Bản tin sáng")
    written, rate = read_wav(tmp_path / "aired" / "20230116-060000-Ban-tin-sang.wav")
    assert rate == RATE
    np.testing.assert_array_equal(written[:, 0], samples)
    assert report.completed and not report.interrupted and report.error is None
    assert report.start_error is None


def test_same_label_twice_keeps_both(tmp_path, make_wav):
    path, samples = make_wav(0.1)
    output = FileOutput(tmp_path, realtime=False)
    output.play(path, label="x")
    output.play(path, label="x")
    assert sorted(p.name for p in tmp_path.glob("x*.wav")) == ["x-2.wav", "x.wav"]


@pytest.mark.serial
def test_realtime_waits_for_start_and_paces(tmp_path, make_wav):
    path, samples = make_wav(0.5)
    start_at = datetime.now(timezone.utc) + timedelta(seconds=0.3)
    report = FileOutput(tmp_path).play(path, label="paced", start_at=start_at)
    assert 0 <= report.start_error < 0.25
    assert report.ended - report.started == timedelta(seconds=0.5)
    assert time.time() >= report.ended.timestamp()
    np.testing.assert_array_equal(read_wav(tmp_path / "paced.wav")[0][:, 0], samples)


@pytest.mark.serial
def test_stop_cuts_and_fades(tmp_path, make_wav):
    path, samples = make_wav(3.0)
    output = FileOutput(tmp_path)
    threading.Timer(0.5, output.stop, kwargs={"fade": 0.25}).start()
    report = output.play(path, label="cut")
    assert report.interrupted and not report.completed
    written = read_wav(tmp_path / "cut.wav")[0][:, 0]
    aired = len(written)
    fade = int(0.25 * RATE)
    assert 0.5 * RATE <= aired - fade < 1.5 * RATE
    # both ends are float epoch seconds rounded to whole microseconds on the way to datetime
    assert abs(report.ended - report.started - timedelta(seconds=aired / RATE)) <= timedelta(microseconds=1)
    np.testing.assert_array_equal(written[:aired - fade], samples[:aired - fade])
    tail = written[aired - fade:].astype(float) / np.where(samples[aired - fade:aired] == 0, 1,
                                                           samples[aired - fade:aired])
    assert abs(written[-1]) <= 1 and tail[0] > 0.99 and np.all(np.abs(written[-50:]) < 60)


def test_stop_before_start_writes_nothing(tmp_path, make_wav):
    path, _ = make_wav(0.5)
    output = FileOutput(tmp_path / "aired")
    threading.Timer(0.1, output.stop).start()
    report = output.play(path, label="never", start_at=datetime.now(timezone.utc) + timedelta(seconds=5))
    assert report.interrupted and report.started is None
    assert not list((tmp_path / "aired").glob("*.wav"))


def test_unwritable_folder_is_reported(tmp_path, make_wav):
    path, _ = make_wav(0.1)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    report = FileOutput(blocker / "aired", realtime=False).play(path, label="x")
    assert report.error is not None and str(blocker) in report.error and not report.completed


def test_bad_programme_file_raises_output_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....not a wav")
    with pytest.raises(OutputError, match="bad.wav"):
        FileOutput(tmp_path, realtime=False).play(bad, label="x")


@pytest.mark.parametrize("spec", ["", "file:", "file:."])
def test_bad_specs(spec):
    with pytest.raises(OutputError):
        open_output(spec)


def test_test_tone_to_file(tmp_path):
    output = FileOutput(tmp_path, realtime=False)
    report = play_test_tone(output, seconds=0.25, frequency=440.0)
    assert report.completed
    np.testing.assert_array_equal(read_wav(tmp_path / "test-tone.wav")[0][:, 0], tone(0.25, 440.0))
