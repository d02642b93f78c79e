"""A station with one campaign, and an as-run log written through the real `AsRunLog`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster import i18n
from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.schedule import load_schedule

VN = ZoneInfo("Asia/Ho_Chi_Minh")

SCHEDULE = """\
station:
  name: Đài truyền thanh xã Vinh Quang
  state_dir: var
  air_hours: ["05:00-21:30"]
bulletins:
  mo-dau:
    text: Kế hoạch tuyên truyền cải cách hành chính.
  muc-dich:
    text: Mục đích, yêu cầu.
  thoi-tiet:
    text: Bản tin thời tiết.
campaigns:
  cchc:
    title: Tuyên truyền cải cách hành chính năm 2023
    plan: Kế hoạch số 06/KH-UBND ngày 17/01/2023 của UBND xã Vinh Quang
    from: 2023-03-01
    until: 2023-12-31
    bulletins: [mo-dau, muc-dich]
    target: {broadcasts: 3, per: week}
    make_up: true
slots:
  - name: Bản tin sáng
    at: "06:00"
    play: [mo-dau, thoi-tiet]
  - name: Thời tiết
    at: "11:00"
    play: [thoi-tiet]
"""


@pytest.fixture(autouse=True)
def vietnamese():
    """Reports are checked in Vietnamese whatever an earlier test's `--lang` left behind."""
    i18n.set_language("vi")
    yield
    i18n.set_language(None)


@pytest.fixture
def schedule(tmp_path: Path):
    path = tmp_path / "schedule.yaml"
    path.write_text(SCHEDULE, encoding="utf-8")
    return load_schedule(path)


class Writer:
    """Writes as-run rows the way the daemon does, with times in station time."""

    def __init__(self, log: AsRunLog) -> None:
        self.log = log

    def row(self, when: str, status: Status, *, slot="Bản tin sáng", bulletins=("mo-dau", "thoi-tiet"),
            kind="scheduled", minutes: float = 5.0, engine="gtts", key: str | None = None,
            started_after: float = 0.2, ended: bool = True) -> int:
        scheduled = datetime.fromisoformat(when).replace(tzinfo=VN)
        started = ended_at = None
        if status in (Status.PLAYED, Status.LATE, Status.PARTIAL, Status.INTERRUPTED, Status.FAILED):
            started = scheduled + timedelta(seconds=started_after)
            ended_at = started + timedelta(minutes=minutes) if ended else None
        return self.log.record(key=key or f"{slot}@{scheduled.isoformat()}", kind=kind, slot=slot,
                               bulletins=bulletins, priority="normal", scheduled=scheduled, status=status,
                               started=started, ended=ended_at, engine=engine if started else None)


@pytest.fixture
def asrun(schedule):
    log = AsRunLog(schedule.station.state_dir / "asrun.sqlite3")
    yield Writer(log)
    log.close()
