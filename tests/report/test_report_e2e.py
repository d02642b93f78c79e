"""Reports from an as-run log the real daemon wrote, with known misses, in every format.

The daemon runs twice against real time (tone programmes, WAV-file output): it airs a slot, is
stopped while two more slots pass (logged missed at the next start, as after a power cut), then
airs another and an emergency. Totals are checked against a plain SQL count of the same file;
DOCX and XLSX are read back with their libraries; the PDF is turned into PNG pages with
`pdftoppm` and kept in `.artifacts/report/` to look at.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook

from broadcaster.asrun.log import Status
from broadcaster.cli import main
from broadcaster.onair.requests import resolve_emergency
from broadcaster.report import build, write
from broadcaster.schedule import load_schedule
from tests.onair.conftest import TZ, clock_in, wait_for

# One worker runs the whole module: its daemon runs (`station_log`) are made once, not per worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("report-e2e")]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "report"


def aired(station, slot: str) -> bool:
    return any(r.slot == slot and r.status in (Status.PLAYED, Status.LATE) for r in station.asrun.history())


@pytest.fixture(scope="module")
def station_log(tmp_path_factory):
    """Run the daemon as described above; returns (schedule path, first day, last day)."""
    from tests.onair.tones import tone_renderer
    from broadcaster.onair.daemon import Station

    folder = tmp_path_factory.mktemp("station")
    state = Path(__import__("tempfile").mkdtemp(prefix="bc-", dir="/tmp"))
    # Five seconds for each daemon to start and render before its first slot: with less, on a
    # busy machine a slot aired more than a second late and the report counted it late.
    first_slot, lost, last_slot = clock_in(5), [clock_in(8), clock_in(9)], clock_in(15)
    document = {
        "station": {"name": "Đài truyền thanh xã Vinh Quang", "state_dir": str(state), "catch_up": 0,
                    "output": f"file:{folder / 'aired'}", "air_hours": ["00:00-23:59"]},
        "bulletins": {"mo-dau": {"text": "1s 440Hz"}, "thoi-tiet": {"text": "1s 660Hz"}},
        "campaigns": {"cchc": {"title": "Tuyên truyền cải cách hành chính năm 2023",
                               "plan": "Kế hoạch số 06/KH-UBND ngày 17/01/2023 của UBND xã Vinh Quang",
                               "bulletins": ["mo-dau"], "target": {"broadcasts": 3, "per": "week"}}},
        "slots": [{"name": "Sáng", "at": first_slot, "play": ["mo-dau"]},
                  {"name": "Trưa", "at": lost, "play": ["mo-dau", "thoi-tiet"]},
                  {"name": "Chiều", "at": last_slot, "play": ["mo-dau", "thoi-tiet"]}],
    }
    path = folder / "schedule.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    start_day = datetime.now(TZ).date()
    options = {"renderer": tone_renderer, "device_retry_delay": 0.3, "reload_interval": 0.2,
               "render_retry_delay": timedelta(seconds=0.5)}
    station = Station(load_schedule(path), **options)
    station.start()
    try:
        wait_for(lambda: aired(station, "Sáng"), timeout=20)
    finally:
        station.stop()
    wait_for(lambda: datetime.now(TZ).strftime("%H:%M:%S") > lost[1] or datetime.now(TZ).date() > start_day,
             timeout=15)
    station = Station(load_schedule(path), **options)
    station.start()
    try:
        # The emergency only once Chiều has aired: sent before, on a busy machine it could still
        # hold the air at Chiều's second and make Chiều late.
        wait_for(lambda: aired(station, "Chiều"), timeout=25)
        station.submit(resolve_emergency(station.schedule, text="1s 1000Hz lũ", bulletin=None, title="Lũ",
                                         now=station.now()))
        wait_for(lambda: aired(station, "emergency"), timeout=25)
    finally:
        station.stop()
    yield path, start_day, datetime.now(TZ).date()
    shutil.rmtree(state, ignore_errors=True)


def independent_count(db_path: Path) -> dict:
    """The campaign's totals by plain SQL, sharing no code with the report."""
    with sqlite3.connect(db_path) as db:
        def one(sql: str) -> float:
            return db.execute(sql).fetchone()[0] or 0
        campaign = "kind != 'emergency' AND (bulletins = 'mo-dau' OR bulletins LIKE 'mo-dau' || char(10) || '%')"
        return {
            "aired": one(f"SELECT COUNT(DISTINCT key) FROM asrun WHERE {campaign} AND status IN ('played', 'late')"),
            "missed": one(f"SELECT COUNT(DISTINCT key) FROM asrun WHERE {campaign} AND status = 'missed'"),
            "minutes": sum((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60
                           for start, end in db.execute(f"SELECT started, ended FROM asrun WHERE {campaign} "
                                                        "AND status IN ('played', 'late', 'interrupted')")),
            "emergencies": one("SELECT COUNT(*) FROM asrun WHERE kind = 'emergency'"),
        }


def test_report_totals_match_an_independent_count(station_log):
    path, first, last = station_log
    schedule = load_schedule(path)
    report, rows = build(schedule, first, last, now=datetime.now(TZ))
    (cchc,) = report.campaigns
    counted = independent_count(schedule.station.state_dir / "asrun.sqlite3")
    assert (cchc.aired, cchc.missed, cchc.failed, cchc.interrupted) == (counted["aired"], counted["missed"], 0, 0)
    assert (cchc.aired, cchc.missed) == (2, 2)                          # the known outcome of the run
    assert cchc.minutes == pytest.approx(counted["minutes"], abs=1e-3)
    assert cchc.minutes == pytest.approx(2 * (1 + 1 + 1) / 60, abs=0.05)   # intro-free tones: 1 s per bulletin
    assert len(report.emergencies) == counted["emergencies"] == 1
    assert cchc.voices.keys() == {"tone"}
    (span,) = report.off_air
    assert span.missed == 2 and span.first.strftime("%H:%M:%S") == schedule.slot("Trưa").at[0].strftime("%H:%M:%S")


def test_every_format_reads_back(station_log, tmp_path):
    path, first, last = station_log
    schedule = load_schedule(path)
    report, rows = build(schedule, first, last, now=datetime(2023, 4, 5, 9, 0, tzinfo=TZ))
    (cchc,) = report.campaigns
    for fmt in ("md", "json", "xlsx", "docx", "pdf"):
        write(report, rows, fmt, tmp_path / f"bao-cao.{fmt}")

    assert json.loads((tmp_path / "bao-cao.json").read_text(encoding="utf-8")) == report.to_json()
    markdown = (tmp_path / "bao-cao.md").read_text(encoding="utf-8")
    assert max(len(line) for line in markdown.splitlines()) <= 100 and "THỜI GIAN MẤT SÓNG" in markdown

    book = load_workbook(tmp_path / "bao-cao.xlsx", read_only=True)
    assert book.sheetnames == ["Tổng hợp", "cchc", "Nhật ký"]
    summary = [r for r in book["Tổng hợp"].iter_rows(values_only=True)]
    assert ("cchc", "Tuyên truyền cải cách hành chính năm 2023", cchc.planned, 2, 0, 2, 0, 0, 0) == summary[4][:9]
    raw = list(book["Nhật ký"].iter_rows(values_only=True))
    assert len(raw) == 1 + len(rows) and raw[0][:4] == ("id", "key", "kind", "slot")
    assert sorted(r[8] for r in raw[1:]) == sorted(r.status for r in rows)
    assert [r[0] for r in raw[1:]] == [r.id for r in rows] and raw[1][5] == rows[0].scheduled

    doc = Document(str(tmp_path / "bao-cao.docx"))
    texts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    joined = "\n".join(texts)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "ĐÀI TRUYỀN THANH XÃ VINH QUANG", "Vinh Quang, ngày 05 tháng 04 năm 2023", "BÁO CÁO",
                     "I. KẾT QUẢ THỰC HIỆN CÁC KẾ HOẠCH TUYÊN TRUYỀN", "II. TIN KHẨN CẤP VÀ TIẾP SÓNG",
                     "III. THỜI GIAN MẤT SÓNG", "NGƯỜI LẬP BÁO CÁO"):
        assert expected in joined
    status_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Theo lịch")
    assert [c.text for c in status_table.rows[1].cells][:4] == [str(cchc.planned), "2", "0", "2"]
    assert len(doc.inline_shapes) == 1                           # the airtime chart

    pdf = tmp_path / "bao-cao.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "DejaVuSans" in fonts and "Helvetica" not in fonts and "Times" not in fonts
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "NGƯỜI LẬP BÁO CÁO" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("bao-cao-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(ARTIFACTS / "bao-cao")], check=True)
    shutil.copy(pdf, ARTIFACTS / "bao-cao.pdf")
    pages = sorted(ARTIFACTS.glob("bao-cao-*.png"))
    assert pages and all(p.stat().st_size > 10_000 for p in pages)


def test_cli_report(station_log, capsys, tmp_path):
    path, first, last = station_log
    assert main(["report", "--schedule", str(path), "--from", first.isoformat(), "--to", last.isoformat(),
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["campaigns"][0]["aired"], data["campaigns"][0]["missed"]) == (2, 2)
    assert main(["report", "--schedule", str(path), "--period", "2023-13"]) == 1
    assert "2023-13" in capsys.readouterr().err
    assert main(["--lang", "en", "report", "--schedule", str(path), "--period", str(first.year),
                 "--format", "docx"]) == 1
    assert capsys.readouterr().err.strip() == "broadcaster: Format docx needs --out FILE."
    out = tmp_path / "r.xlsx"
    assert main(["report", "--schedule", str(path), "--period", str(first.year), "--campaign", "cchc",
                 "--format", "xlsx", "--out", str(out)]) == 0 and out.stat().st_size > 0
