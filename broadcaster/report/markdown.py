"""The report as Markdown: fits an 80-column terminal, bars where a glance beats the numbers."""

from __future__ import annotations

from broadcaster import i18n
from broadcaster.report import labels
from broadcaster.report.figures import Report

BAR_WIDTH = 20


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"   # noqa: E731
    return [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]


def _bar(share: float | None) -> str:
    if share is None:
        return ""
    filled = min(BAR_WIDTH, round(min(share, 1.0) * BAR_WIDTH))
    return "█" * filled + "·" * (BAR_WIDTH - filled)


def render(report: Report) -> str:
    out = [f"# {i18n.tr('report.title')}: {report.station}", "",
           i18n.tr("report.subtitle", first=labels.day_text(report.first), last=labels.day_text(report.last)),
           labels.place_date(report), "", i18n.tr("report.source", rows=report.rows), "",
           f"## 1. {i18n.tr('report.section.campaigns')}", ""]
    if not report.campaigns:
        out += [i18n.tr("report.no_campaigns"), ""]
    for number, figures in enumerate(report.campaigns, start=1):
        campaign = figures.campaign
        out += [f"### 1.{number}. {campaign.title} ({campaign.id})", ""]
        if campaign.plan:
            out.append(i18n.tr("report.plan", plan=campaign.plan) + "  ")
        out += [labels.window_line(figures), ""]
        out += _table(labels.headers(), [labels.status_values(figures)]) + [""]
        out += [labels.target_line(figures), ""]
        if figures.periods:
            rows = [labels.period_row(p) + [_bar(p.share)] for p in figures.periods]
            out += _table(labels.period_headers() + [""], rows) + [""]
        out += [labels.voices_line(figures), ""]
    out += [f"## 2. {i18n.tr('report.section.events')}", ""]
    events, more = labels.events_listed(report)
    if events:
        out += _table(labels.event_headers(), [labels.event_row(e) for e in events])
        out += [more] if more else []
    else:
        out.append(i18n.tr("report.no_events"))
    out += ["", f"## 3. {i18n.tr('report.section.off_air')}", ""]
    spans, more = labels.off_air_listed(report)
    if spans:
        out += [f"- {labels.off_air_line(o)}" for o in spans] + ([more] if more else [])
    else:
        out.append(i18n.tr("report.no_off_air"))
    return "\n".join(out) + "\n"
