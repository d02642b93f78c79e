"""The report as a Word document (python-docx), laid out as a Vietnamese administrative report.

Times New Roman 13 pt, the font administrative documents use; Word and LibreOffice both carry
its Vietnamese glyphs, and the text is stored as Unicode (NFC), so diacritics survive any viewer.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from broadcaster.report import document
from broadcaster.report.figures import Report

FONT = "Times New Roman"


def _paragraph(container, text: str = "", *, bold=False, italic=False, underline=False, size=13,
               align=WD_ALIGN_PARAGRAPH.LEFT):
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(3)
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline = bold, italic, underline
        run.font.size = Pt(size)
    return paragraph


def _table(doc, rows: tuple[tuple[str, ...], ...]) -> None:
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, (row, cells) in enumerate(zip(table.rows, rows)):
        for cell, text in zip(row.cells, cells):       # row.cells once: table.cell(r, c) walks the table each time
            run = cell.paragraphs[0].add_run(text)
            run.font.size = Pt(11)
            run.bold = r == 0
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph()


def write(report: Report, path: Path) -> None:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)      # A4
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)

    body_name, country, motto, place_date = document.header(report)
    top = doc.add_table(rows=1, cols=2)
    left, right = top.cell(0, 0), top.cell(0, 1)
    left.text = right.text = ""
    _run = left.paragraphs[0].add_run(body_name)
    _run.bold, _run.font.size = True, Pt(12)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = right.paragraphs[0].add_run(country)
    run.bold, run.font.size = True, Pt(12)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(right, motto, bold=True, underline=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(right, place_date, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    name, subtitle = document.title(report)
    _paragraph(doc)
    _paragraph(doc, name, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, subtitle, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    for block in document.body(report):
        if block.kind == "heading":
            _paragraph(doc, block.text, bold=True)
        elif block.kind == "subheading":
            _paragraph(doc, block.text, bold=True, italic=True)
        elif block.kind == "text":
            _paragraph(doc, block.text, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        elif block.kind == "table":
            _table(doc, block.rows)
        elif block.kind == "picture":
            doc.add_picture(io.BytesIO(block.picture), width=Cm(16))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    recipients, lines, signer, hint = document.signature()
    end = doc.add_table(rows=1, cols=2)
    left, right = end.cell(0, 0), end.cell(0, 1)
    left.text = right.text = ""
    run = left.paragraphs[0].add_run(recipients)
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in lines.splitlines():
        _paragraph(left, line, size=11)
    run = right.paragraphs[0].add_run(signer)
    run.bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(right, hint, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    doc.save(str(path))
