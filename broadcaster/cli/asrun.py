"""`history`: the as-run log (nhật ký phát thanh) for the operator and the commune's paperwork.

What SQLite holds, plus the rows still waiting to be written (the disk was full or read-only):
a running daemon is asked for them (`{"cmd": "pending"}`, its memory is the latest word);
without a daemon they are read from the journal. Both are shown marked as pending.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from broadcaster import i18n
from broadcaster.asrun import AsRunLog, AsRunRow, Status, log_path
from broadcaster.cli.app import cli, console, schedule_option
from broadcaster.errors import OnAirError
from broadcaster.schedule import load_station

i18n.register({
    "history.title": ("Nhật ký phát thanh — {station}", "As-run log — {station}"),
    "history.empty": ("Chưa có buổi phát nào trong nhật ký cho khoảng thời gian này.",
                      "The as-run log has nothing for this period."),
    "history.col.scheduled": ("Giờ theo lịch", "Scheduled"),
    "history.col.slot": ("Khung giờ", "Slot"),
    "history.col.bulletins": ("Bản tin", "Bulletins"),
    "history.col.started": ("Bắt đầu", "Started"),
    "history.col.ended": ("Kết thúc", "Ended"),
    "history.col.status": ("Trạng thái", "Status"),
    "history.col.engine": ("Giọng đọc", "Voice"),
    "history.col.error": ("Lỗi", "Error"),
    "history.col.attempts": ("Lần phát", "Tries"),
    "history.col.note": ("Diễn biến", "On the way"),
    "history.pending": ("{status} (chưa ghi vào nhật ký)", "{status} (not written to the log yet)"),
    "history.no_pending": ("Không hỏi được chương trình phát thanh các dòng chưa ghi ({detail}); đọc sổ tạm thay thế.",
                           "Could not ask the station daemon for the rows it has not written ({detail}); "
                           "reading the journal instead."),
    "history.one_format": ("Chọn một trong --json và --csv.", "Choose one of --json and --csv."),
    "history.bad_range": ("Ngày --from ({first}) sau ngày --to ({last}).",
                          "--from ({first}) is after --to ({last})."),
})

STYLES = {Status.MISSED: "red", Status.FAILED: "bold red", Status.INTERRUPTED: "yellow",
          Status.LATE: "yellow", Status.PLAYING: "cyan", Status.PARTIAL: "yellow"}
DAEMON_PATIENCE = 5.0        # seconds a busy daemon gets to answer before the journal is read instead
CSV_FIELDS = ("id", "key", "kind", "slot", "bulletins", "priority", "scheduled", "started", "ended",
              "status", "engine", "error", "attempts", "note", "pending")


def in_zone(row: AsRunRow, zone: ZoneInfo) -> AsRunRow:
    """The row with its times shown in the station's time zone (same instants)."""
    def local(value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(zone)
    return dataclasses.replace(row, scheduled=local(row.scheduled), started=local(row.started),
                               ended=local(row.ended))


def read_history(path: Path, start: datetime | None, end: datetime | None,
                 waiting: list[AsRunRow] | None = None) -> list[AsRunRow]:
    """Rows of the log at `path`, with the rows still waiting to be written marked pending.

    `waiting`: a running daemon's pending rows (None: no daemon, the journal is read instead).
    An absent log with nothing waiting is an empty history (and nothing is created).
    """
    with AsRunLog(path, readonly=True, journal=waiting is None) as asrun:
        rows = asrun.history(start, end)
    if not waiting:
        return rows
    first = start.timestamp() if start is not None else float("-inf")
    last = end.timestamp() if end is not None else float("inf")
    by_id = {row.id: row for row in rows}
    by_key = {row.key: row.id for row in rows}
    for row in waiting:
        if not first <= row.scheduled.timestamp() < last:
            continue
        known = by_id.get(by_key.get(row.key)) if row.id < 0 else by_id.get(row.id)
        if row.id < 0 and known is not None and (known.status, known.started) == (row.status, row.started):
            continue        # written between the two reads
        by_id[known.id if known is not None else row.id] = row
    return sorted(by_id.values(), key=lambda r: (r.scheduled.timestamp(), r.id < 0, abs(r.id)))


def daemon_pending(state_dir: Path, start: datetime | None, end: datetime | None) -> list[AsRunRow] | None:
    """The rows a running daemon holds back from SQLite, scheduled in [start, end); None when no
    daemon runs for `state_dir` or it does not answer (then the journal is read instead)."""
    from broadcaster.onair.control import ask_daemon

    request = {"cmd": "pending", "from": start.isoformat() if start else None, "to": end.isoformat() if end else None}
    try:
        reply = ask_daemon(state_dir, request, patience=DAEMON_PATIENCE)
        if reply is not None and not reply.get("ok"):
            raise OnAirError(str(reply.get("error")))
    except OnAirError as exc:
        click.echo(i18n.tr("history.no_pending", detail=exc), err=True)
        return None
    return None if reply is None else [AsRunRow.from_json(item) for item in reply.get("rows", [])]


def to_csv(rows: list[AsRunRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        record = row.to_json()
        record["bulletins"] = " ".join(record["bulletins"])
        record["pending"] = "1" if row.pending else None
        writer.writerow({key: "" if record[key] is None else record[key] for key in CSV_FIELDS})
    return buffer.getvalue()


@cli.command()
@schedule_option
@click.option("--from", "first_day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (YYYY-MM-DD, station time).")
@click.option("--to", "last_day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day, included (YYYY-MM-DD, station time).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8, header row) for the paperwork.")
def history(schedule_path: Path, first_day: datetime | None, last_day: datetime | None,
            as_json: bool, as_csv: bool) -> int:
    """Show what aired: scheduled time, real start and end, status, voice, errors."""
    if as_json and as_csv:
        raise click.UsageError(i18n.tr("history.one_format"))
    if first_day and last_day and first_day > last_day:
        raise click.UsageError(i18n.tr("history.bad_range", first=first_day.date(), last=last_day.date()))
    station = load_station(schedule_path)      # the log needs no bulletin read or checked
    zone = station.timezone
    start = datetime.combine(first_day.date(), time(), tzinfo=zone) if first_day else None
    end = datetime.combine(last_day.date() + timedelta(days=1), time(), tzinfo=zone) if last_day else None
    waiting = daemon_pending(station.state_dir, start, end)
    rows = [in_zone(row, zone) for row in read_history(log_path(station.state_dir), start, end, waiting)]
    if as_json:
        click.echo(json.dumps([row.to_json() for row in rows], ensure_ascii=False, indent=2))
        return 0
    if as_csv:
        click.echo(to_csv(rows), nl=False)
        return 0
    if not rows:
        click.echo(i18n.tr("history.empty"))
        return 0
    table = Table(title=i18n.tr("history.title", station=station.name))
    for column in ("scheduled", "slot", "bulletins", "started", "ended", "status", "attempts", "engine", "error",
                   "note"):
        table.add_column(i18n.tr(f"history.col.{column}"))
    for row in rows:
        status = i18n.tr(f"status.{row.status.value}")
        table.add_row(
            row.scheduled.strftime("%d/%m/%Y %H:%M:%S"), row.slot, ", ".join(row.bulletins),
            _clock(row.started), _clock(row.ended),
            i18n.tr("history.pending", status=status) if row.pending else status, str(row.attempts),
            row.engine or "", row.error or "", row.note or "", style=STYLES.get(row.status))
    console().print(table)
    return 0


def _clock(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
