"""Command-line entry point: a thin shell over the stages.

`main()` is the only place that prints errors: one line each, exit code 1, a traceback only
with `-v`. Everything below it raises `BroadcasterError` subclasses and stays testable.
"""

from __future__ import annotations

import logging
import sys

import click

from broadcaster.cli.app import cli
from broadcaster.errors import BroadcasterError, ScheduleError

# Each import attaches that stage's commands to `cli`.
from broadcaster.cli import schedule as _schedule  # noqa: F401,E402
from broadcaster.cli import output as _output  # noqa: F401,E402
from broadcaster.cli import asrun as _asrun  # noqa: F401,E402
from broadcaster.cli import programme as _programme  # noqa: F401,E402
from broadcaster.cli import text as _text  # noqa: F401,E402
from broadcaster.cli import onair as _onair  # noqa: F401,E402
from broadcaster.cli import speech as _speech  # noqa: F401,E402
from broadcaster.cli import report as _report  # noqa: F401,E402
from broadcaster.cli import health as _health  # noqa: F401,E402
from broadcaster.cli import desk as _desk  # noqa: F401,E402

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    verbose = any(a in ("-v", "-vv", "--verbose") for a in (argv if argv is not None else sys.argv[1:]))
    try:
        result = cli.main(args=argv, prog_name="broadcaster", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except ScheduleError as exc:
        for problem in exc.problems:
            click.echo(problem.format(), err=True)
        if verbose:
            raise
        return 1
    except BroadcasterError as exc:
        click.echo(f"broadcaster: {exc}", err=True)
        if verbose:
            raise
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so in one line; the traceback is for -v
        click.echo(f"broadcaster: internal error: {exc!r} (run with -v for details)", err=True)
        if verbose:
            raise
        return 2
    return result if isinstance(result, int) else 0
