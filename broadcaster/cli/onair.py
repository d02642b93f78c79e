"""`run`, `play` and `emergency`: the station daemon and the desk's ways to put something on air now.

`run` keeps the station on air until SIGTERM/SIGINT. `play` and `emergency` go through the
running daemon's control socket whenever a daemon holds the station's lock (so they queue or
cut in by priority; a busy daemon is asked again, never played over), and render and play in
this process only when no daemon runs.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import click

from broadcaster import i18n
from broadcaster.cli.app import cli, log_in_zone, schedule_option, setup_logging
from broadcaster.errors import OnAirError, ScheduleError
from broadcaster.health.checks import ScheduleSource, schedule_in_force
from broadcaster.schedule import Schedule, Station, load_schedule, load_station

log = logging.getLogger(__name__)

i18n.register({
    "onair.cli.via_daemon": ("Đã gửi tới chương trình phát thanh đang chạy: {message}",
                             "Sent to the running station daemon: {message}"),
    "onair.cli.output_ignored": ("--output bị bỏ qua: chương trình phát thanh đang chạy dùng đầu ra của nó.",
                                 "--output ignored: the running daemon uses its own output."),
    "onair.cli.direct": ("Không có chương trình phát thanh đang chạy: phát trực tiếp.",
                         "No station daemon running: playing directly."),
    "onair.cli.row": ("{slot} ({key}): {status}{engine}{error}", "{slot} ({key}): {status}{engine}{error}"),
    "onair.cli.not_aired": ("Không phát được {key}.", "{key} did not air."),
    "onair.cli.last_good": (
        "Lịch phát có lỗi (xem trên): đài vẫn phát theo lịch đúng gần nhất ({path}) cho tới khi lịch được sửa.",
        "The schedule has errors (above): the station airs the last good schedule ({path}) until it is fixed."),
})


def output_option(func):
    return click.option("--output", "output_spec", default=None, metavar="SPEC",
                        help="Sound device (name or number), 'default', or file:DIR; overrides station.output.")(func)


@cli.command()
@schedule_option
@output_option
@click.pass_obj
def run(obj, schedule_path: Path, output_spec: str | None) -> int:
    """Keep the station on air: pre-render, play each slot on time, log every airing."""
    from broadcaster.onair.daemon import Station

    setup_logging(logging.INFO, obj.verbose)
    schedule, source = schedule_and_source(schedule_path)
    log_in_zone(schedule.station.timezone)
    station = Station(schedule, output=output_spec, speech_ahead=True, source=source)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    station.start()
    desk = start_desk(schedule_path, schedule.station.desk_listen)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        if desk is not None:
            desk.stop()
        station.stop()
    return 0


def start_desk(schedule_path: Path, listen: str | None):
    """The operator desk in its own supervised process (None when `station.desk: false`)."""
    from broadcaster.desk.supervisor import DeskSupervisor

    if listen is None:
        log.info("%s", i18n.tr("desk.cli.off"))
        return None
    supervisor = DeskSupervisor(schedule_path, listen, lang=i18n.language())
    supervisor.start()
    return supervisor


def schedule_to_air(schedule_path: Path) -> Schedule:
    """schedule.yaml, or, when it has errors, the last schedule that validated: never silence."""
    return schedule_and_source(schedule_path)[0]


def schedule_and_source(schedule_path: Path) -> tuple[Schedule, ScheduleSource]:
    """`schedule_to_air`, and which it is (with the errors keeping the file out) for the health check.

    Also says which it is (and the errors keeping the file out) for the `schedule` health check.
    """
    from broadcaster.schedule.snapshot import snapshot_path

    schedule, source, problems = schedule_in_force(schedule_path)
    if schedule is None:
        raise ScheduleError(problems)
    if source.in_force == "last-good":
        for problem in problems:
            log.error("%s", problem.format())
        log.error("%s", i18n.tr("onair.cli.last_good", path=snapshot_path(schedule_path)))
    return schedule, source


def _station_of(schedule_path: Path) -> Station:
    """The station settings a desk command needs; from the last good schedule when the file is broken."""
    from broadcaster.schedule.snapshot import load_snapshot

    try:
        return load_station(schedule_path)
    except ScheduleError:
        last_good = load_snapshot(schedule_path)
        if last_good is None:
            raise
        return last_good.station


def _send_or_direct(obj, schedule_path: Path, output_spec: str | None, request: dict, resolve,
                    needs_schedule: bool) -> int:
    """Through the running daemon when one holds the station's lock, else play in this process.

    Only the station settings are read first: the daemon resolves the request against the
    schedule it has in force. A daemon that is running but does not answer is an error, never
    a reason to play on top of it.
    """
    from broadcaster.onair.control import ask_daemon
    from broadcaster.onair.daemon import play_direct

    station = _station_of(schedule_path)
    reply = ask_daemon(station.state_dir, request)
    if reply is not None:
        if output_spec:
            click.echo(i18n.tr("onair.cli.output_ignored"), err=True)
        if not reply.get("ok"):
            raise OnAirError(str(reply.get("error")))
        click.echo(i18n.tr("onair.cli.via_daemon", message=reply.get("message", reply.get("key"))))
        return 0
    if needs_schedule:
        schedule = load_schedule(schedule_path, check_texts=False)
    else:
        schedule = Schedule(path=Path(schedule_path).absolute(), station=station, bulletins={}, slots=())
    resolved = resolve(schedule)        # an unknown name is refused before anything starts
    setup_logging(logging.INFO, obj.verbose, zone=station.timezone)
    click.echo(i18n.tr("onair.cli.direct"), err=True)
    rows = play_direct(schedule, resolved, output=output_spec)
    for row in rows:
        click.echo(i18n.tr("onair.cli.row", slot=row.slot, key=row.key, status=row.status.value,
                           engine=f" [{row.engine}]" if row.engine else "",
                           error=f" — {row.error}" if row.error else ""))
    if not rows or rows[-1].status.value not in ("played", "late"):
        raise OnAirError(i18n.tr("onair.cli.not_aired", key=rows[-1].key if rows else "?"))
    return 0


@cli.command()
@click.argument("target")
@schedule_option
@output_option
@click.pass_obj
def play(obj, target: str, schedule_path: Path, output_spec: str | None) -> int:
    """Air a bulletin or a whole slot now (queued behind, or cutting in, by its priority)."""
    from broadcaster.onair.requests import resolve_play

    return _send_or_direct(obj, schedule_path, output_spec, {"cmd": "play", "target": target},
                           lambda schedule: resolve_play(schedule, target), needs_schedule=True)


@cli.command()
@click.argument("text", required=False)
@click.option("--bulletin", "bulletin_id", default=None, help="Air this bulletin of schedule.yaml as an emergency.")
@click.option("--title", default=None, help="Title of an ad-hoc emergency text.")
@schedule_option
@output_option
@click.pass_obj
def emergency(obj, text: str | None, bulletin_id: str | None, title: str | None, schedule_path: Path,
              output_spec: str | None) -> int:
    """Air an emergency now: cuts in on whatever plays, which then airs again from its start."""
    from datetime import datetime

    from broadcaster.onair.requests import resolve_emergency

    if not text and not bulletin_id:
        raise OnAirError(i18n.tr("onair.empty_emergency"))
    request = {"cmd": "emergency", "text": text, "bulletin": bulletin_id, "title": title}
    return _send_or_direct(
        obj, schedule_path, output_spec, request,
        lambda schedule: resolve_emergency(schedule, text=text, bulletin=bulletin_id, title=title,
                                           now=datetime.now(schedule.station.timezone)),
        needs_schedule=bool(bulletin_id))
