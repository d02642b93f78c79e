"""The TTF fonts reports draw Vietnamese with (reportlab's built-in Helvetica draws boxes for it).

DejaVu Sans comes with Debian's `fonts-dejavu-core`, which scripts/setup.sh installs.
"""

from __future__ import annotations

from pathlib import Path

from broadcaster import i18n
from broadcaster.errors import ReportError

FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/local/share/fonts/truetype/dejavu"))

i18n.register({
    "report.no_font": (
        "Không tìm thấy phông DejaVu Sans để viết tiếng Việt có dấu: cài gói fonts-dejavu-core.",
        "DejaVu Sans, needed to write Vietnamese with its diacritics, is missing: install fonts-dejavu-core."),
})


def font_path(bold: bool = False) -> Path:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FOLDERS:
        if (folder / name).is_file():
            return folder / name
    raise ReportError(i18n.tr("report.no_font"))
