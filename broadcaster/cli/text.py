"""`broadcaster normalize`: show the spoken form of a bulletin, or what cannot be read in it.

A thin shell over `broadcaster.text`: reads a file or stdin, prints one line out per line in,
or with `--check` one `FILE:LINE:COL: token — reason` line per finding (exit 1 if any).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from broadcaster import i18n
from broadcaster.cli.app import cli
from broadcaster.errors import ScheduleError, TextError
from broadcaster.schedule import load_station
from broadcaster.text import Normalizer, load_dictionary

i18n.register({
    "text.cli.not_found": ("không tìm thấy tệp văn bản: {path}", "text file not found: {path}"),
    "text.cli.unreadable": ("không đọc được tệp văn bản {path}: {detail}", "cannot read the text file {path}: {detail}"),
    "text.cli.no_dictionary": ("lịch phát {path} không khai báo station.pronunciations",
                               "the schedule {path} names no station.pronunciations"),
})

STDIN = "-"


def _read(source: str) -> str:
    if source == STDIN:
        return sys.stdin.read()
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise TextError(i18n.tr("text.cli.not_found", path=path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TextError(i18n.tr("text.cli.unreadable", path=path, detail=exc)) from exc


def _overrides(dictionary: Path | None, schedule: Path | None) -> dict[str, str]:
    """Entries of the schedule's dictionary, then of `--dictionary`, which wins."""
    overrides: dict[str, str] = {}
    if schedule is not None:
        station = load_station(schedule)        # only the dictionary's name: bulletins are not read
        if station.pronunciations is None:
            raise TextError(i18n.tr("text.cli.no_dictionary", path=schedule))
        dictionary_paths = [station.pronunciations]
    else:
        dictionary_paths = []
    if dictionary is not None:
        dictionary_paths.append(dictionary)
    for path in dictionary_paths:
        entries, problems = load_dictionary(path)
        if problems:
            raise ScheduleError(problems)
        overrides.update(entries)
    return overrides


@cli.command("normalize")
@click.argument("source", default=STDIN, metavar="[FILE|-]")
@click.option("--check", is_flag=True, help="List what cannot be read confidently instead (exit 1 if any).")
@click.option("--dictionary", type=click.Path(path_type=Path, dir_okay=False),
              help="A station pronunciation dictionary (YAML: written form: reading).")
@click.option("--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Use the dictionary named by this schedule's station.pronunciations.")
def normalize_command(source: str, check: bool, dictionary: Path | None, schedule_path: Path | None) -> int:
    """Print the spoken form of FILE (stdin by default), one output line per input line."""
    normalizer = Normalizer(_overrides(dictionary, schedule_path))
    text = _read(source)
    if check:
        label = "<stdin>" if source == STDIN else source
        findings = normalizer.check(text)
        for finding in findings:
            click.echo(f"{label}:{finding.line}:{finding.column}: {finding.token} — {finding.reason}")
        return 1 if findings else 0
    spoken = normalizer.normalize(text)
    click.echo(spoken if spoken.endswith("\n") else spoken + "\n", nl=False)
    return 0
