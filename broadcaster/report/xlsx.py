"""The report as an Excel workbook: a summary, one sheet per campaign, and the raw as-run rows.

openpyxl in write-only mode streams rows to the file, so a year of a busy station's log stays
within memory and time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from broadcaster import i18n
from broadcaster.asrun.log import AsRunRow
from broadcaster.report import labels
from broadcaster.report.figures import Report, minutes_on_air

RAW_COLUMNS = ("id", "key", "kind", "slot", "bulletins", "priority", "scheduled", "started", "ended",
               "status", "engine", "minutes", "error")


def _sheet_title(text: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    clean = "".join("-" if c in "[]:*?/\\" else c for c in text)[:31]
    title, n = clean, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def write(report: Report, rows: list[AsRunRow], path: Path) -> None:
    book = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)

    def head(sheet, cells):
        header = []
        for text in cells:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            header.append(cell)
        sheet.append(header)

    summary = book.create_sheet(_sheet_title(i18n.tr("report.sheet_summary"), used))
    summary.append([report.station])
    summary.append([i18n.tr("report.subtitle", first=labels.day_text(report.first), last=labels.day_text(report.last))])
    summary.append([])
    head(summary, ["ID", i18n.tr("report.col.name")] + labels.headers())
    for figures in report.campaigns:
        summary.append([figures.campaign.id, figures.campaign.title, figures.planned, figures.aired, figures.late,
                        figures.missed, figures.failed, figures.interrupted, figures.make_ups,
                        round(figures.minutes, 2)])
    summary.append([])
    head(summary, [i18n.tr("report.section.off_air"), i18n.tr("report.col.to"), i18n.tr("report.col.missed")])
    for span in report.off_air:
        summary.append([span.first.replace(tzinfo=None), span.last.replace(tzinfo=None), span.missed])

    for figures in report.campaigns:
        sheet = book.create_sheet(_sheet_title(figures.campaign.id, used))
        sheet.append([figures.campaign.title])
        sheet.append([labels.target_line(figures)])
        sheet.append([labels.voices_line(figures)])
        sheet.append([])
        head(sheet, [i18n.tr("report.col.from"), i18n.tr("report.col.to"), i18n.tr("report.col.broadcasts"),
                     i18n.tr("report.col.minutes"), i18n.tr("report.col.target"), i18n.tr("report.col.share")])
        for period in figures.periods or figures.weeks:
            sheet.append([period.first, period.end - timedelta(days=1), period.broadcasts,
                          round(period.minutes, 2), None if period.target is None else round(period.target, 2),
                          None if period.share is None else round(period.share, 4)])

    def local(moment: datetime | None):
        return None if moment is None else moment.astimezone(report.zone).replace(tzinfo=None)

    raw = book.create_sheet(_sheet_title(i18n.tr("report.raw_sheet"), used))
    raw.append(list(RAW_COLUMNS))
    for row in rows:
        raw.append([row.id, row.key, row.kind, row.slot, " ".join(row.bulletins), row.priority,
                    local(row.scheduled), local(row.started), local(row.ended),
                    row.status.value, row.engine, round(minutes_on_air(row), 3), row.error])
    book.save(str(path))
