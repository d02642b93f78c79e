"""`say`: speak a text or a bulletin to a file, so the operator listens before it goes on air.

Thin shell over `broadcaster.speech`: same normalizer, engine chain and render cache as the
station. With `--schedule` (or `--bulletin`, which needs one) the station's settings, dictionary
and cache (`state_dir/cache/speech`) are used; a bare `say "text"` uses default settings and the
cache in `./var/cache/speech`, which is where a station whose schedule.yaml sits in the current
folder keeps its cache too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import click

from broadcaster import i18n, wav
from broadcaster.cli.app import cli
from broadcaster.errors import SpeechError
from broadcaster.schedule import load_schedule
from broadcaster.speech import messages as _messages  # noqa: F401
from broadcaster.occurrences import occurrences
from broadcaster.speech.ahead import broadcast_voice
from broadcaster.speech.speaker import ENGINES, default_speaker, speaker_for, voice_label

DEFAULT_CACHE = Path("var") / "cache" / "speech"
UPCOMING_SHOWN = 5          # upcoming broadcasts `say --bulletin` lists with their voice

i18n.register({
    "say.upcoming": ("Sắp phát {when} ({slot}): {voice}", "Airs {when} ({slot}): {voice}"),
    "say.no_upcoming": ("Bản tin này không phát trong {days} ngày tới.",
                        "This bulletin does not air in the next {days} days."),
})


@cli.command()
@click.argument("text", required=False)
@click.option("-o", "--output", "output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the speech: .wav (or any format ffmpeg writes, by its suffix).")
@click.option("--engine", "engines", type=click.Choice(list(ENGINES)), multiple=True,
              help="Speak with this engine only (repeat for a chain). Default: the station's chain.")
@click.option("--bulletin", "bulletin_id", help="Speak this bulletin of the schedule instead of TEXT.")
@click.option("--schedule", "schedule_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The station's schedule file (default with --bulletin: ./schedule.yaml).")
def say(text: str | None, output: Path, engines: tuple[str, ...], bulletin_id: str | None,
        schedule_path: Path | None) -> int:
    """Speak TEXT (or --bulletin ID) into a file and tell which engine spoke."""
    if text is not None and bulletin_id is not None:
        raise click.UsageError(i18n.tr("say.text_and_bulletin"))
    if text is None and bulletin_id is None:
        raise click.UsageError(i18n.tr("say.need_text"))
    chain = list(engines) or None
    if bulletin_id is not None or schedule_path is not None:
        path = schedule_path or Path("schedule.yaml")
        schedule = load_schedule(path, check_texts=False)     # warnings are validate's to show
        speaker = speaker_for(schedule, chain)
        if bulletin_id is not None:
            text = _bulletin_text(schedule, bulletin_id, path)
            _show_upcoming(schedule, speaker, bulletin_id)
    else:
        speaker = default_speaker(DEFAULT_CACHE, chain)
    speech = speaker.speak(text)
    _write(speech.path, output)
    click.echo(i18n.tr("say.spoke", engine=speech.engine, path=output, seconds=wav.seconds(speech.path)))
    if speech.fallback_reason:
        click.echo(i18n.tr("say.fallback", reason=speech.fallback_reason))
    return 0


def _show_upcoming(schedule, speaker, bulletin_id: str) -> None:
    """Before speaking: the bulletin's next broadcasts and the voice each would air in right now."""
    zone = schedule.station.timezone
    now = datetime.now(zone)
    days = max(7.0, schedule.station.speech.ahead)
    upcoming = [o for o in occurrences(schedule, now, now + timedelta(days=days)) if bulletin_id in o.bulletins]
    if not upcoming:
        click.echo(i18n.tr("say.no_upcoming", days=f"{days:g}"))
        return
    memo: dict = {}
    for occurrence in upcoming[:UPCOMING_SHOWN]:
        voice = broadcast_voice(speaker, schedule, occurrence.bulletins, memo)
        click.echo(i18n.tr("say.upcoming", when=occurrence.start.strftime("%d/%m/%Y %H:%M"),
                           slot=occurrence.slot.name, voice=voice_label(voice, why=True)))


def _bulletin_text(schedule, bulletin_id: str, path: Path) -> str:
    bulletin = schedule.bulletins.get(bulletin_id)
    if bulletin is None:
        raise SpeechError(i18n.tr("say.unknown_bulletin", id=bulletin_id, path=path,
                                  known=", ".join(sorted(schedule.bulletins))))
    if bulletin.text is None:
        raise SpeechError(i18n.tr("say.audio_bulletin", id=bulletin_id, audio=bulletin.audio))
    return bulletin.text


def _write(source: Path, output: Path) -> None:
    """Copy (or convert, for a non-WAV suffix) to `output` through a temp file and a rename."""
    folder = output.resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=output.suffix or ".wav", dir=folder)
        os.fchmod(handle, 0o644)
        os.close(handle)
    except OSError as exc:
        raise SpeechError(i18n.tr("say.output_failed", path=output, error=exc)) from exc
    tmp = Path(name)
    try:
        if output.suffix.lower() in ("", ".wav"):
            shutil.copyfile(source, tmp)
        else:
            ffmpeg = shutil.which("ffmpeg")
            if ffmpeg is None:
                raise SpeechError(i18n.tr("speech.ffmpeg.missing"))
            result = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(source), str(tmp)],
                                    capture_output=True, timeout=300, check=False)
            if result.returncode != 0:
                error = result.stderr.decode("utf-8", "replace").strip()
                raise SpeechError(i18n.tr("say.output_failed", path=output, error=error))
        os.replace(tmp, output)
    except OSError as exc:
        raise SpeechError(i18n.tr("say.output_failed", path=output, error=exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)
