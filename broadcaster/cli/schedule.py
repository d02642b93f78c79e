"""`validate` and `agenda`: the operator's checks on schedule.yaml before it goes on air."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import click
from rich.table import Table

from broadcaster import i18n
from broadcaster.cli.app import cli, console, schedule_option
from broadcaster.errors import ScheduleError
from broadcaster.asrun.log import AsRunLog, log_path
from broadcaster.makeup import facts_since, plan_make_ups
from broadcaster.occurrences import Occurrence, occurrences
from broadcaster.schedule import check_schedule, load_schedule
from broadcaster.schedule.calendar import in_range, lunar_day
from broadcaster.schedule.model import Priority
from broadcaster.speech.ahead import broadcast_voice
from broadcaster.speech.speaker import voice_label
from broadcaster.speech.speaker import speaker_for

WEEKDAY_NAMES = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

i18n.register({
    "validate.ok": (
        "{path}: hợp lệ — {bulletins} bản tin, {slots} khung giờ{warnings}",
        "{path}: valid — {bulletins} bulletins, {slots} slots{warnings}"),
    "validate.warnings": (", {count} cảnh báo", ", {count} warnings"),
    "agenda.title": ("Lịch phát {station}", "Broadcast agenda, {station}"),
    "agenda.empty": (
        "Không có buổi phát nào từ {start} trong {days} ngày.",
        "Nothing airs from {start} for {days} days."),
    "agenda.col.day": ("Ngày", "Day"),
    "agenda.col.lunar": ("Âm lịch", "Lunar"),
    "agenda.col.time": ("Giờ", "Time"),
    "agenda.col.slot": ("Khung giờ", "Slot"),
    "agenda.col.bulletins": ("Bản tin", "Bulletins"),
    "agenda.col.priority": ("Mức", "Priority"),
    "agenda.col.voice": ("Giọng đọc lúc này", "Voice right now"),
    "priority.normal": ("thường", "normal"),
    "priority.priority": ("ưu tiên", "priority"),
    "priority.emergency": ("khẩn cấp", "emergency"),
})


@cli.command()
@schedule_option
def validate(schedule_path) -> int:
    """Check schedule.yaml and list every problem as FILE:LINE:COL."""
    schedule, problems = check_schedule(schedule_path)
    if schedule is None:
        raise ScheduleError(problems)
    for problem in problems:
        click.echo(problem.format(), err=True)
    warnings = i18n.tr("validate.warnings", count=len(problems)) if problems else ""
    click.echo(i18n.tr("validate.ok", path=schedule_path, bulletins=len(schedule.bulletins),
                       slots=len(schedule.slots), warnings=warnings))
    return 0


@cli.command()
@schedule_option
@click.option("--from", "first_day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (YYYY-MM-DD); today in station time by default.")
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def agenda(schedule_path, first_day: datetime | None, days: int, as_json: bool) -> int:
    """List upcoming broadcasts in station time."""
    schedule = load_schedule(schedule_path, check_texts=False)     # warnings are validate's to show
    zone = schedule.station.timezone
    start_day: date = first_day.date() if first_day else datetime.now(zone).date()
    start = datetime.combine(start_day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=days)
    found = occurrences(schedule, start, end)
    found = sorted(found + [o for o in _make_ups(schedule, datetime.now(zone)) if start <= o.start < end],
                   key=lambda o: o.start)
    speaker, memo = speaker_for(schedule), {}
    voices = [broadcast_voice(speaker, schedule, o.bulletins, memo) for o in found]
    if as_json:
        click.echo(json.dumps([
            {"start": o.start.isoformat(), "slot": o.slot.name, "bulletins": list(o.bulletins),
             "priority": o.priority(schedule).label, "lunar": _lunar_label(o.start.date()),
             "voice": None if v is None else {"engine": v.engine, "ready": v.ready, "reason": v.reason},
             "make_up": o.make_up}
            for o, v in zip(found, voices)], ensure_ascii=False, indent=2))
        return 0
    if not found:
        click.echo(i18n.tr("agenda.empty", start=start_day.isoformat(), days=days))
        return 0
    table = Table(title=i18n.tr("agenda.title", station=schedule.station.name))
    for column in ("day", "lunar", "time", "slot", "bulletins", "priority", "voice"):
        table.add_column(i18n.tr(f"agenda.col.{column}"))
    names = WEEKDAY_NAMES[i18n.language()]
    previous_day = None
    for occurrence, voice in zip(found, voices):
        day = occurrence.start.date()
        new_day = day != previous_day
        label = f"{names[day.weekday()]} {day:%d/%m/%Y}" if new_day else ""
        lunar = (_lunar_label(day) or "") if new_day else ""
        previous_day = day
        priority = occurrence.priority(schedule)
        style = {Priority.EMERGENCY: "bold red", Priority.PRIORITY: "yellow"}.get(priority)
        if occurrence.make_up:
            style = "magenta"
        table.add_row(label, lunar, occurrence.start.strftime("%H:%M:%S"), occurrence.slot.name,
                      ", ".join(occurrence.bulletins), i18n.tr(f"priority.{priority.label}"),
                      voice_label(voice), style=style)
    console().print(table)
    return 0


def _make_ups(schedule, now: datetime) -> list[Occurrence]:
    """The make-ups (bù) the station would plan now, from the as-run log as it stands."""
    since = facts_since(schedule, now.date())
    if since is None:
        return []
    first = datetime.combine(since, datetime.min.time(), tzinfo=schedule.station.timezone)
    path = log_path(schedule.station.state_dir)
    if not path.exists():
        return plan_make_ups(schedule, [], now)
    with AsRunLog(path, readonly=True) as asrun:
        rows = asrun.facts(first, now + timedelta(days=1))
    return plan_make_ups(schedule, rows, now)


def _lunar_label(day: date) -> str | None:
    """The lunar date people plan by, beside the solar one ("rằm tháng Giêng")."""
    return lunar_day(day).label(i18n.language()) if in_range(day) else None
