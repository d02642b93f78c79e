"""`broadcaster devices` and `broadcaster test-tone` through the real CLI entry point."""

from __future__ import annotations

import numpy as np

from broadcaster.cli import main
from broadcaster.output import tone
from broadcaster.wav import read as read_wav
from tests.output.conftest import RATE


def test_devices_lists_the_pulse_devices(pulse_clean, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--lang", "en", "devices"]) == 0
    out = capsys.readouterr().out
    assert "Sound devices (output)" in out
    lines = [line for line in out.splitlines() if " default " in line or " pulse " in line]
    assert len(lines) == 2 and "*" in next(line for line in lines if " default " in line)


def test_test_tone_on_the_sound_card(pulse_clean, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)        # no schedule.yaml here: the default device
    assert main(["test-tone", "--seconds", "0.3", "--frequency", "500"]) == 0
    assert "Đã phát xong âm thử" in capsys.readouterr().out
    assert pulse_clean.wait_for_samples(int(0.8 * RATE))
    captured = pulse_clean.captured()
    heard = np.flatnonzero(captured)
    reference = tone(0.3, 500.0).astype(np.float32) / 32768
    expected = np.flatnonzero(reference)
    np.testing.assert_array_equal(captured[heard[0]:heard[-1] + 1], reference[expected[0]:expected[-1] + 1])


def test_test_tone_uses_the_schedules_file_output(tmp_path, capsys):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("station:\n  name: X\n  output: file:aired\nbulletins:\n  a:\n    text: T.\n"
                        "slots:\n  - name: S\n    at: '06:00'\n    play: [a]\n", encoding="utf-8")
    assert main(["test-tone", "--schedule", str(schedule), "--seconds", "0.2"]) == 0
    written, rate = read_wav(tmp_path / "aired" / "test-tone.wav")
    np.testing.assert_array_equal(written[:, 0], tone(0.2, 1000.0))


def test_test_tone_on_a_missing_device_fails_cleanly(pulse_clean, capsys):
    assert main(["--lang", "en", "test-tone", "--output", "no-such-device", "--seconds", "0.2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("broadcaster: Sound device 'no-such-device' not found") and "Traceback" not in err
