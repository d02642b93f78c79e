"""`agenda` shows the make-ups (bù) the station would plan now, from the real as-run log."""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.cli import main

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_missed_broadcast_shows_as_a_make_up(tmp_path, capsys):
    # A yearly target as large as the slot gives, so the one missed broadcast of 1 January must be
    # made up whatever today's date is (the clock here is the real one).
    year = datetime.now(VN).year
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    (tmp_path / "schedule.yaml").write_text(f"""\
station:
  name: Đài thử
  air_hours: ["00:00-23:59"]
bulletins:
  tin: {{text: Tuyên truyền cải cách hành chính.}}
campaigns:
  cchc:
    title: Cải cách hành chính
    bulletins: [tin]
    from: {year}-01-01
    until: {year}-12-31
    target: {{broadcasts: {days}, per: year}}
    make_up: true
slots:
  - name: Sáng
    at: "03:00"
    play: [tin]
""", encoding="utf-8")
    missed = datetime(year, 1, 1, 3, tzinfo=VN)
    with AsRunLog(tmp_path / "var" / "asrun.sqlite3") as log:
        log.record(key=f"Sáng@{missed.isoformat()}", kind="scheduled", slot="Sáng", bulletins=("tin",),
                   priority="normal", scheduled=missed, status=Status.MISSED)
    schedule = str(tmp_path / "schedule.yaml")
    assert main(["agenda", "--schedule", schedule, "--days", "2", "--json"]) == 0
    made_up = [i for i in json.loads(capsys.readouterr().out) if i["make_up"]]
    assert [(i["slot"], i["bulletins"], i["make_up"]) for i in made_up] == [("bù cchc", ["tin"], "cchc")]
    assert main(["agenda", "--schedule", schedule, "--days", "2"]) == 0
    assert "bù cchc" in capsys.readouterr().out
