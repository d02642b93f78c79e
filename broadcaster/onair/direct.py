"""The last resort: a programme whose render failed airs straight from its parts, with no file written.

Where it sits: between the playout (which asks for it when an entry's render failed or was not
ready) and the output, which plays the `Chain` source it opens like any programme, with the same
priorities and cut-ins. In: the entry's bulletins, the schedule, why the render failed. Out: a
`RenderResult` without a file whose `parts` opens the programme afresh for each try on air.

Each reading of each bulletin, in the order the programme stage lays them out (pauses and the
"Xin nhắc lại" bridge between readings; no jingles):
- a recording (`audio:`): decoded by ffmpeg straight into the air;
- a text whose speech is in the speech cache (the state folder's, read even on a full or
  read-only disk, or the one in memory): that speech, in the voice that spoke it (Google's,
  when it did);
- any other text: eSpeak NG speaking it to its stdout, piped into the air, as it speaks.
Recordings and cached speech go through ffmpeg's live levelling (the relay's: horn voicing,
one-pass `loudnorm` to the station's loudness, a limiter), since a phone recording may be 30 dB
off; when that ffmpeg gives no sound (ffmpeg or its filters may be what failed) the file airs
as it is (a recording decoded plainly, cached speech read in Python). eSpeak NG's own level is
steady and airs as it is. Nothing here writes a file, so it works with the disk and /dev/shm
both full.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from broadcaster import i18n, wav
from broadcaster.constants import OFFLINE_ENGINE, TRAILING_SILENCE
from broadcaster.errors import OnAirError, OutputError
from broadcaster.onair.render import RenderResult
from broadcaster.output.pipe import PipeSource
from broadcaster.output.relay import filter_chain
from broadcaster.output.source import Chain, Part, Primed, Source, WavSource
from broadcaster.programme.builder import RECORDING_ENGINE
from broadcaster.schedule.model import Bulletin, Schedule
from broadcaster.speech.espeak import EspeakEngine

log = logging.getLogger(__name__)

RATE = 48_000           # the air's rate: the switch and its followers run at it

i18n.register({
    "onair.aired_from_parts": (
        "không dựng được chương trình ({reason}); phát thẳng từng phần, không nhạc hiệu: {parts}",
        "the programme could not be rendered ({reason}); its parts aired straight, without jingles: {parts}"),
    "onair.part_recording": ("bản ghi", "recording"),
    "onair.part_cached": ("giọng {engine} đã lưu", "cached {engine} speech"),
    "onair.part_espeak": ("giọng ngoại tuyến đọc trực tiếp", "offline voice read live"),
    "onair.nothing_to_air": ("không có gì để phát", "nothing to air"),
})


def decode_command(path: Path, rate: int = RATE) -> list[str]:
    """ffmpeg: any recording -> float32 mono at `rate` on stdout, nothing else (no filters to fail)."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-vn",
            "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]


