"""The validated schedule as frozen dataclasses: what every later stage reads.

Paths are absolute and already checked to exist inside the schedule's folder; texts given as
`text_file:` are already read. Nothing here touches the disk or the clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from broadcaster.constants import ENGINE_NAMES, HORN
from broadcaster.problems import Location
from broadcaster.schedule.calendar import is_public_holiday, lunar_matches

if TYPE_CHECKING:
    from broadcaster.schedule.campaigns import Campaign


class Priority(enum.IntEnum):
    """Bulletin levels of Circular 39/2020/TT-BTTTT, valued like obplayer's priority stack."""

    NORMAL = 50      # airs in its slot
    PRIORITY = 75    # goes ahead of waiting normal programmes
    EMERGENCY = 100  # cuts in at once

    @classmethod
    def parse(cls, value: str) -> "Priority":
        return cls[value.strip().upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


NO_JINGLE = "none"
DEFAULT_DESK_LISTEN = "127.0.0.1:8080"


@dataclass(frozen=True)
class SpeechSettings:
    """`station.speech`: the engine fallback chain and each engine's voice."""

    engines: tuple[str, ...] = ENGINE_NAMES
    gtts_timeout: float = 10.0          # seconds, connect and read
    gtts_retries: int = 2               # extra attempts after the first, with backoff
    espeak_voice: str = "vi"
    espeak_speed: int = 125             # words per minute; 110-130 were the clearest of four speeds tried with a recognizer
    ahead: float = 7.0                  # days ahead that bulletins are rendered in the first engine's voice


@dataclass(frozen=True)
class ProgrammeSettings:
    """`station.programme`: how bulletins are framed and paced on air."""

    repeat_bridge: str = "Xin nhắc lại"
    pause_after_jingle: float = 0.6     # seconds
    pause_between_readings: float = 1.2
    pause_between_bulletins: float = 1.5
    pause_before_jingle: float = 0.8


@dataclass(frozen=True)
class StreamSettings:
    """`station.stream`: how programmes are encoded for Icecast mounts (always mono)."""

    format: str = "mp3"                 # "mp3" (libmp3lame) or "opus" (libopus in Ogg)
    bitrate: int = 64                   # kbit/s


@dataclass(frozen=True)
class Station:
    name: str
    timezone: ZoneInfo
    state_dir: Path
    loudness: float = -16.0             # LUFS, integrated
    output: str = "default"             # device name or index, or "file:DIR"
    voicing: str = HORN                 # one of VOICINGS
    jingles: dict[str, Path] = field(default_factory=dict)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    programme: ProgrammeSettings = field(default_factory=ProgrammeSettings)
    catch_up: timedelta = timedelta(minutes=10)
    prerender: timedelta = timedelta(minutes=30)
    pronunciations: Path | None = None  # the station's own reading dictionary (YAML)
    # Where air goes: sound devices, `file:DIR`, `icecast://user@host:port/mount` (see schedule/outputs).
    outputs: tuple[str, ...] = ("default",)
    zones: dict[str, str] = field(default_factory=dict)        # hamlet zone -> its Icecast mount URL
    stream: StreamSettings = field(default_factory=StreamSettings)
    secrets: Path | None = None
    # "user@host:port" -> Icecast source password; repr=False keeps them out of logs and tracebacks.
    passwords: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    relay_gap: float = 15.0             # seconds of a relay gap before the spoken notice
    relay_notice: str = ("Đài truyền thanh đang kết nối lại chương trình tiếp sóng. "
                         "Xin bà con vui lòng chờ trong giây lát.")   # spoken in the offline voice
    air_hours: tuple[tuple[time, time], ...] = ()   # when make-ups may air: (first, last) pairs
    metrics_listen: tuple[str, int] | None = None   # station.metrics.listen: (host, port) of /metrics
    desk_listen: str | None = DEFAULT_DESK_LISTEN   # HOST:PORT of the operator desk; None = off


@dataclass(frozen=True)
class Bulletin:
    """One item to read or play. Exactly one of `text`, `audio` and `relay` is set.

    `intro`/`outro` hold a jingle name, `NO_JINGLE`, or None for the station default
    (the jingle named "intro"/"outro" when the station has one).
    """

    id: str
    title: str
    text: str | None = None
    text_file: Path | None = None       # where `text` came from, when it came from a file
    audio: Path | None = None
    priority: Priority = Priority.NORMAL
    repeat: int = 1
    intro: str | None = None
    outro: str | None = None
    location: Location | None = None
    relay: str | None = None            # a live stream URL (http, https, icecast) to relay instead
    duration: timedelta | None = None   # how long a relay stays on air (required for relays)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of dates; a single date has `first == last`."""

    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Slot:
    """A broadcast session: when it airs and which bulletins it plays, in order.

    `days` holds ISO weekday numbers (1 = Monday ... 7 = Sunday); None means every day.
    When `dates` is non-empty (or `on_holidays`) the slot airs on those dates (and Vietnam's
    public holidays) only and `days` is None. `lunar` holds lunar days (1 = mùng một, 15 = rằm)
    and replaces both; `lunar_months` narrows it to some lunar months. `except_holidays` skips
    the public holidays.
    `zones` empty means every output and zone; otherwise only those zones' mounts.
    """

    name: str
    at: tuple[time, ...]
    play: tuple[str, ...]
    days: frozenset[int] | None = None
    dates: tuple[date, ...] = ()
    start: date | None = None           # `from:` in the file
    until: date | None = None
    exceptions: tuple[DateRange, ...] = ()
    enabled: bool = True
    location: Location | None = None
    zones: tuple[str, ...] = ()
    lunar: frozenset[int] | None = None
    lunar_months: frozenset[int] | None = None
    except_holidays: bool = False
    on_holidays: bool = False

    def airs_on(self, day: date) -> bool:
        """Whether this slot has broadcasts on `day` (ignores `enabled`)."""
        if self.start and day < self.start or self.until and day > self.until:
            return False
        if any(day in excepted for excepted in self.exceptions):
            return False
        if self.except_holidays and is_public_holiday(day):
            return False
        if self.lunar is not None:
            return lunar_matches(day, self.lunar, self.lunar_months)
        if self.dates or self.on_holidays:
            return day in self.dates or self.on_holidays and is_public_holiday(day)
        return self.days is None or day.isoweekday() in self.days


@dataclass(frozen=True)
class Schedule:
    path: Path                          # absolute path of schedule.yaml
    station: Station
    bulletins: dict[str, Bulletin]
    slots: tuple[Slot, ...]
    warnings: tuple = ()                # Problem objects of severity "warning"
    campaigns: dict[str, "Campaign"] = field(default_factory=dict)   # publicity plans, by id
    version: str = ""                   # sha256 of the schedule.yaml bytes read: which edit is in force

    @property
    def folder(self) -> Path:
        return self.path.parent

    def slot(self, name: str) -> Slot:
        for slot in self.slots:
            if slot.name == name:
                return slot
        raise KeyError(name)

    def source_files(self) -> tuple[Path, ...]:
        """Every file the schedule was read from, for hot reload to watch."""
        files = [self.path]
        files += [b.text_file for b in self.bulletins.values() if b.text_file]
        if self.station.pronunciations:
            files.append(self.station.pronunciations)
        return tuple(files)
