"""The daemon through the real sound-device path: sounddevice -> PortAudio -> a private PulseAudio
whose pipe sink the test reads back (tests/pulseaudio.py)."""

from __future__ import annotations

import numpy as np
import pytest

from broadcaster.asrun.log import Status
from tests.onair.conftest import clock_in, wait_for

pytestmark = pytest.mark.e2e


def dominant(samples: np.ndarray, rate: int = 48_000) -> int:
    piece = samples[: rate // 5]
    spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
    return int(round(np.argmax(spectrum) * rate / len(piece)))


@pytest.mark.serial
def test_slot_airs_on_the_sound_card_on_time(folder, run_station, pulse_clean):
    folder.write({"chao": {"text": "1s 440Hz"}}, [{"name": "Sang", "at": clock_in(4), "play": ["chao"]}],
                 output="default")
    station = run_station(folder.load())
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status not in (Status.PLAYING,)], timeout=20)[0]
    assert row.status is Status.PLAYED, row
    assert pulse_clean.wait_for_samples(48_000)
    index, heard = pulse_clean.first_sound()
    loud = pulse_clean.captured()[index:]
    assert dominant(loud) == 440
    assert np.count_nonzero(np.abs(loud) > 1e-3) > 0.9 * 48_000
    # heard within the on-time window of its scheduled second (the benchmark measures it closely)
    assert abs(heard - row.scheduled.timestamp()) < 1.0
    # the as-run log keeps the start the device measured, in station time
    assert abs(row.started.timestamp() - heard) < 0.25
    assert row.started.utcoffset() == row.scheduled.utcoffset()


def test_sound_card_gone_is_retried_logged_failed_and_the_next_slot_airs(folder, pulse, spare_pulse, run_station):
    folder.write({"a": {"text": "1s 440Hz"}, "b": {"text": "1s 660Hz"}},
                 [{"name": "Mot", "at": clock_in(4), "play": ["a"]}, {"name": "Hai", "at": clock_in(12), "play": ["b"]}],
                 output="default")
    station = run_station(folder.load(), device_tries=3, device_retry_delay=0.5)
    spare_pulse.stop()                             # the sound card disappears before the first slot
    [failed] = wait_for(lambda: (r := [x for x in station.asrun.history() if x.status is Status.FAILED])
                        and r[0].attempts == 3 and r, timeout=20)
    assert failed.slot == "Mot" and "default" in failed.error and failed.note.count("default") == 2
    pulse.clear()
    pulse.activate()                               # a working sound device is back before the second slot
    row = wait_for(lambda: [r for r in station.asrun.history() if r.slot == "Hai" and r.status is not Status.PLAYING],
                   timeout=20)[0]
    assert row.status is Status.PLAYED, row
    assert pulse.wait_for_samples(48_000)
    index, _ = pulse.first_sound()
    assert dominant(pulse.captured()[index:]) == 660
