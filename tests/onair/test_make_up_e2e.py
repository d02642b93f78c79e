"""End to end: a slot missed while the station was off is made up by the real daemon, and reported.

Real APScheduler, worker processes, WAV-file output paced in real time and the SQLite as-run log;
only the speech is a tone, and make-up spacing is shrunk from minutes to seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from broadcaster.asrun.log import Status
from broadcaster.makeup import Spacing
from broadcaster.report import build
from broadcaster.schedule import load_schedule
from tests.onair.conftest import TZ, clock_in, wait_for

pytestmark = pytest.mark.e2e
SECONDS = Spacing(margin=timedelta(seconds=1), lead=timedelta(seconds=2), grid=timedelta(seconds=1))


def test_a_missed_slot_is_made_up(folder, run_station):
    aired_at, missed_at = clock_in(3), clock_in(6)
    today = datetime.now(TZ).date().isoformat()     # one day only: the rest of the week cannot fill the gap
    document = {
        "station": {"name": "Đài thử", "state_dir": str(folder.state), "catch_up": 0,
                    "output": f"file:{folder.aired}", "air_hours": ["00:00-23:59"]},
        "bulletins": {"mo-dau": {"text": "1s 440Hz"}},
        "campaigns": {"cchc": {"title": "Cải cách hành chính", "bulletins": ["mo-dau"],
                               "target": {"broadcasts": 2, "per": "week"}, "make_up": True}},
        "slots": [{"name": "Sáng", "at": aired_at, "dates": [today], "play": ["mo-dau"]},
                  {"name": "Trưa", "at": missed_at, "dates": [today], "play": ["mo-dau"]}],
    }
    folder.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    first = run_station(folder.load(), make_up_spacing=SECONDS)
    wait_for(lambda: any(r.status is Status.PLAYED for r in first.asrun.history()), timeout=20)
    first.stop()
    wait_for(lambda: datetime.now(TZ).strftime("%H:%M:%S") > missed_at, timeout=15)
    station = run_station(folder.load(), make_up_spacing=SECONDS)     # finds Trưa missed, plans a make-up
    made_up = wait_for(lambda: [r for r in station.asrun.history() if r.kind == "make-up"
                                and r.status in (Status.PLAYED, Status.LATE)], timeout=30)
    rows = station.asrun.history()
    assert [(r.slot, r.kind, r.status) for r in rows] == [
        ("Sáng", "scheduled", Status.PLAYED), ("Trưa", "scheduled", Status.MISSED),
        ("bù cchc", "make-up", Status.PLAYED)]
    make_up = made_up[0]
    assert make_up.bulletins == ("mo-dau",) and make_up.key.startswith("bù cchc@")
    missed = rows[1]
    # After the missed slot's estimated length and the margin, on a whole second, not before the lead.
    assert make_up.scheduled > missed.scheduled + timedelta(seconds=9)
    assert abs((make_up.started - make_up.scheduled).total_seconds()) < 1.0
    assert [p.name.split("-", 2)[-1] for p in folder.aired_files()] == ["Sang.wav", "bu-cchc.wav"]
    report, _ = build(station.schedule, rows[0].scheduled.date(), make_up.scheduled.date(), now=station.now())
    (cchc,) = report.campaigns
    assert (cchc.planned, cchc.aired, cchc.missed, cchc.make_ups) == (3, 2, 1, 1)
