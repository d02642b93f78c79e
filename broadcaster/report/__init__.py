"""Reports (báo cáo) from the as-run log: how much of each publicity plan went on air.

Where it sits: after `asrun`, beside `history`. In: the schedule's campaigns and the as-run log
of a period. Out: one file in Markdown, JSON, XLSX, DOCX or PDF. `figures` computes, the other
modules only lay the figures out.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from broadcaster import i18n
from broadcaster.asrun.log import AsRunLog, Fact, log_path
from broadcaster.errors import ReportError
from broadcaster.report import markdown
from broadcaster.report.figures import Report, compute, period_bounds
from broadcaster.schedule.model import Schedule

FORMATS = ("md", "json", "xlsx", "docx", "pdf")

i18n.register({
    "report.unknown_campaign": ("Không có chiến dịch {campaign!r}. Có: {known}",
                                "No campaign named {campaign!r}. Known: {known}"),
    "report.write_failed": ("Không ghi được báo cáo {path}: {detail}", "Cannot write the report {path}: {detail}"),
})


def read_rows(schedule: Schedule, first: date, last: date) -> list[Fact]:
    """The as-run rows scheduled from `first` to `last` (inclusive, station time); none if no log yet."""
    path = log_path(schedule.station.state_dir)
    if not path.exists():
        return []
    zone = schedule.station.timezone
    start = datetime.combine(first, time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    with AsRunLog(path, readonly=True) as asrun:
        return asrun.facts(start, end)


def build(schedule: Schedule, first: date, last: date, *, now: datetime, campaign: str | None = None,
          rows: list[Fact] | None = None) -> tuple[Report, list[Fact]]:
    """The report's figures and the rows they come from."""
    if campaign is not None and campaign not in schedule.campaigns:
        raise ReportError(i18n.tr("report.unknown_campaign", campaign=campaign,
                                  known=", ".join(schedule.campaigns) or "-"))
    if rows is None:
        rows = read_rows(schedule, first, last)
    chosen = [campaign] if campaign else None
    return compute(schedule, rows, first, last, now=now, campaigns=chosen), rows


def text(report: Report, fmt: str) -> str:
    """The Markdown or JSON form of `report`."""
    if fmt == "md":
        return markdown.render(report)
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


def write(report: Report, rows: list[Fact], fmt: str, out: Path) -> None:
    """Write `report` to `out` in `fmt` (one of FORMATS)."""
    try:
        if fmt in ("md", "json"):
            out.write_text(text(report, fmt), encoding="utf-8")
        elif fmt == "xlsx":
            from broadcaster.report import xlsx

            xlsx.write(report, rows, out)
        elif fmt == "docx":
            from broadcaster.report import docx

            docx.write(report, out)
        elif fmt == "pdf":
            from broadcaster.report import pdf

            pdf.write(report, out)
        else:
            raise ValueError(fmt)
    except OSError as exc:
        raise ReportError(i18n.tr("report.write_failed", path=out, detail=exc.strerror or exc)) from exc


__all__ = ["FORMATS", "Report", "build", "period_bounds", "read_rows", "text", "write"]
