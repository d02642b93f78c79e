"""Airtime per week as a PNG bar chart, for the DOCX and PDF reports.

Drawn with Pillow (already needed by reportlab) rather than matplotlib: a bar chart needs a few
rectangles and labels, and importing matplotlib alone takes longer than the whole report. Labels
use the DejaVu Sans TTF so Vietnamese diacritics draw right.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from broadcaster import i18n
from broadcaster.report.fonts import font_path
from broadcaster.report.figures import CampaignFigures

WIDTH, HEIGHT = 1600, 640
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 120, 40, 80, 90
BAR = (46, 94, 170)
TARGET = (200, 40, 40)
GRID = (215, 215, 215)
INK = (20, 20, 20)


def _nice_step(top: float) -> float:
    """A round grid step giving about five lines up to `top`."""
    raw = max(top, 1.0) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def airtime_chart(figures: CampaignFigures) -> bytes:
    """PNG bytes: minutes on air per week, with the weekly target when it is counted in minutes."""
    regular = ImageFont.truetype(str(font_path()), 22)
    small = ImageFont.truetype(str(font_path()), 18)
    bold = ImageFont.truetype(str(font_path(bold=True)), 26)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN_LEFT, 20), i18n.tr("report.chart_title", title=figures.campaign.title), font=bold, fill=INK)
    weeks = figures.weeks
    target = figures.target
    weekly_target = target.amount if target and target.unit == "minutes" and target.per == "week" else None
    top = max([w.minutes for w in weeks] + [weekly_target or 0.0, 1.0]) * 1.1
    step = _nice_step(top)
    top = math.ceil(top / step) * step
    plot_w, plot_h = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base = MARGIN_TOP + plot_h

    def y_of(value: float) -> float:
        return base - value / top * plot_h

    value = 0.0
    while value <= top + 1e-9:
        y = y_of(value)
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=GRID, width=1)
        label = f"{value:g}"
        draw.text((MARGIN_LEFT - 12 - draw.textlength(label, font=small), y - 11), label, font=small, fill=INK)
        value += step
    draw.text((10, MARGIN_TOP - 40), i18n.tr("report.chart_axis"), font=small, fill=INK)
    count = max(len(weeks), 1)
    slot = plot_w / count
    every = max(1, math.ceil(count / 14))          # at most ~14 date labels under the bars
    for index, week in enumerate(weeks):
        left = MARGIN_LEFT + index * slot + slot * 0.15
        right = MARGIN_LEFT + (index + 1) * slot - slot * 0.15
        if week.minutes > 0:
            draw.rectangle([left, y_of(week.minutes), right, base], fill=BAR)
        if index % every == 0:
            label = f"{week.first:%d/%m}"
            draw.text(((left + right) / 2 - draw.textlength(label, font=small) / 2, base + 10), label,
                      font=small, fill=INK)
    if weekly_target:
        y = y_of(weekly_target)
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=TARGET, width=3)
        draw.text((WIDTH - MARGIN_RIGHT - 260, y - 30), i18n.tr("report.chart_target"), font=regular, fill=TARGET)
    draw.line([(MARGIN_LEFT, MARGIN_TOP), (MARGIN_LEFT, base), (WIDTH - MARGIN_RIGHT, base)], fill=INK, width=2)
    draw.text((MARGIN_LEFT, HEIGHT - 40), i18n.tr("report.chart_weeks"), font=small, fill=INK)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