def levelled_command(path: Path, loudness: float, voicing: str, rate: int = RATE) -> list[str]:
    """ffmpeg: a file -> voiced and levelled live to `loudness` LUFS, float32 mono at `rate` on stdout."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-vn",
            "-af", filter_chain(loudness, voicing, rate), "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]


def _levelled(path: Path, schedule: Schedule, as_it_is: Callable[[], Source]) -> Callable[[], Source]:
    """A part that airs `path` levelled by ffmpeg, or `as_it_is` when that gives no sound."""
    station = schedule.station

    def opened() -> Source:
        try:
            levelled = PipeSource(levelled_command(path, station.loudness, station.voicing), rate=RATE)
            first = levelled.read(RATE // 10)
        except OutputError as exc:
            log.warning("%s cannot be levelled (%s): it airs as it is", path, exc)
        else:
            if len(first):
                return Primed(levelled, first)
            levelled.close()
            log.warning("%s cannot be levelled by ffmpeg: it airs as it is", path)
        return as_it_is()
    return opened


class _Texts:
    """Finds a text's cached speech and speaks the rest live; built once per programme."""

    def __init__(self, schedule: Schedule, read_from: Sequence[Path]) -> None:
        from broadcaster.speech.speaker import make_normalizer, speaker_for
        from broadcaster.text import Normalizer

        self.schedule = schedule
        self.espeak = EspeakEngine.from_settings(schedule.station.speech)
        self.speaker = None
        try:
            self.speaker = speaker_for(schedule, read_from=read_from)
        except Exception as exc:  # no cache look-up then (dictionary, engine settings): the offline voice reads
            log.warning("the speech cache cannot be searched (%s): the offline voice reads every text", exc)
        try:
            self.normalize: Callable[[str], str] = make_normalizer(schedule.station.pronunciations)
        except Exception as exc:  # a broken dictionary must not silence a warning: read without it
            log.warning("the pronunciation dictionary cannot be used (%s): texts are read without it", exc)
            self.normalize = Normalizer().normalize

    def part(self, text: str) -> tuple[Part, str, float, str]:
        """The source of one text, its engine, its length if known, what it is (for the as-run note)."""
        cached = None
        if self.speaker is not None:
            try:
                cached = self.speaker.cached(text)
            except Exception as exc:  # an unreadable cache is one more reason to read live, not a silence
                log.warning("cached speech of %r cannot be read: %s", text[:60], exc)
        if cached is not None:
            path = Path(cached.path)
            return (_levelled(path, self.schedule, lambda: WavSource(path)), cached.engine, wav.seconds(path),
                    i18n.tr("onair.part_cached", engine=cached.engine))
        try:
            spoken = self.normalize(text).encode("utf-8")
        except Exception as exc:  # the words still reach the loudspeakers, read as written
            log.warning("text %r cannot be normalized (%s): the offline voice reads it as written", text[:60], exc)
            spoken = text.encode("utf-8")
        return ((lambda: PipeSource(self.espeak.command(None), wav=True, stdin=spoken)), OFFLINE_ENGINE, 0.0,
                i18n.tr("onair.part_espeak"))


def aired_from_parts(bulletins: Sequence[Bulletin], schedule: Schedule, reason: str, *,
                     read_from: Sequence[Path] = ()) -> RenderResult:
    """The programme of `bulletins` as parts to air straight, and the row's engine and note.

    `read_from`: other state folders whose speech caches are searched too (the memory one).
    Runs in the daemon's process: it normalizes the texts and looks the cache up (milliseconds
    for a bulletin); the programs start only when the air reaches their part.
    """
    settings = schedule.station.programme
    texts = _Texts(schedule, read_from)
    parts: list[Part] = []
    engines: list[str] = []
    kinds: list[str] = []
    seconds = 0.0
    bridge = None
    for index, bulletin in enumerate(bulletins):
        if index:
            parts.append(settings.pause_between_bulletins)
        if bulletin.audio is not None:
            path = Path(bulletin.audio)
            reading: Part = _levelled(path, schedule, lambda path=path: PipeSource(decode_command(path), rate=RATE))
            engine, length, kind = RECORDING_ENGINE, wav.seconds(path), i18n.tr("onair.part_recording")
        elif bulletin.text:
            reading, engine, length, kind = texts.part(bulletin.text)
        else:
            continue
        engines.append(engine)
        kinds.append(f"{bulletin.id}: {kind}")
        for number in range(max(bulletin.repeat, 1)):
            if number:
                if bridge is None:
                    bridge = texts.part(settings.repeat_bridge)
                parts += [settings.pause_between_readings, bridge[0], settings.pause_between_readings]
                seconds += bridge[2] + 2 * settings.pause_between_readings
            parts.append(reading)
            seconds += length
    if not engines:
        raise OnAirError(i18n.tr("onair.nothing_to_air"))
    note = i18n.tr("onair.aired_from_parts", reason=reason, parts="; ".join(kinds))

    def opened() -> Source:
        return Chain(parts, rate=RATE, pad_seconds=TRAILING_SILENCE)

    return RenderResult(None, seconds, "+".join(dict.fromkeys(engines)), note, parts=opened)
