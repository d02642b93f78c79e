"""The parts of a Vietnamese administrative report (báo cáo), shared by the DOCX and PDF writers.

Layout after the administrative-document conventions (Decree 30/2020/NĐ-CP): the issuing body
and the national title side by side at the top (Quốc hiệu "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
tiêu ngữ "Độc lập - Tự do - Hạnh phúc"), place and date under the national title, the name of
the document, numbered sections with Roman numerals, and the signature block
"NGƯỜI LẬP BÁO CÁO" on the right with the recipients on the left.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadcaster import i18n
from broadcaster.report import labels
from broadcaster.report.chart import airtime_chart
from broadcaster.report.figures import Report

ROMAN = ("I", "II", "III", "IV", "V")


@dataclass(frozen=True)
class Block:
    """One piece of the body: a heading, a paragraph, a table or a picture, in order."""

    kind: str                          # "heading" | "subheading" | "text" | "table" | "picture"
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    picture: bytes = b""


def header(report: Report) -> tuple[str, str, str, str]:
    """(issuing body, national title, motto, place and date)."""
    return (report.station.upper(), i18n.tr("report.country"), i18n.tr("report.motto"), labels.place_date(report))


def title(report: Report) -> tuple[str, str]:
    return (i18n.tr("report.title"),
            i18n.tr("report.subtitle", first=labels.day_text(report.first), last=labels.day_text(report.last)))


def body(report: Report) -> list[Block]:
    blocks = [Block("text", i18n.tr("report.source", rows=report.rows)),
              Block("heading", f"{ROMAN[0]}. {i18n.tr('report.section.campaigns')}")]
    if not report.campaigns:
        blocks.append(Block("text", i18n.tr("report.no_campaigns")))
    for number, figures in enumerate(report.campaigns, start=1):
        campaign = figures.campaign
        blocks.append(Block("subheading", f"{number}. {campaign.title}"))
        if campaign.plan:
            blocks.append(Block("text", i18n.tr("report.plan", plan=campaign.plan)))
        blocks.append(Block("text", labels.window_line(figures)))
        blocks.append(Block("table", rows=(tuple(labels.headers()), tuple(labels.status_values(figures)))))
        blocks.append(Block("text", labels.target_line(figures)))
        if figures.periods and len(figures.periods) <= 60:   # a year of weeks fits; the chart shows the rest
            blocks.append(Block("table", rows=(tuple(labels.period_headers()),
                                               *(tuple(labels.period_row(p)) for p in figures.periods))))
        blocks.append(Block("text", labels.voices_line(figures)))
        if figures.weeks:
            blocks.append(Block("picture", picture=airtime_chart(figures)))
    blocks.append(Block("heading", f"{ROMAN[1]}. {i18n.tr('report.section.events')}"))
    events, more = labels.events_listed(report)
    if events:
        blocks.append(Block("table", rows=(tuple(labels.event_headers()),
                                           *(tuple(labels.event_row(e)) for e in events))))
        blocks += [Block("text", more)] if more else []
    else:
        blocks.append(Block("text", i18n.tr("report.no_events")))
    blocks.append(Block("heading", f"{ROMAN[2]}. {i18n.tr('report.section.off_air')}"))
    spans, more = labels.off_air_listed(report)
    if spans:
        blocks += [Block("text", f"- {labels.off_air_line(span)}") for span in spans]
        blocks += [Block("text", more)] if more else []
    else:
        blocks.append(Block("text", i18n.tr("report.no_off_air")))
    return blocks


def signature() -> tuple[str, str, str, str]:
    """(recipients heading, recipients, signer's title, hint)."""
    return (i18n.tr("report.recipients"), i18n.tr("report.recipient_lines"), i18n.tr("report.signature"),
            i18n.tr("report.signature_hint"))
