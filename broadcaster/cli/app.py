"""The root Click group and options shared by every command.

Commands live in one module per stage (`cli/schedule.py`, `cli/text.py`, ...) and attach
themselves to `cli`; `broadcaster.cli.main` imports them all.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path

import logging
import sys

import click

from broadcaster import __version__, i18n


class Context:
    """What the root group passes to every command."""

    def __init__(self, verbose: int) -> None:
        self.verbose = verbose


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), envvar="BROADCASTER_LANG",
              help="Language of messages: vi (default) or en.")
@click.option("-v", "--verbose", count=True, help="More log output; -v also shows tracebacks.")
@click.version_option(__version__, prog_name="broadcaster")
@click.pass_context
def cli(ctx: click.Context, lang: str | None, verbose: int) -> None:
    """broadcaster: the commune loudspeaker radio, on air and on time."""
    i18n.set_language(lang)
    ctx.obj = Context(verbose)
    if verbose:
        setup_logging(logging.INFO, verbose)
    else:
        quiet_logging()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests swap it between runs of main())."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def quiet_logging() -> None:
    """One-shot commands report results themselves and main() prints their errors: no log lines.

    Without any handler Python would print warnings a second time, raw; a handler left by an
    earlier `run` in the same process (tests call main() many times) is taken away.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    if not root.handlers:
        root.addHandler(logging.NullHandler())


class StationTimeFormatter(logging.Formatter):
    """Time stamps in station time with the offset (2023-01-16T06:00:00.012+07:00), whatever the
    machine's zone: a mini-PC left on UTC must not make the operator subtract seven hours."""

    zone: tzinfo | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone) if self.zone else \
            datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")


def setup_logging(level: int, verbose: int = 0, zone: tzinfo | None = None) -> None:
    """Log lines with timestamps to stderr (journald keeps them when systemd runs the daemon).

    `zone` (the station's time zone) may also come later, through `log_in_zone()`.
    """
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(StationTimeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if zone is not None:
        log_in_zone(zone)
    root.setLevel(logging.DEBUG if verbose > 1 else level)
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose > 1 else logging.WARNING)


def log_in_zone(zone: tzinfo) -> None:
    """Stamp this program's log lines in `zone` (the station's time zone) from now on."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _StderrHandler) and isinstance(handler.formatter, StationTimeFormatter):
            handler.formatter.zone = zone


def console():
    """A Rich console; piped or logged output gets a wide page so tables keep whole dates and times."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(soft_wrap=True)
    return Console(soft_wrap=True, width=WIDE_PAGE)


WIDE_PAGE = 200   # columns for tables written to a file or a pipe


def schedule_option(func):
    """`--schedule PATH`, defaulting to ./schedule.yaml."""
    return click.option(
        "--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
        default=Path("schedule.yaml"), show_default=True, help="The station's schedule file.",
    )(func)
