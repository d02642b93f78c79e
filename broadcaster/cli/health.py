"""`status`: is the station healthy, and will the next broadcast air? For people and for monitoring.

Asks the running daemon over the control socket; with no daemon running, runs the checks in
this process. Exit code 0 ok, 1 warning, 2 failing, so systemd timers and Nagios/Icinga-style
checks can use it as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table

from broadcaster import i18n
from broadcaster.cli.app import cli, console, schedule_option
from broadcaster.errors import OnAirError
from broadcaster.health import CheckStatus, Monitor, ScheduleSource, State, StateTracker, load_for_status
from broadcaster.health.checks import station_outputs
from broadcaster.health.watch import STORE_NAME
from broadcaster.schedule.model import Schedule

DAEMON_PATIENCE = 10.0      # seconds a busy daemon gets to answer before `status` calls it failing

i18n.register({
    "status.title": ("Tình trạng đài: {state}", "Station health: {state}"),
    "status.col.check": ("Kiểm tra", "Check"),
    "status.col.state": ("Trạng thái", "State"),
    "status.col.message": ("Chi tiết", "Details"),
    "status.col.since": ("Từ lúc", "Since"),
    "status.state.ok": ("tốt", "ok"),
    "status.state.warning": ("cảnh báo", "warning"),
    "status.state.failing": ("hỏng", "failing"),
    "status.on_air": ("Đang phát: {what}", "On air: {what}"),
    "status.nothing_on_air": ("Đang phát: không có", "On air: nothing"),
    "status.next": ("Buổi phát tới: {slot} lúc {start}{rendered}", "Next broadcast: {slot} at {start}{rendered}"),
    "status.next.rendered": (" (đã dựng)", " (rendered)"),
    "status.next.not_rendered": (" (chưa dựng)", " (not rendered yet)"),
    "status.source.daemon": ("(từ chương trình phát thanh đang chạy)", "(from the running daemon)"),
    "status.source.direct": ("(chương trình phát thanh không chạy: kiểm tra trực tiếp)",
                             "(no daemon running: checked directly)"),
})


def direct_report(schedule: Schedule | None, source: ScheduleSource, *,
                  clock: Callable[[], datetime] | None = None, outputs: bool = True) -> dict:
    """The status report computed in this process: every check, outputs included."""
    tz = schedule.station.timezone if schedule is not None else None
    clock = clock or (lambda: datetime.now(tz).astimezone(tz))
    store = schedule.station.state_dir / STORE_NAME if schedule is not None else None
    if store is not None and not store.parent.is_dir():
        store = None
    specs = station_outputs(schedule.station) if schedule is not None and outputs else []
    monitor = Monitor(schedule, source, outputs=specs, clock=clock, tracker=StateTracker(clock, store=store))
    monitor.check_all()
    report = monitor.report(on_air=None)
    report["schedule_version"] = schedule.version if schedule is not None else None
    return report


def silent_daemon_report(schedule: Schedule, source: ScheduleSource, error: str) -> dict:
    """A daemon runs but does not answer: that is failing; the other checks run here, outputs
    excepted (the daemon holds them)."""
    report = direct_report(schedule, source, outputs=False)
    report["checks"].insert(0, CheckStatus("daemon", State.FAILING, error, datetime.now().astimezone()).to_json())
    report["state"] = State.FAILING.label
    return report


def daemon_report(schedule: Schedule | None) -> dict | None:
    """The running daemon's status reply; None when no daemon runs for this state folder.

    A daemon that holds its lock but does not answer raises OnAirError (a hung daemon is a fault).
    """
    from broadcaster.onair.control import ask_daemon

    if schedule is None:
        return None
    reply = ask_daemon(schedule.station.state_dir, {"cmd": "status"}, patience=DAEMON_PATIENCE)
    if reply is None:
        return None
    if not reply.get("ok"):
        raise OnAirError(str(reply.get("error")))
    reply.pop("ok", None)
    return reply


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@schedule_option
def status(as_json: bool, schedule_path: Path) -> int:
    """Station health: every check, what is on air, the next broadcast. Exit 0 ok, 1 warning, 2 failing."""
    schedule, source = load_for_status(schedule_path)
    try:
        report = daemon_report(schedule)
    except OnAirError as exc:
        report = silent_daemon_report(schedule, source, str(exc))
    via_daemon = report is not None and "checks" in report
    if not via_daemon:
        report = direct_report(schedule, source)
    state = State.parse(report["state"])
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return int(state)
    table = Table(title=i18n.tr("status.title", state=i18n.tr(f"status.state.{state.label}")),
                  caption=i18n.tr("status.source.daemon" if via_daemon else "status.source.direct"))
    for column in ("check", "state", "message", "since"):
        table.add_column(i18n.tr(f"status.col.{column}"), overflow="fold")
    styles = {"ok": "green", "warning": "yellow", "failing": "bold red"}
    for check in report["checks"]:
        table.add_row(check["name"], i18n.tr(f"status.state.{check['state']}"), check["message"],
                      check["since"], style=styles.get(check["state"]))
    out = console()
    out.print(table)
    on_air = report.get("on_air")
    out.print(i18n.tr("status.on_air", what=on_air.get("key")) if on_air else i18n.tr("status.nothing_on_air"),
              markup=False)
    upcoming = report.get("next")
    if upcoming:
        rendered = i18n.tr("status.next.rendered" if upcoming.get("rendered") else "status.next.not_rendered")
        out.print(i18n.tr("status.next", slot=upcoming["slot"], start=upcoming["start"], rendered=rendered),
                  markup=False)
    return int(state)
