"""`render`: write exactly what would air, for one bulletin, one slot, or a whole day.

In: schedule.yaml, a bulletin id or slot name (or `--date`), an output path. Out: programme WAVs
(48 kHz 16-bit mono) and one line per file with its loudness, true peak and speech engine.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from broadcaster import i18n
from broadcaster.cli.app import cli, schedule_option
from broadcaster.errors import ProgrammeError
from broadcaster.occurrences import occurrences
from broadcaster.output.base import ascii_fold
from broadcaster.programme import Programme, ProgrammeBuilder
from broadcaster.schedule import load_schedule
from broadcaster.speech import speaker_for

i18n.register({
    "render.usage": (
        "Cần đúng một trong hai: mã bản tin/tên khung giờ, hoặc --date.",
        "Give exactly one of: a bulletin id or slot name, or --date.",
    ),
    "render.unknown": (
        "'{name}' không phải mã bản tin hay tên khung giờ nào trong {path}.",
        "'{name}' is neither a bulletin id nor a slot name in {path}.",
    ),
    "render.bad_date": (
        "Ngày '{value}' không hợp lệ; viết theo dạng YYYY-MM-DD.",
        "The date '{value}' is not valid; write it as YYYY-MM-DD.",
    ),
    "render.nothing": (
        "Không có buổi phát nào trong ngày {day}.",
        "Nothing airs on {day}.",
    ),
    "render.line": (
        "{path}: {duration:.1f} giây, {loudness:.1f} LUFS, đỉnh {peak:.1f} dBTP, giọng {engines}{fallback}",
        "{path}: {duration:.1f} s, {loudness:.1f} LUFS, peak {peak:.1f} dBTP, voice {engines}{fallback}",
    ),
    "render.fallback": (" (giọng dự phòng: {reasons})", " (fallback voice: {reasons})"),
    "render.progress": ("Đang dựng chương trình", "Rendering programmes"),
})


def slug(name: str) -> str:
    """A file-name-safe ASCII form of a slot name ("Bản tin sáng" -> "ban-tin-sang")."""
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(name).lower()).strip("-") or "slot"


def _report(programme: Programme) -> str:
    fallback = (i18n.tr("render.fallback", reasons="; ".join(programme.fallback_reasons))
                if programme.fallback_reasons else "")
    return i18n.tr("render.line", path=programme.path, duration=programme.duration,
                   loudness=programme.loudness, peak=programme.true_peak,
                   engines=", ".join(programme.engines) or "-", fallback=fallback)


@cli.command()
@click.argument("name", required=False)
@schedule_option
@click.option("--date", "day", help="Render every broadcast of this day (YYYY-MM-DD) into --out DIR.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="The WAV file to write (a folder with --date).")
def render(name: str | None, schedule_path: Path, day: str | None, out: Path) -> int:
    """Render BULLETIN_OR_SLOT (or a whole --date) exactly as it would air."""
    if (name is None) == (day is None):
        raise ProgrammeError(i18n.tr("render.usage"))
    schedule = load_schedule(schedule_path)
    builder = ProgrammeBuilder(schedule, speaker_for(schedule))
    if name is not None:
        if name in schedule.bulletins:
            programme = builder.render([schedule.bulletins[name]], out, title=name)
        else:
            try:
                slot = schedule.slot(name)
            except KeyError:
                raise ProgrammeError(i18n.tr("render.unknown", name=name,
                                             path=schedule_path)) from None
            programme = builder.render_slot(slot, out)
        click.echo(_report(programme))
        return 0
    try:
        first = date.fromisoformat(day)
    except ValueError:
        raise ProgrammeError(i18n.tr("render.bad_date", value=day)) from None
    zone = schedule.station.timezone
    start = datetime.combine(first, time(0), tzinfo=zone)
    broadcasts = occurrences(schedule, start, start + timedelta(days=1))
    if not broadcasts:
        click.echo(i18n.tr("render.nothing", day=first))
        return 0
    lines = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task(i18n.tr("render.progress"), total=len(broadcasts))
        for occurrence in broadcasts:
            stamp = occurrence.start.astimezone(zone).strftime("%H%M%S")
            target = out / f"{stamp}-{slug(occurrence.slot.name)}.wav"
            bulletins = [schedule.bulletins[b] for b in occurrence.bulletins]
            programme = builder.render(bulletins, target, title=occurrence.key)
            lines.append(_report(programme))
            progress.advance(task)
    for line in lines:
        click.echo(line)
    return 0
