"""SoundDeviceOutput for real: PortAudio -> ALSA pulse plugin -> private PulseAudio -> FIFO read back."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from broadcaster import i18n
from broadcaster.output import SoundDeviceOutput, list_devices, open_output, play_test_tone, tone
from tests.output.conftest import RATE
from tests.pulseaudio import PulseServer

log = logging.getLogger(__name__)

ON_TIME_BOUND = 0.25    # generous: the machine is shared and noisy; the figures are logged


def soon(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def aligned(pulse: PulseServer, reference: np.ndarray) -> tuple[np.ndarray, float]:
    """The captured samples from the programme's first sample on, and that sample's arrival time."""
    first = pulse.first_sound()
    assert first is not None, "nothing audible reached the sink"
    index, arrived = first
    return pulse.captured()[index:], arrived


@pytest.mark.serial
def test_programme_arrives_sample_exact_and_on_time(pulse_clean, make_wav):
    path, samples = make_wav(1.5)
    start_at = soon(0.8)
    report = SoundDeviceOutput(None).play(path, label="20230116-060000-Ban-tin-sang", start_at=start_at)
    assert pulse_clean.wait_for_samples(int(3 * RATE))
    captured, arrived = aligned(pulse_clean, samples)
    arrival_error = arrived - start_at.timestamp()
    log.info("start_error reported %.2f ms, first sample arrived %.2f ms after start_at",
             report.start_error * 1000, arrival_error * 1000)
    assert report.completed and not report.interrupted and report.error is None
    np.testing.assert_array_equal(captured[:len(samples)], samples.astype(np.float32) / 32768)
    assert abs(arrival_error) < ON_TIME_BOUND
    assert abs(report.start_error) < ON_TIME_BOUND
    assert report.started.tzinfo is not None
    assert (report.ended - report.started).total_seconds() == pytest.approx(1.5, abs=1e-3)


def test_start_at_none_plays_at_once(pulse_clean, make_wav):
    path, samples = make_wav(0.4, seed=2)
    before = time.time()
    report = SoundDeviceOutput(None).play(path, label="now")
    assert report.completed and report.start_error is None
    assert report.started.timestamp() >= before
    assert pulse_clean.wait_for_samples(int(1 * RATE))
    captured, _ = aligned(pulse_clean, samples)
    np.testing.assert_array_equal(captured[:len(samples)], samples.astype(np.float32) / 32768)


def test_device_by_name_and_index(pulse_clean, make_wav):
    path, samples = make_wav(0.3, seed=3)
    index = next(d.index for d in list_devices() if d.name == "pulse")
    for spec in ("pulse", str(index)):
        pulse_clean.clear()
        report = open_output(spec).play(path, label=spec)
        assert report.completed and report.error is None, spec
        assert pulse_clean.wait_for_samples(int(0.8 * RATE))
        captured, _ = aligned(pulse_clean, samples)
        np.testing.assert_array_equal(captured[:len(samples)], samples.astype(np.float32) / 32768)


def window_gains(captured: np.ndarray, reference: np.ndarray, size: int) -> np.ndarray:
    """Per-window RMS of captured over RMS of reference."""
    count = min(len(captured), len(reference)) // size
    c = captured[:count * size].reshape(count, size)
    r = reference[:count * size].reshape(count, size)
    return np.sqrt((c ** 2).mean(axis=1)) / np.sqrt((r ** 2).mean(axis=1))


@pytest.mark.serial
def test_stop_fades_out_and_reports_interrupted(pulse_clean, make_wav):
    path, samples = make_wav(5.0, seed=4)
    output = SoundDeviceOutput(None)
    stopped = {}

    def stop_later():
        time.sleep(1.0)
        stopped["at"] = time.time()
        output.stop(0.5)

    stopper = threading.Thread(target=stop_later)
    stopper.start()
    report = output.play(path, label="cut", start_at=soon(0.3))
    returned = time.time()
    stopper.join()
    assert report.interrupted and not report.completed and report.error is None
    assert report.ended < report.started + timedelta(seconds=2)
    assert returned - stopped["at"] < 2.0
    pulse_clean.wait_for_samples(int(3 * RATE))
    reference = samples.astype(np.float32) / 32768
    captured, _ = aligned(pulse_clean, reference)
    audible = np.flatnonzero(np.abs(captured) > 1e-4)
    last = int(audible[-1])
    differ = int(np.flatnonzero(captured[:len(reference)] != reference[:len(captured)])[0])
    stop_frame = int((stopped["at"] - report.started.timestamp()) * RATE)
    # Intact up to the stop, silent within the fade time after it.
    assert differ >= stop_frame - int(0.05 * RATE)
    assert last - stop_frame <= int(0.5 * RATE)
    assert not np.any(np.abs(captured[last + 1:last + RATE]) > 1e-4)
    gains = window_gains(captured[differ:last], reference[differ:last], int(0.01 * RATE))
    assert gains[0] > 0.8 and gains[-1] < 0.2
    assert np.all(np.diff(gains) < 0.05), gains


def test_stop_before_start_plays_nothing(pulse_clean, make_wav):
    path, _ = make_wav(1.0, seed=5)
    output = SoundDeviceOutput(None)
    threading.Timer(0.2, output.stop).start()
    report = output.play(path, label="never", start_at=soon(1.5))
    assert report.interrupted and report.started is None and report.start_error is None
    assert pulse_clean.first_sound() is None


def test_stop_when_idle_is_a_no_op(pulse_clean):
    SoundDeviceOutput(None).stop(0.5)


@pytest.mark.parametrize("language, words", [("vi", "Không tìm thấy thiết bị âm thanh"),
                                             ("en", "Sound device 'no-such-device' not found")],
                         ids=["vi", "en"])
def test_missing_device_is_reported_not_raised(pulse_clean, make_wav, language, words):
    path, _ = make_wav(0.2)
    i18n.set_language(language)
    try:
        report = open_output("no-such-device").play(path, label="x", start_at=soon(0.1))
    finally:
        i18n.set_language(None)
    assert report.error is not None and words in report.error and "no-such-device" in report.error
    assert report.started is None and not report.completed and not report.interrupted


def test_stopped_audio_server_is_reported_not_raised(spare_pulse, make_wav):
    path, samples = make_wav(0.3)
    assert SoundDeviceOutput(None).play(path, label="before").completed
    spare_pulse.stop()
    i18n.set_language("en")
    try:
        report = SoundDeviceOutput(None).play(path, label="after", start_at=soon(0.1))
    finally:
        i18n.set_language(None)
    assert report.error is not None and report.error.startswith("Sound device 'default' not found")
    assert report.started is None and not report.completed


def test_audio_server_dying_mid_programme_is_reported(spare_pulse, make_wav):
    path, _ = make_wav(3.0)
    threading.Timer(0.8, spare_pulse.stop).start()
    report = SoundDeviceOutput(None).play(path, label="dies", start_at=soon(0.2))
    log.info("server died mid-programme: %s", report)
    assert report.error is not None and not report.completed


def test_list_devices_marks_the_default(pulse_clean):
    devices = list_devices()
    names = {d.name for d in devices}
    assert {"pulse", "default"} <= names
    assert [d.name for d in devices if d.is_default] == ["default"]
    assert all(d.channels > 0 for d in devices)


def test_test_tone_reaches_the_sink(pulse_clean):
    report = play_test_tone(open_output("default"), seconds=0.5, frequency=1000.0)
    assert report.completed
    pulse_clean.wait_for_samples(int(1.0 * RATE))
    captured = pulse_clean.captured()
    reference = tone(0.5, 1000.0).astype(np.float32) / 32768
    heard, expected = np.flatnonzero(captured), np.flatnonzero(reference)
    played = captured[heard[0]:heard[-1] + 1]
    np.testing.assert_array_equal(played, reference[expected[0]:expected[-1] + 1])
    crossings = np.count_nonzero(np.diff(np.signbit(played)))
    assert crossings == pytest.approx(1000, abs=4)      # 1000 Hz for 0.5 s: 1000 sign changes
    assert np.max(np.abs(played)) == pytest.approx(10 ** (-12 / 20), abs=0.01)
