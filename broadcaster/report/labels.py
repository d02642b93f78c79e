"""Words and number formats shared by every report format (Vietnamese first, English second)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from broadcaster import i18n
from broadcaster.report.figures import OFFLINE_ENGINES, CampaignFigures, PeriodFigures, Report

i18n.register({
    "report.country": ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIETNAM"),
    "report.motto": ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "report.place_date": ("{place}, ngày {day:02d} tháng {month:02d} năm {year}",
                          "{place}, {month:02d}/{day:02d}/{year}"),
    "report.title": ("BÁO CÁO", "REPORT"),
    "report.subtitle": ("Kết quả phát thanh tuyên truyền từ ngày {first} đến ngày {last}",
                        "Broadcasts on air from {first} to {last}"),
    "report.source": ("Số liệu lấy từ nhật ký phát thanh của đài ({rows} dòng): thời gian phát đo thực tế.",
                      "Figures from the station's as-run log ({rows} rows): airtime as measured."),
    "report.section.campaigns": ("KẾT QUẢ THỰC HIỆN CÁC KẾ HOẠCH TUYÊN TRUYỀN", "PUBLICITY PLANS ON AIR"),
    "report.section.events": ("TIN KHẨN CẤP VÀ TIẾP SÓNG", "EMERGENCIES AND RELAYS"),
    "report.section.off_air": ("THỜI GIAN MẤT SÓNG", "TIME OFF AIR"),
    "report.no_campaigns": ("Lịch phát chưa khai báo kế hoạch tuyên truyền nào ('campaigns').",
                            "The schedule declares no campaigns ('campaigns')."),
    "report.plan": ("Căn cứ: {plan}", "Plan: {plan}"),
    "report.window": ("Thời gian thực hiện: {first} đến {last}", "Runs from {first} to {last}"),
    "report.col.planned": ("Theo lịch", "Planned"),
    "report.col.aired": ("Đã phát", "Aired"),
    "report.col.late": ("Phát muộn", "Late"),
    "report.col.missed": ("Bị lỡ", "Missed"),
    "report.col.failed": ("Lỗi", "Failed"),
    "report.col.interrupted": ("Bị ngắt", "Interrupted"),
    "report.col.make_ups": ("Phát bù", "Make-ups"),
    "report.col.minutes": ("Số phút", "Minutes"),
    "report.col.period": ("Kỳ", "Period"),
    "report.col.broadcasts": ("Số buổi", "Broadcasts"),
    "report.col.target": ("Mục tiêu", "Target"),
    "report.col.share": ("Đạt", "Share"),
    "report.col.time": ("Thời điểm", "Time"),
    "report.col.kind": ("Loại", "Kind"),
    "report.col.name": ("Nội dung", "Item"),
    "report.col.status": ("Trạng thái", "Status"),
    "report.col.voice": ("Giọng đọc", "Voice"),
    "report.col.from": ("Từ", "From"),
    "report.col.to": ("Đến", "To"),
    "report.target": ("Mục tiêu: {amount} {unit} mỗi {per}; đạt {met}/{total} kỳ.",
                      "Target: {amount} {unit} a {per}; met in {met} of {total} periods."),
    "report.no_target": ("Kế hoạch không đặt mục tiêu.", "The plan sets no target."),
    "report.voices": ("Giọng đọc: {voices}.", "Voices: {voices}."),
    "report.offline": ("ngoại tuyến", "offline"),
    "report.no_voices": ("Chưa có buổi phát nào.", "Nothing aired."),
    "report.no_events": ("Không có tin khẩn cấp hay tiếp sóng.", "No emergencies or relays."),
    "report.no_off_air": ("Không có.", "None."),
    "report.off_air_line": ("{first} đến {last}: {missed} buổi bị lỡ",
                            "{first} to {last}: {missed} broadcasts missed"),
    "report.status.playing": ("đang phát", "playing"),
    "report.status.played": ("đã phát", "played"),
    "report.status.late": ("phát muộn", "late"),
    "report.status.missed": ("bị lỡ", "missed"),
    "report.status.failed": ("lỗi", "failed"),
    "report.status.interrupted": ("bị ngắt", "interrupted"),
    "report.status.partial": ("phát không trọn", "partial"),
    "report.more_events": ("… và {count} lần khác (đủ cả trong bản JSON và XLSX).",
                           "… and {count} more (all of them in the JSON and XLSX forms)."),
    "report.more_off_air": ("… và {count} lần ngắn hơn; tổng thời gian mất sóng {hours:.1f} giờ.",
                            "… and {count} shorter ones; {hours:.1f} hours off air in all."),
    "report.kind.emergency": ("khẩn cấp", "emergency"),
    "report.kind.relay": ("tiếp sóng", "relay"),
    "report.signature": ("NGƯỜI LẬP BÁO CÁO", "PREPARED BY"),
    "report.signature_hint": ("(Ký, ghi rõ họ tên)", "(signature and full name)"),
    "report.recipients": ("Nơi nhận:", "To:"),
    "report.recipient_lines": ("- UBND xã;\n- Lưu: VT.", "- Commune People's Committee;\n- File."),
    "report.chart_title": ("Thời lượng phát mỗi tuần: {title}", "Airtime per week: {title}"),
    "report.chart_axis": ("phút", "minutes"),
    "report.chart_weeks": ("Tuần bắt đầu ngày", "Week starting"),
    "report.chart_target": ("mục tiêu mỗi tuần", "weekly target"),
    "report.raw_sheet": ("Nhật ký", "As-run"),
    "report.sheet_summary": ("Tổng hợp", "Summary"),
})

LIST_LIMIT = 30      # events and off-air spans listed in the documents (JSON and XLSX keep them all)
STATUS_COLUMNS = ("planned", "aired", "late", "missed", "failed", "interrupted", "make_ups", "minutes")
_PLACE = re.compile(r"\b(?:xã|phường|thị trấn|huyện|quận)\s+(.+)$", re.IGNORECASE)


def day_text(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def place_of(station: str) -> str:
    """The commune a station is named after ("Đài truyền thanh xã Vinh Quang" -> "Vinh Quang")."""
    match = _PLACE.search(station)
    return match.group(1).strip() if match else station


def place_date(report: Report) -> str:
    day = report.generated.date()
    return i18n.tr("report.place_date", place=place_of(report.station), day=day.day, month=day.month, year=day.year)


def number(value: float) -> str:
    return f"{value:.1f}" if not float(value).is_integer() else str(int(value))


def status_values(figures: CampaignFigures) -> list[str]:
    return [str(getattr(figures, c)) if c != "minutes" else f"{figures.minutes:.1f}" for c in STATUS_COLUMNS]


def period_label(period: PeriodFigures) -> str:
    last = period.end - timedelta(days=1)
    return day_text(period.first) if last == period.first else f"{period.first:%d/%m}–{day_text(last)}"


def share_text(period: PeriodFigures) -> str:
    return "-" if period.share is None else f"{period.share * 100:.0f}%"


def target_line(figures: CampaignFigures) -> str:
    target = figures.target
    if target is None:
        return i18n.tr("report.no_target")
    met = sum(1 for p in figures.periods if p.met)
    return i18n.tr("report.target", amount=number(target.amount), unit=i18n.tr(f"unit.{target.unit}"),
                   per=i18n.tr(f"per.{target.per}"), met=met, total=len(figures.periods))


def voices_line(figures: CampaignFigures) -> str:
    total = sum(figures.voices.values())
    if not total:
        return i18n.tr("report.no_voices")
    parts = []
    for engine, minutes in sorted(figures.voices.items(), key=lambda item: -item[1]):
        offline = f" ({i18n.tr('report.offline')})" if engine in OFFLINE_ENGINES else ""
        parts.append(f"{engine}{offline} {minutes / total * 100:.0f}% ({minutes:.1f} {i18n.tr('unit.minutes')})")
    return i18n.tr("report.voices", voices=", ".join(parts))


def window_line(figures: CampaignFigures) -> str:
    campaign = figures.campaign
    first = day_text(campaign.start) if campaign.start else "…"
    last = day_text(campaign.until) if campaign.until else "…"
    return i18n.tr("report.window", first=first, last=last)


def headers() -> list[str]:
    return [i18n.tr(f"report.col.{c}") for c in STATUS_COLUMNS]


def event_row(event) -> list[str]:
    """An emergency or relay as table cells: time, kind, name, status, minutes, voice."""
    kind = "emergency" if event.kind == "emergency" else "relay"
    return [f"{event.scheduled:%d/%m/%Y %H:%M}", i18n.tr(f"report.kind.{kind}"), event.name,
            i18n.tr(f"report.status.{event.status}"), f"{event.minutes:.1f}", event.engine or "-"]


def event_headers() -> list[str]:
    return [i18n.tr(f"report.col.{c}") for c in ("time", "kind", "name", "status", "minutes", "voice")]


def period_headers() -> list[str]:
    return [i18n.tr(f"report.col.{c}") for c in ("period", "broadcasts", "minutes", "target", "share")]


def period_row(period: PeriodFigures) -> list[str]:
    return [period_label(period), str(period.broadcasts), f"{period.minutes:.1f}",
            "-" if period.target is None else number(round(period.target, 1)), share_text(period)]


def off_air_line(span) -> str:
    return i18n.tr("report.off_air_line", first=f"{span.first:%d/%m/%Y %H:%M}", last=f"{span.last:%d/%m/%Y %H:%M}",
                   missed=span.missed)


def events_listed(report: Report) -> tuple[list, str | None]:
    """The emergencies and relays to list (the first LIST_LIMIT by time) and a line for the rest."""
    events = sorted(report.emergencies + report.relays, key=lambda e: e.scheduled)
    if len(events) <= LIST_LIMIT:
        return events, None
    return events[:LIST_LIMIT], i18n.tr("report.more_events", count=len(events) - LIST_LIMIT)


def off_air_listed(report: Report) -> tuple[list, str | None]:
    """The longest LIST_LIMIT off-air spans, in time order, and a line for the rest."""
    spans = report.off_air
    if len(spans) <= LIST_LIMIT:
        return spans, None
    longest = sorted(sorted(spans, key=lambda o: o.last - o.first, reverse=True)[:LIST_LIMIT], key=lambda o: o.first)
    hours = sum((o.last - o.first).total_seconds() for o in spans) / 3600
    return longest, i18n.tr("report.more_off_air", count=len(spans) - LIST_LIMIT, hours=hours)
