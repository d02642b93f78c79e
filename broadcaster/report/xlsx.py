"""The report as an Excel workbook: a summary, one sheet per campaign, and the raw as-run rows.

openpyxl writes the summary and campaign sheets. The raw rows (100,000 for a year of a busy
station) are written straight into the workbook's zip as one more sheet part: openpyxl spends
about 15 µs a cell, which is 20 s for a year, against under a second for the XML written here.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from broadcaster import i18n
from broadcaster.asrun.log import Fact
from broadcaster.report import labels
from broadcaster.report.figures import Report, minutes_on_air

RAW_COLUMNS = ("id", "key", "kind", "slot", "bulletins", "scheduled", "started", "ended", "status", "engine",
               "minutes", "error", "attempts", "note")
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"


def _sheet_title(text: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    clean = "".join("-" if c in "[]:*?/\\" else c for c in text)[:31]
    title, n = clean, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _text(value: str | None) -> str:
    if value is None:
        return "<c/>"
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f'<c t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _write_raw_sheet(rows: list[Fact], out) -> None:
    """The worksheet XML of every as-run row (times as the log wrote them, ISO 8601 with offset),
    written to `out` in chunks so a year of rows never sits in memory as one string."""
    out.write((_SHEET_HEAD + "<row>" + "".join(_text(c) for c in RAW_COLUMNS) + "</row>").encode("utf-8"))
    repeated: dict = {}          # kinds, slots, statuses, engines and bulletin lists repeat: their cells too

    def shared(value) -> str:
        cell = repeated.get(value)
        if cell is None:
            cell = repeated[value] = _text(" ".join(value) if isinstance(value, tuple) else value)
        return cell

    for start in range(0, len(rows), 5000):
        out.write("".join(
            f"<row><c><v>{row.id}</v></c>{_text(row.key)}{shared(row.kind)}{shared(row.slot)}"
            f"{shared(row.bulletins)}{_text(row.scheduled)}{_text(row.started)}"
            f"{_text(row.ended)}{shared(row.status)}{shared(row.engine)}"
            f"<c><v>{round(minutes_on_air(row), 3)}</v></c>{_text(row.error)}"
            f"<c><v>{row.attempts}</v></c>{_text(row.note)}</row>"
            for row in rows[start:start + 5000]).encode("utf-8"))
    out.write(_SHEET_TAIL.encode("utf-8"))


def write(report: Report, rows: list[Fact], path: Path) -> None:
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

    book.create_sheet(_sheet_title(i18n.tr("report.raw_sheet"), used))   # its part is replaced below
    raw_part = f"xl/worksheets/sheet{len(book.worksheets)}.xml"
    buffer = io.BytesIO()
    book.save(buffer)
    # Level 1: the raw XML is ~30 MB for a year; the default level spends a second more for 10% less.
    with zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            if item.filename == raw_part:
                item.compress_type = zipfile.ZIP_DEFLATED
                with target.open(item, "w", force_zip64=True) as out:
                    _write_raw_sheet(rows, out)
            else:
                target.writestr(item, source.read(item.filename), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
