"""Bulletins + speech + jingles -> one programme WAV at the station's loudness, ready to air.

Where it sits: after the speech stage, before output/onair. In: the schedule (station jingles,
pauses, loudness, voicing), a `Speaker`, and the bulletins of one slot. Out: a 48 kHz 16-bit mono
WAV written atomically, and a `Programme` saying how long it is, who spoke it and how loud it is.

The layout of one bulletin:
    [intro jingle] pause [reading] (pause ["Xin nhắc lại"] pause [reading]) x (repeat-1)
    pause [outro jingle]
An emergency bulletin opens with the "alert" jingle and an attention tone instead of the intro.
Every distinct file is prepared once (voiced, levelled, limited: see `element`) and written
straight into the WAV at each place it airs; the programme's loudness is computed from the elements'
K-weighted energies, without reading the hour back.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcaster import i18n, wav
from broadcaster.constants import TRAILING_SILENCE, VOICINGS
from broadcaster.errors import ProgrammeError
from broadcaster.programme import element as elements
from broadcaster.programme.meter import FRAME, RATE, integrated
from broadcaster.schedule.model import NO_JINGLE, Bulletin, Priority, Schedule, Slot
from broadcaster.speech.base import Speaker

log = logging.getLogger(__name__)

WORKERS = min(2, os.cpu_count() or 1)
ATTENTION_TONE_HZ = (853.0, 960.0)   # the two-tone attention signal used by broadcast alerts
ATTENTION_TONE_SECONDS = 2.0
RECORDING_ENGINE = "audio"  # `engines` entry for a bulletin given as a recorded file

i18n.register({
    "programme.unknown_jingle": (
        "Bản tin {bulletin}: không có nhạc hiệu tên '{name}' trong station.jingles.",
        "Bulletin {bulletin}: there is no jingle named '{name}' in station.jingles.",
    ),
    "programme.unknown_bulletin": (
        "Khung giờ {slot}: không có bản tin '{bulletin}' trong lịch.",
        "Slot {slot}: there is no bulletin '{bulletin}' in the schedule.",
    ),
    "programme.no_content": (
        "Bản tin {bulletin} không có nội dung (cần text hoặc audio).",
        "Bulletin {bulletin} has nothing to air (it needs text or audio).",
    ),
    "programme.no_bulletins": (
        "Không có bản tin nào để dựng chương trình.",
        "There are no bulletins to build a programme from.",
    ),
    "programme.bad_voicing": (
        "station.voicing '{voicing}' không hợp lệ; chọn horn hoặc flat.",
        "station.voicing '{voicing}' is not valid; choose horn or flat.",
    ),
    "programme.write_failed": (
        "Không ghi được chương trình vào {path}: {detail}",
        "Could not write the programme to {path}: {detail}",
    ),
})


@dataclass(frozen=True)
class Programme:
    """A rendered programme file and what went into it."""

    path: Path
    duration: float                     # seconds
    engines: tuple[str, ...]            # speech engines heard, in order of first use
    fallback_reasons: tuple[str, ...]   # why a fallback voice spoke, when one did
    loudness: float                     # LUFS integrated, as rendered
    true_peak: float                    # dBTP, as rendered


@dataclass(frozen=True)
class _Audio:
    path: Path
    label: str


@dataclass(frozen=True)
class _Silence:
    seconds: float


class ProgrammeBuilder:
    """Renders bulletins of one schedule into programmes; one builder serves many renders."""

    def __init__(self, schedule: Schedule, speaker: Speaker, *, scratch: Path | None = None) -> None:
        self.schedule = schedule
        self.speaker = speaker
        self.scratch = scratch      # where the decoded elements wait (None: the system's temporary folder)

    def render_slot(self, slot: Slot, out: Path) -> Programme:
        """Render what `slot` airs: its bulletins in `slot.play` order."""
        bulletins = []
        for bulletin_id in slot.play:
            try:
                bulletins.append(self.schedule.bulletins[bulletin_id])
            except KeyError:
                raise ProgrammeError(i18n.tr("programme.unknown_bulletin", slot=slot.name,
                                             bulletin=bulletin_id)) from None
        return self.render(bulletins, out, title=slot.name)

    def render(self, bulletins: Sequence[Bulletin], out: Path, *, title: str = "") -> Programme:
        """Assemble, level and write `bulletins` as one programme to `out` (atomically)."""
        station = self.schedule.station
        if station.voicing not in VOICINGS:
            raise ProgrammeError(i18n.tr("programme.bad_voicing", voicing=station.voicing))
        if not bulletins:
            raise ProgrammeError(i18n.tr("programme.no_bulletins"))
        out = Path(out)
        if self.scratch is not None:
            self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="broadcaster-programme-", dir=self.scratch) as work:
            workdir = Path(work)
            speeches: list = []
            parts = self._layout(bulletins, workdir, speeches)
            sources = list(dict.fromkeys(p.path for p in parts if isinstance(p, _Audio)))
            # Elements are independent: ffmpeg and numpy (which releases the GIL) share the cores.
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                decoded = dict(zip(sources, pool.map(
                    lambda item: elements.decode(item[1], workdir / f"{item[0]}.f32",
                                                 target=station.loudness, voicing=station.voicing),
                    enumerate(sources))))
                # Pauses pull the gated loudness of the whole below that of its elements: shift
                # every element by the same amount, so they stay level with each other.
                predicted = integrated(np.concatenate([
                    np.zeros(_frames(part.seconds)) if isinstance(part, _Silence)
                    else decoded[part.path].energy() for part in parts]))
                offset = station.loudness - predicted
                # Where each element airs, in bytes into the WAV: repeats are written twice.
                positions: dict[Path, list[int]] = {path: [] for path in sources}
                cursor = 0
                for part in parts:
                    if isinstance(part, _Silence):
                        cursor += _frames(part.seconds) * FRAME
                    else:
                        positions[part.path].append(wav.HEADER_BYTES + 2 * cursor)
                        cursor += decoded[part.path].samples
                samples = cursor

                def air(fd: int, item: elements.Decoded) -> elements.Element:
                    # Each scratch file goes as soon as it is aired: freeing its pages then
                    # overlaps with the other worker instead of adding to the end of the render.
                    try:
                        return elements.render(item, fd, positions[item.source], offset_db=offset)
                    finally:
                        item.scratch.unlink(missing_ok=True)

                def fill(fd: int) -> dict[Path, elements.Element]:
                    return dict(zip(sources, pool.map(lambda item: air(fd, item),
                                                      decoded.values())))

                prepared = self._write(out, samples, fill)
        energy = np.concatenate([
            np.zeros(_frames(part.seconds)) if isinstance(part, _Silence)
            else prepared[part.path].frame_energy for part in parts])
        peak = max(element.true_peak for element in prepared.values())
        engines = tuple(dict.fromkeys(engine for engine, _ in speeches))
        reasons = tuple(dict.fromkeys(reason for _, reason in speeches if reason))
        programme = Programme(
            path=out, duration=samples / RATE, engines=engines, fallback_reasons=reasons,
            loudness=round(integrated(energy), 2),
            true_peak=round(20 * math.log10(peak), 2) if peak > 0 else -math.inf)
        log.info("Rendered %s to %s: %.1f s, %.1f LUFS, %.1f dBTP, engines %s",
                 title or "programme", out, programme.duration, programme.loudness,
                 programme.true_peak, ",".join(engines))
        return programme

    def _jingle(self, bulletin: Bulletin, override: str | None, default: str) -> _Audio | None:
        jingles = self.schedule.station.jingles
        if override == NO_JINGLE:
            return None
        if override is None:
            return _Audio(jingles[default], default) if default in jingles else None
        if override not in jingles:
            raise ProgrammeError(i18n.tr("programme.unknown_jingle", bulletin=bulletin.id,
                                         name=override))
        return _Audio(jingles[override], override)

    def _speak(self, text: str, speeches: list) -> _Audio:
        speech = self.speaker.speak(text)
        speeches.append((speech.engine, speech.fallback_reason))
        return _Audio(Path(speech.path), speech.engine)

    def _layout(self, bulletins: Sequence[Bulletin], workdir: Path,
                speeches: list) -> list[_Audio | _Silence]:
        """The programme as a list of audio files and pauses, speaking texts on the way."""
        settings = self.schedule.station.programme
        jingles = self.schedule.station.jingles
        parts: list[_Audio | _Silence] = []
        bridge: _Audio | None = None
        for index, bulletin in enumerate(bulletins):
            if index:
                parts.append(_Silence(settings.pause_between_bulletins))
            if bulletin.priority >= Priority.EMERGENCY:
                if "alert" in jingles:
                    parts += [_Audio(jingles["alert"], "alert"), _Silence(settings.pause_after_jingle)]
                parts += [_Audio(_attention_tone(workdir), "attention"),
                          _Silence(settings.pause_after_jingle)]
            else:
                intro = self._jingle(bulletin, bulletin.intro, "intro")
                if intro:
                    parts += [intro, _Silence(settings.pause_after_jingle)]
            if bulletin.audio is not None:
                reading = _Audio(Path(bulletin.audio), RECORDING_ENGINE)
                speeches.append((RECORDING_ENGINE, None))
            elif bulletin.text:
                reading = self._speak(bulletin.text, speeches)
            else:
                raise ProgrammeError(i18n.tr("programme.no_content", bulletin=bulletin.id))
            for reading_number in range(max(bulletin.repeat, 1)):
                if reading_number:
                    if bridge is None:
                        bridge = self._speak(settings.repeat_bridge, speeches)
                    parts += [_Silence(settings.pause_between_readings), bridge,
                              _Silence(settings.pause_between_readings)]
                parts.append(reading)
            outro = self._jingle(bulletin, bulletin.outro, "outro")
            if outro:
                parts += [_Silence(settings.pause_before_jingle), outro]
        parts.append(_Silence(TRAILING_SILENCE))
        return parts

    def _write(self, out: Path, samples: int, fill) -> dict[Path, elements.Element]:
        """Create the WAV as a temp file of silence, let `fill(fd)` write the elements into it,
        then move it over `out`; on any failure `out` is left as it was."""
        temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as handle:
                handle.write(wav.header(samples, RATE))
                handle.truncate(wav.HEADER_BYTES + 2 * samples)   # pauses stay zeros
                handle.flush()
                prepared = fill(handle.fileno())
            os.replace(temp, out)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ProgrammeError(i18n.tr("programme.write_failed", path=out, detail=exc)) from exc
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return prepared


def _frames(seconds: float) -> int:
    """A pause as whole 10 ms frames, so energies and audio stay aligned."""
    return round(seconds * RATE / FRAME)


def _attention_tone(workdir: Path) -> Path:
    """Write the attention tone (two simultaneous tones, soft ends) once per render."""
    path = workdir / "attention.wav"
    if path.exists():
        return path
    t = np.arange(int(ATTENTION_TONE_SECONDS * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * hz * t) for hz in ATTENTION_TONE_HZ) / len(ATTENTION_TONE_HZ)
    ramp = int(0.02 * RATE)
    tone[:ramp] *= np.linspace(0.0, 1.0, ramp)
    tone[-ramp:] *= np.linspace(1.0, 0.0, ramp)
    wav.write(path, np.round(tone * 0.5 * 32767).astype("<i2"), RATE)
    return path
