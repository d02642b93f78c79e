"""The station's real schedule: its next session renders offline (eSpeak NG) into a listenable programme."""

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster.occurrences import occurrences
from broadcaster.programme import ProgrammeBuilder, measure
from broadcaster.schedule import load_schedule
from broadcaster.speech import speaker_for

ROOT = Path(__file__).resolve().parents[1]


def test_next_session_of_the_root_schedule_renders_offline(tmp_path):
    schedule = load_schedule(ROOT / "schedule.yaml")
    station = dataclasses.replace(schedule.station, state_dir=tmp_path / "var")
    schedule = dataclasses.replace(schedule, station=station)
    now = datetime(2023, 1, 18, 5, 0, tzinfo=station.timezone)
    upcoming = occurrences(schedule, now, now + timedelta(days=1))[0]
    assert (upcoming.slot.name, upcoming.start.isoformat()) == ("Bản tin sáng", "2023-01-18T06:00:00+07:00")

    speaker = speaker_for(schedule, engines=["espeak-ng"])     # no network: the offline voice
    programme = ProgrammeBuilder(schedule, speaker).render_slot(upcoming.slot, tmp_path / "sang.wav")

    assert programme.engines == ("espeak-ng",)
    assert programme.duration > 120          # three sections of the plan, read in full
    meter = measure(programme.path)          # ffmpeg's ebur128, not our own meter
    assert abs(meter.integrated - station.loudness) <= 1.0
    assert meter.true_peak <= -1.0
