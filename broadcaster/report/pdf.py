"""The report as PDF (reportlab), laid out as a Vietnamese administrative report.

reportlab's built-in fonts (Helvetica, Times) have no Vietnamese glyphs and draw boxes: every
style here uses DejaVu Sans, registered from its TTF and embedded in the file.
"""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from broadcaster.report import document
from broadcaster.report.fonts import font_path
from broadcaster.report.figures import Report

REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"


def _register() -> None:
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(font_path())))
        pdfmetrics.registerFont(TTFont(BOLD, str(font_path(bold=True))))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def _style(name: str, *, size=11, bold=False, align=None, space=3) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=BOLD if bold else REGULAR, fontSize=size, leading=size * 1.35,
                          alignment=align if align is not None else 0, spaceAfter=space)


def write(report: Report, path: Path) -> None:
    _register()
    text = _style("text", align=TA_JUSTIFY)
    center = _style("center", align=TA_CENTER)
    center_bold = _style("center-bold", bold=True, align=TA_CENTER)
    heading = _style("heading", bold=True, size=12, space=6)
    cell = _style("cell", size=8.5, align=TA_CENTER, space=0)
    cell_bold = _style("cell-bold", size=8.5, bold=True, align=TA_CENTER, space=0)
    width = A4[0] - 4.5 * cm

    def p(value: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(value).replace("\n", "<br/>"), style)

    body_name, country, motto, place_date = document.header(report)
    top = Table([[p(body_name, center_bold), p(country, center_bold)],
                 ["", Paragraph(f"<u>{escape(motto)}</u>", center_bold)],
                 ["", p(place_date, center)]], colWidths=[width * 0.42, width * 0.58])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), REGULAR)]))
    name, subtitle = document.title(report)
    story = [top, Spacer(1, 0.6 * cm), p(name, _style("title", bold=True, size=14, align=TA_CENTER)),
             p(subtitle, center_bold), Spacer(1, 0.4 * cm)]
    for block in document.body(report):
        if block.kind == "heading":
            story.append(p(block.text, heading))
        elif block.kind == "subheading":
            story.append(p(block.text, _style("sub", bold=True)))
        elif block.kind == "text":
            story.append(p(block.text, text))
        elif block.kind == "table":
            rows = [[p(c, cell_bold if r == 0 else cell) for c in cells] for r, cells in enumerate(block.rows)]
            table = Table(rows, colWidths=[width / len(block.rows[0])] * len(block.rows[0]), repeatRows=1)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                                       ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                       ("FONTNAME", (0, 0), (-1, -1), REGULAR)]))
            story += [table, Spacer(1, 0.3 * cm)]
        elif block.kind == "picture":
            reader = ImageReader(io.BytesIO(block.picture))
            w, h = reader.getSize()
            story.append(Image(io.BytesIO(block.picture), width=width, height=width * h / w))
    recipients, lines, signer, hint = document.signature()
    story += [Spacer(1, 0.6 * cm),
              Table([[p(recipients, _style("recipients", bold=True, size=10)), p(signer, center_bold)],
                     [p(lines, _style("lines", size=9)), p(hint, center)]],
                    colWidths=[width * 0.5, width * 0.5], style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("FONTNAME", (0, 0), (-1, -1), REGULAR)]))]
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=3 * cm, rightMargin=1.5 * cm, topMargin=2 * cm,
                            bottomMargin=2 * cm, title=f"{name} - {report.station}", author=report.station,
                            initialFontName=REGULAR)
    doc.build(story)
