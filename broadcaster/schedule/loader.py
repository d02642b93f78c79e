"""Read schedule.yaml into a `Schedule`, collecting every problem with its file, line and column.

The file is composed into PyYAML nodes (safe loader only) rather than loaded into plain values,
so each value keeps the position an operator needs to find it. Validation never stops at the
first problem: the operator fixes everything in one pass.
"""

from __future__ import annotations

import difflib
import hashlib
import time as time_module
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Collection, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from broadcaster import i18n
from broadcaster.constants import ENGINE_NAMES, VOICINGS
from broadcaster.errors import ScheduleError
from broadcaster.schedule import messages as _messages  # noqa: F401  (registers the catalogue)
from broadcaster.problems import ERROR, WARNING, Location, Problem
from broadcaster.schedule import outputs
from broadcaster.schedule.model import (
    DEFAULT_DESK_LISTEN, NO_JINGLE, Bulletin, DateRange, Priority, ProgrammeSettings, Schedule, Slot, SpeechSettings,
    Station,
)
from broadcaster.schedule.calendar import PUBLIC_HOLIDAYS
from broadcaster.schedule.campaigns import parse_air_hours, parse_campaigns, warn_unreachable
from broadcaster.text import Normalizer, load_dictionary
from broadcaster.sourcefile import SCHEDULE_LIMIT, TEXT_LIMIT, SourceError, read_text, regular_file_problem
from broadcaster.yamlsource import YamlMessages, compose_bytes, compose_file, node_location, read_file

WEEKDAYS = {
    "mon": 1, "monday": 1, "t2": 1, "thu2": 1,
    "tue": 2, "tuesday": 2, "t3": 2, "thu3": 2,
    "wed": 3, "wednesday": 3, "t4": 3, "thu4": 3,
    "thu": 4, "thursday": 4, "t5": 4, "thu5": 4,
    "fri": 5, "friday": 5, "t6": 5, "thu6": 5,
    "sat": 6, "saturday": 6, "t7": 6, "thu7": 6,
    "sun": 7, "sunday": 7, "cn": 7, "chunhat": 7,
}
REQUIRED_TOP_KEYS = ("station", "bulletins", "slots")
TOP_KEYS = REQUIRED_TOP_KEYS + ("campaigns",)
STATION_KEYS = ("name", "timezone", "loudness", "output", "voicing", "jingles", "speech",
                "programme", "state_dir", "catch_up", "prerender", "pronunciations",
                "outputs", "zones", "stream", "secrets", "relay_gap", "relay_notice", "air_hours", "metrics", "desk")
METRICS_KEYS = ("listen",)
SPEECH_KEYS = ("engines", "gtts_timeout", "gtts_retries", "espeak_voice", "espeak_speed", "ahead")
PROGRAMME_KEYS = ("repeat_bridge", "pause_after_jingle", "pause_between_readings",
                  "pause_between_bulletins", "pause_before_jingle")
BULLETIN_KEYS = ("title", "text", "text_file", "audio", "priority", "repeat", "intro", "outro",
                 "relay", "duration")
SLOT_KEYS = ("name", "at", "days", "dates", "from", "until", "except", "enabled", "play", "zones",
             "lunar", "lunar_months")
BULLETIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TIME_TEXT = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
SYLLABLES_PER_SECOND = 2.5   # a deliberate announcer's pace, for overlap estimates


def _fold(text: str) -> str:
    """Lowercase without Vietnamese diacritics or spaces, so 'Thứ 2' matches 'thu2'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return re.sub(r"[\s_]+", "", stripped.lower())


@dataclass(frozen=True)
class _TextOrigin:
    """Where an inline `text:` scalar's characters stand in the file, to place text warnings.

    A literal block (`|`) and a one-line scalar keep their lines, so a finding maps to its exact
    line and column; folded (`>`) and multi-line plain or quoted scalars join lines, so findings
    there point at the scalar's start.
    """

    line: int            # 1-based line of the text's first character
    column: int          # 0-based column of that character
    exact: bool

    @classmethod
    def of(cls, node: yaml.ScalarNode) -> "_TextOrigin":
        start = node.start_mark
        if node.style == "|":
            first = start.line + 1                     # content starts on the line after `|`
            buffer = start.buffer or ""
            lines = buffer.rstrip("\0").splitlines()[first:]
            content = next((line for line in lines if line.strip()), "")   # the block's indent
            return cls(first + 1, len(content) - len(content.lstrip(" ")), True)
        quoted = 1 if node.style in ("'", '"') else 0
        one_line = node.end_mark.line == start.line
        return cls(start.line + 1, start.column + quoted, one_line and node.style != ">")

    def locate(self, path: Path, line: int, column: int) -> Location:
        if not self.exact:
            return Location(path, self.line, self.column + 1)
        return Location(path, self.line + line - 1, self.column + column)


@dataclass
class _Reader:
    """Walks the node tree of one file, turning nodes into values and problems."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    text_origins: dict[str, "_TextOrigin"] = field(default_factory=dict)    # inline texts, by bulletin
    pronunciations: dict[str, str] = field(default_factory=dict)           # the station dictionary's entries

    def __post_init__(self) -> None:
        self._constructor = yaml.SafeLoader("")

    # -- reporting ---------------------------------------------------------------------------
    def at(self, node: yaml.Node) -> Location:
        return node_location(self.path, node)

    def report(self, node: yaml.Node | Location, message: str, /, severity: str = ERROR, **params: Any) -> None:
        where = node if isinstance(node, Location) else self.at(node)
        self.problems.append(Problem.at(where, message, params, severity))

    # -- node access -------------------------------------------------------------------------
    def value(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def items(self, node: yaml.Node, section: str, allowed: tuple[str, ...] | None,
              ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The mapping's entries as `key -> (key node, value node)`, reporting odd keys."""
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            # As written: `01:` must match `play: ["01"]`, not become the number 1.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(self.value(key_node))
            if key in entries:
                self.report(key_node, "yaml.duplicate_key", key=key,
                            first_line=entries[key][0].start_mark.line + 1)
                continue
            if allowed is not None and key not in allowed:
                self.report(key_node, "key.unknown", key=key, section=section,
                            hint=self.hint(key, allowed))
                continue
            entries[key] = (key_node, value_node)
        return entries

    @staticmethod
    def hint(word: str, choices) -> str:
        close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
        return i18n.tr("key.hint", suggestion=close[0]) if close else ""

    def mapping(self, node: yaml.Node, key: str) -> bool:
        if isinstance(node, yaml.MappingNode):
            return True
        if not self.is_null(node):
            self.report(node, "type.mapping", key=key)
        return False

    def sequence(self, node: yaml.Node, key: str) -> list[yaml.Node] | None:
        """A list's item nodes; a single scalar counts as a list of one."""
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.ScalarNode) and not self.is_null(node):
            return [node]
        self.report(node, "type.list", key=key)
        return None

    @staticmethod
    def is_null(node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def text(self, node: yaml.Node, key: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or self.is_null(node):
            self.report(node, "type.string", key=key)
            return None
        return node.value   # the source text: `06:00` must not become sexagesimal 360

    def number(self, node: yaml.Node, key: str, low: float, high: float) -> float | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.report(node, "type.number", key=key)
            return None
        if not low <= value <= high:
            self.report(node, "number.range", key=key, low=low, high=high, value=value)
            return None
        return float(value)

    def integer(self, node: yaml.Node, key: str, low: int, high: int) -> int | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(node, "type.integer", key=key)
            return None
        if not low <= value <= high:
            self.report(node, "number.range", key=key, low=low, high=high, value=value)
            return None
        return value

    def boolean(self, node: yaml.Node, key: str) -> bool | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.report(node, "type.bool", key=key)
            return None
        return value

    def date(self, node: yaml.Node) -> date | None:
        if not isinstance(node, yaml.ScalarNode):
            self.report(node, "type.string", key="date")
            return None
        raw = node.value
        try:
            return date.fromisoformat(str(raw).strip())
        except ValueError:
            self.report(node, "date.invalid", value=raw)
            return None

    def time(self, node: yaml.Node) -> time | None:
        raw = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
        match = TIME_TEXT.match(raw)
        if match:
            hour, minute, second = (int(g) if g else 0 for g in match.groups())
            if hour < 24 and minute < 60 and second < 60:
                return time(hour, minute, second)
        self.report(node, "time.invalid", value=raw)
        return None

    def file(self, node: yaml.Node, key: str, folder: Path) -> Path | None:
        """A path relative to the schedule's folder that exists and stays inside it."""
        raw = self.text(node, key)
        if raw is None:
            return None
        candidate = (folder / raw.strip()).resolve()
        if not candidate.is_relative_to(folder.resolve()):
            self.report(node, "file.outside", value=raw)
            return None
        if not candidate.exists():
            self.report(node, "file.missing", value=raw)
            return None
        special = regular_file_problem(candidate)
        if special is not None:         # a FIFO would hang the read, a device would never end
            self.report(node, special.key, value=raw, **special.params)
            return None
        return candidate


_MESSAGES = YamlMessages(not_found="schedule.not_found", unreadable="schedule.unreadable",
                         syntax="yaml.syntax")


def check_schedule(path: Path | str, *, check_texts: bool | Collection[str] = True
                   ) -> tuple[Schedule | None, list[Problem]]:
    """Load and validate; returns the schedule (None if any error) and every problem found.

    `check_texts=False` skips the normalizer's pass over every bulletin (warnings only): a desk
    command that airs one bulletin now must not wait for the whole schedule to be read aloud.
    A collection of bulletin ids checks only those texts (the desk saving one bulletin).
    """
    path = Path(path).absolute()
    data, problems = read_file(path, _MESSAGES, SCHEDULE_LIMIT)
    if data is None:
        return None, problems
    root, problems = compose_bytes(path, data, _MESSAGES)
    if problems:
        return None, problems
    version = hashlib.sha256(data).hexdigest()      # of the bytes composed, not of a later read
    reader = _Reader(path)
    folder = path.parent
    if root is None or not isinstance(root, yaml.MappingNode):
        reader.report(root or Location(path, 1, 1), "type.mapping", key=path.name)
        return None, reader.problems
    top = reader.items(root, i18n.tr("section.top"), TOP_KEYS)
    for required in REQUIRED_TOP_KEYS:
        if required not in top:
            reader.report(Location(path, 1, 1), "key.missing", key=required, section=i18n.tr("section.top"))

    station = _station(reader, top.get("station"), folder)
    bulletins = _bulletins(reader, top.get("bulletins"), folder, station)
    slots = _slots(reader, top.get("slots"), bulletins, station.zones if station else {})
    campaigns = parse_campaigns(reader, top.get("campaigns"), bulletins, station)
    if station is None or any(p.severity == ERROR for p in reader.problems):
        if not any(p.severity == ERROR for p in reader.problems):   # never fail without saying why
            reader.report(Location(path, 1, 1), "key.missing", key="station", section=i18n.tr("section.top"))
        return None, _sorted(reader.problems)
    _warn_overlaps(reader, slots, bulletins)
    if check_texts:
        _warn_unreadable_text(reader, bulletins, None if check_texts is True else set(check_texts))
    warn_unreachable(reader, campaigns, slots, bulletins)
    warnings = tuple(p for p in reader.problems if p.severity == WARNING)
    schedule = Schedule(path=path, station=station, bulletins=bulletins, slots=tuple(slots), warnings=warnings,
                        campaigns=campaigns, version=version)
    return schedule, _sorted(reader.problems)


def load_schedule(path: Path | str, *, check_texts: bool = True) -> Schedule:
    """The validated schedule; raises ScheduleError listing every error (warnings ride along)."""
    schedule, problems = check_schedule(path, check_texts=check_texts)
    if schedule is None:
        raise ScheduleError(problems)
    return schedule


def load_station(path: Path | str) -> Station:
    """Only the `station:` settings, validated; bulletins and slots are neither read nor checked.

    For desk commands that need the state folder, the time zone and the voice (an emergency
    text, `history`): they act at once even when a bulletin elsewhere is slow or broken.
    """
    path = Path(path).absolute()
    root, problems = compose_file(path, _MESSAGES, SCHEDULE_LIMIT)
    if problems:
        raise ScheduleError(problems)
    reader = _Reader(path)
    if root is None or not isinstance(root, yaml.MappingNode):
        reader.report(root or Location(path, 1, 1), "type.mapping", key=path.name)
        raise ScheduleError(reader.problems)
    top = reader.items(root, i18n.tr("section.top"), None)
    station = _station(reader, top.get("station"), path.parent)
    errors = [p for p in reader.problems if p.severity == ERROR]
    if station is None or errors:
        if not errors:
            reader.report(Location(path, 1, 1), "key.missing", key="station", section=i18n.tr("section.top"))
        raise ScheduleError(_sorted([p for p in reader.problems if p.severity == ERROR]))
    return station


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (str(p.path), p.line, p.column))


# -- station -----------------------------------------------------------------------------------

def _station(reader: _Reader, entry, folder: Path) -> Station | None:
    section = i18n.tr("section.station")
    if entry is None:
        return None
    key_node, node = entry
    if reader.is_null(node):
        reader.report(key_node, "key.missing", key="name", section=section)
        return None
    if not reader.mapping(node, "station"):
        return None
    fields = reader.items(node, section, STATION_KEYS)
    settings: dict[str, Any] = {}
    name = reader.text(fields["name"][1], "name") if "name" in fields else None
    if "name" not in fields:
        reader.report(key_node, "key.missing", key="name", section=section)

    timezone = ZoneInfo("Asia/Ho_Chi_Minh")
    if "timezone" in fields:
        raw = reader.text(fields["timezone"][1], "timezone")
        if raw is not None:
            try:
                timezone = ZoneInfo(raw.strip())
            except (ZoneInfoNotFoundError, ValueError):
                reader.report(fields["timezone"][1], "timezone.invalid", value=raw)
    if "loudness" in fields:
        settings["loudness"] = reader.number(fields["loudness"][1], "loudness", -40, -5)
    if "output" in fields:
        output_node = fields["output"][1]
        raw = reader.value(output_node) if isinstance(output_node, yaml.ScalarNode) else None
        if isinstance(raw, bool) or raw is None or not isinstance(raw, (str, int)) or not str(raw).strip():
            reader.report(output_node, "output.invalid", value=raw)
        else:
            settings["output"] = _output_spec(str(raw).strip(), folder)
    if "voicing" in fields:
        settings["voicing"] = _choice(reader, fields["voicing"][1], "voicing", VOICINGS)
    if "jingles" in fields and reader.mapping(fields["jingles"][1], "jingles"):
        jingles = {}
        for jingle, (_, file_node) in reader.items(fields["jingles"][1], "station.jingles", None).items():
            jingles[jingle] = reader.file(file_node, jingle, folder)
        settings["jingles"] = jingles
    if "speech" in fields:
        settings["speech"] = _speech(reader, fields["speech"][1])
    if "programme" in fields:
        settings["programme"] = _programme(reader, fields["programme"][1])
    if "metrics" in fields:
        settings["metrics_listen"] = _metrics(reader, fields["metrics"][1])
    state_dir = folder / "var"
    if "state_dir" in fields:
        raw = reader.text(fields["state_dir"][1], "state_dir")
        if raw is not None:
            state_dir = (folder / raw.strip()).resolve()
    for key, default in (("catch_up", 10), ("prerender", 30)):
        if key in fields:
            minutes = reader.number(fields[key][1], key, 0, 24 * 60)
            settings[key] = timedelta(minutes=minutes if minutes is not None else default)
    if "air_hours" in fields:
        settings["air_hours"] = parse_air_hours(reader, fields["air_hours"][1])
    if "pronunciations" in fields:
        settings["pronunciations"] = reader.file(fields["pronunciations"][1], "pronunciations", folder)
        if settings["pronunciations"] is not None:
            _check_dictionary(reader, settings["pronunciations"])
    outputs.read_station(reader, fields, folder, settings)
    if "outputs" in settings:
        settings["outputs"] = tuple(_output_spec(spec, folder) for spec in settings["outputs"])
        settings["output"] = _output_spec(settings.get("output", "default"), folder)

    if "desk" in fields:
        settings["desk_listen"] = _desk_listen(reader, fields["desk"][1])

    settings = {k: v for k, v in settings.items() if v is not None or k == "desk_listen"}
    if "jingles" in settings:
        settings["jingles"] = {k: v for k, v in settings["jingles"].items() if v is not None}
    return Station(name=name or "", timezone=timezone, state_dir=state_dir, **settings)


def _desk_listen(reader: _Reader, node: yaml.Node) -> str | None:
    """`desk: false` turns the operator desk off; `desk: {listen: HOST:PORT}` moves it."""
    if isinstance(node, yaml.ScalarNode) and not reader.is_null(node):
        enabled = reader.boolean(node, "desk")
        return DEFAULT_DESK_LISTEN if enabled or enabled is None else None
    if not reader.mapping(node, "desk"):
        return DEFAULT_DESK_LISTEN
    fields = reader.items(node, "station.desk", ("listen",))
    if "listen" not in fields:
        return DEFAULT_DESK_LISTEN
    raw = reader.text(fields["listen"][1], "listen")
    if raw is None:
        return DEFAULT_DESK_LISTEN
    if parse_listen(raw) is None:
        reader.report(fields["listen"][1], "desk.listen_invalid", value=raw)
        return DEFAULT_DESK_LISTEN
    return raw.strip()


def _output_spec(raw: str, folder: Path) -> str:
    """`file:DIR` relative to the schedule's folder becomes absolute; devices stay as written."""
    if raw.startswith("file:"):
        return "file:" + str((folder / raw[len("file:"):].strip()).resolve())
    return raw


def parse_listen(text: str) -> tuple[str, int] | None:
    """"HOST:PORT" (or "[IPv6]:PORT") as (host, port); None when it is not one."""
    host, sep, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in host):
        return None
    return host, int(port)


def _metrics(reader: _Reader, node: yaml.Node) -> tuple[str, int] | None:
    """`station.metrics.listen`: where the daemon serves Prometheus metrics (`/metrics`)."""
    if not reader.mapping(node, "metrics"):
        return None
    fields = reader.items(node, i18n.tr("section.metrics"), METRICS_KEYS)
    if "listen" not in fields:
        return None
    listen_node = fields["listen"][1]
    raw = reader.text(listen_node, "listen")
    if raw is None:
        return None
    address = parse_listen(raw)
    if address is None:
        reader.report(listen_node, "listen.invalid", value=raw)
    return address


def _choice(reader: _Reader, node: yaml.Node, key: str, choices: tuple[str, ...]) -> str | None:
    raw = reader.text(node, key)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value not in choices:
        reader.report(node, "choice.invalid", key=key, value=raw, choices=", ".join(choices))
        return None
    return value


def _speech(reader: _Reader, node: yaml.Node) -> SpeechSettings | None:
    if not reader.mapping(node, "speech"):
        return None
    fields = reader.items(node, i18n.tr("section.speech"), SPEECH_KEYS)
    values: dict[str, Any] = {}
    if "engines" in fields:
        engines = []
        for item in reader.sequence(fields["engines"][1], "engines") or []:
            name = reader.text(item, "engines")
            if name is None:
                continue
            if name.strip().lower() not in ENGINE_NAMES:
                reader.report(item, "engine.unknown", value=name, choices=", ".join(ENGINE_NAMES))
            else:
                engines.append(name.strip().lower())
        if engines:
            values["engines"] = tuple(engines)
    if "gtts_timeout" in fields:
        values["gtts_timeout"] = reader.number(fields["gtts_timeout"][1], "gtts_timeout", 1, 120)
    if "gtts_retries" in fields:
        values["gtts_retries"] = reader.integer(fields["gtts_retries"][1], "gtts_retries", 0, 10)
    if "espeak_voice" in fields:
        values["espeak_voice"] = reader.text(fields["espeak_voice"][1], "espeak_voice")
    if "espeak_speed" in fields:
        values["espeak_speed"] = reader.integer(fields["espeak_speed"][1], "espeak_speed", 80, 450)
    if "ahead" in fields:
        values["ahead"] = reader.number(fields["ahead"][1], "ahead", 0, 60)
    return SpeechSettings(**{k: v for k, v in values.items() if v is not None})


def _programme(reader: _Reader, node: yaml.Node) -> ProgrammeSettings | None:
    if not reader.mapping(node, "programme"):
        return None
    fields = reader.items(node, i18n.tr("section.programme"), PROGRAMME_KEYS)
    values: dict[str, Any] = {}
    if "repeat_bridge" in fields:
        values["repeat_bridge"] = reader.text(fields["repeat_bridge"][1], "repeat_bridge")
    for key in PROGRAMME_KEYS[1:]:
        if key in fields:
            values[key] = reader.number(fields[key][1], key, 0, 30)
    return ProgrammeSettings(**{k: v for k, v in values.items() if v is not None})


def _check_dictionary(reader: _Reader, path: Path) -> None:
    """The station's pronunciation dictionary is validated with the schedule."""
    reader.pronunciations, problems = load_dictionary(path)      # kept for the reading check
    reader.problems.extend(problems)


# -- bulletins ---------------------------------------------------------------------------------

def _bulletins(reader: _Reader, entry, folder: Path, station: Station | None) -> dict[str, Bulletin]:
    bulletins: dict[str, Bulletin] = {}
    if entry is None:
        return bulletins
    key_node, node = entry
    if not reader.mapping(node, "bulletins"):
        return bulletins
    entries = reader.items(node, "bulletins", None)
    if not entries:
        reader.report(key_node, "bulletins.empty")
    for bulletin_id, (id_node, body) in entries.items():
        if not BULLETIN_ID.match(bulletin_id):
            reader.report(id_node, "bulletin.id_invalid", value=bulletin_id)
            continue
        bulletin = _bulletin(reader, bulletin_id, id_node, body, folder, station)
        if bulletin is not None:
            bulletins[bulletin_id] = bulletin
    return bulletins


def _bulletin(reader: _Reader, bulletin_id: str, id_node: yaml.Node, node: yaml.Node,
              folder: Path, station: Station | None) -> Bulletin | None:
    if not reader.mapping(node, bulletin_id):
        if reader.is_null(node):
            reader.report(id_node, "bulletin.source", bulletin=bulletin_id)
        return None
    fields = reader.items(node, i18n.tr("section.bulletin", name=bulletin_id), BULLETIN_KEYS)
    sources = [k for k in ("text", "text_file", "audio", "relay") if k in fields]
    values: dict[str, Any] = {"id": bulletin_id, "title": bulletin_id, "location": reader.at(id_node)}
    if len(sources) != 1:
        reader.report(id_node, "bulletin.source", bulletin=bulletin_id)
    elif sources[0] == "text":
        text_node = fields["text"][1]
        text = reader.text(text_node, "text")
        if isinstance(text_node, yaml.ScalarNode):
            reader.text_origins[bulletin_id] = _TextOrigin.of(text_node)
        if text is not None and not text.strip():
            reader.report(fields["text"][1], "bulletin.empty_text", bulletin=bulletin_id)
        values["text"] = text
    elif sources[0] == "text_file":
        path = reader.file(fields["text_file"][1], "text_file", folder)
        if path is not None:
            try:
                text = read_text(path, TEXT_LIMIT)
            except SourceError as exc:
                reader.report(fields["text_file"][1], exc.key, value=fields["text_file"][1].value, **exc.params)
                text = None
            except UnicodeDecodeError:
                reader.report(fields["text_file"][1], "file.not_text", value=fields["text_file"][1].value)
                text = None
            except OSError as exc:
                reader.report(fields["text_file"][1], "file.unreadable", value=fields["text_file"][1].value,
                              detail=exc.strerror or str(exc))
                text = None
            if text is not None and not text.strip():
                reader.report(fields["text_file"][1], "bulletin.empty_text", bulletin=bulletin_id)
            values.update(text=text, text_file=path)
    elif sources[0] == "audio":
        values["audio"] = reader.file(fields["audio"][1], "audio", folder)
    outputs.read_relay(reader, bulletin_id, id_node, fields, values)
    if "title" in fields:
        values["title"] = reader.text(fields["title"][1], "title") or bulletin_id
    if "priority" in fields:
        choice = _choice(reader, fields["priority"][1], "priority", tuple(p.label for p in Priority))
        if choice:
            values["priority"] = Priority.parse(choice)
    if "repeat" in fields:
        repeat = reader.integer(fields["repeat"][1], "repeat", 1, 10)
        if repeat is not None:
            values["repeat"] = repeat
    for key in ("intro", "outro"):
        if key in fields:
            values[key] = _jingle_ref(reader, fields[key][1], key, station)
    return Bulletin(**values)


def _jingle_ref(reader: _Reader, node: yaml.Node, key: str, station: Station | None) -> str | None:
    if reader.value(node) is False:      # `intro: no` reads as a boolean in YAML 1.1
        return NO_JINGLE
    name = reader.text(node, key)
    if name is None:
        return None
    name = name.strip()
    if name.lower() == NO_JINGLE:
        return NO_JINGLE
    known = station.jingles if station else {}
    if name not in known:
        reader.report(node, "bulletin.unknown_jingle", value=name, hint=reader.hint(name, known))
    return name


# -- slots -------------------------------------------------------------------------------------

def _slots(reader: _Reader, entry, bulletins: dict[str, Bulletin], zones: dict[str, str]) -> list[Slot]:
    slots: list[Slot] = []
    if entry is None:
        return slots
    _, node = entry
    items = reader.sequence(node, "slots") or []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items, start=1):
        slot = _slot(reader, item, index, bulletins, zones)
        if slot is None:
            continue
        if slot.name in first_seen:
            reader.report(item, "slot.duplicate_name", slot=slot.name, first_line=first_seen[slot.name])
            continue
        first_seen[slot.name] = slot.location.line
        slots.append(slot)
    return slots


def _slot(reader: _Reader, node: yaml.Node, index: int, bulletins: dict[str, Bulletin],
          zones: dict[str, str]) -> Slot | None:
    label = f"#{index}"
    if not isinstance(node, yaml.MappingNode):
        reader.report(node, "type.mapping", key=f"slots {label}")
        return None
    for key_node, value_node in node.value:   # the name first, so problems can mention it
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "name" \
                and isinstance(value_node, yaml.ScalarNode) and value_node.value.strip():
            label = value_node.value.strip()
    fields = reader.items(node, i18n.tr("section.slot", name=label), SLOT_KEYS)
    if "name" in fields:
        reader.text(fields["name"][1], "name")
    else:
        reader.report(node, "key.missing", key="name", section=i18n.tr("section.slot", name=label))
    section = i18n.tr("section.slot", name=label)
    ok = True

    times: list[time] = []
    if "at" not in fields:
        reader.report(node, "key.missing", key="at", section=section)
        ok = False
    else:
        items = reader.sequence(fields["at"][1], "at")
        if items is not None and not items:
            reader.report(fields["at"][1], "slot.empty_at", slot=label)
            ok = False
        for item in items or []:
            when = reader.time(item)
            if when is None:
                ok = False
            elif when in times:
                reader.report(item, "time.duplicate", value=item.value, severity=WARNING)
            else:
                times.append(when)

    days = None
    if "days" in fields:
        days = set()
        for item in reader.sequence(fields["days"][1], "days") or []:
            raw = str(item.value) if isinstance(item, yaml.ScalarNode) else ""
            number = WEEKDAYS.get(_fold(raw))
            if number is None:
                reader.report(item, "day.unknown", value=raw)
                ok = False
            else:
                days.add(number)
        days = frozenset(days)
        if not days and ok:
            reader.report(fields["days"][1], "slot.no_days", slot=label)
            ok = False

    dates: list[date] = []
    on_holidays = False
    if "dates" in fields:
        if "days" in fields:
            reader.report(fields["dates"][0], "slot.days_and_dates", slot=label)
            ok = False
        items = reader.sequence(fields["dates"][1], "dates")
        if items is not None and not items:
            reader.report(fields["dates"][1], "slot.no_dates", slot=label)
            ok = False
        for item in items or []:
            if _is_public_holidays(item):
                on_holidays = True
                continue
            day = reader.date(item)
            ok = ok and day is not None
            if day is not None:
                dates.append(day)

    start = reader.date(fields["from"][1]) if "from" in fields else None
    until = reader.date(fields["until"][1]) if "until" in fields else None
    if start and until and until < start:
        reader.report(fields["until"][1], "window.reversed", start=start, until=until)
        ok = False

    lunar_ok, lunar, lunar_months = _lunar(reader, fields, label)
    ok = ok and lunar_ok

    exceptions = []
    except_holidays = False
    if "except" in fields:
        for item in reader.sequence(fields["except"][1], "except") or []:
            if _is_public_holidays(item):
                except_holidays = True
                continue
            excepted = _date_range(reader, item)
            ok = ok and excepted is not None
            if excepted:
                exceptions.append(excepted)

    enabled = True
    if "enabled" in fields:
        flag = reader.boolean(fields["enabled"][1], "enabled")
        enabled = flag if flag is not None else True

    play: list[str] = []
    if "play" not in fields:
        reader.report(node, "key.missing", key="play", section=section)
        ok = False
    else:
        items = reader.sequence(fields["play"][1], "play") or []
        if not items and isinstance(fields["play"][1], yaml.SequenceNode):
            reader.report(fields["play"][1], "slot.empty_play", slot=label)
        for item in items:
            bulletin_id = reader.text(item, "play")
            if bulletin_id is None:
                continue
            if bulletin_id not in bulletins:
                reader.report(item, "slot.unknown_bulletin", slot=label, bulletin=bulletin_id,
                              hint=reader.hint(bulletin_id, bulletins))
                ok = False
            play.append(bulletin_id)
    slot_zones: tuple[str, ...] = ()
    if "zones" in fields:
        slot_zones, zones_ok = outputs.read_slot_zones(reader, fields["zones"][1], label, zones)
        ok = ok and zones_ok
    if "play" in fields and not outputs.check_relay_alone(reader, fields["play"][1], label, play, bulletins):
        ok = False
    if not ok or not times or not play:
        return None
    slot = Slot(name=label, at=tuple(times), play=tuple(play),
                days=None if dates or on_holidays or lunar else days,
                dates=tuple(sorted(set(dates))), start=start, until=until,
                exceptions=tuple(exceptions), enabled=enabled, location=reader.at(node), zones=slot_zones,
                lunar=lunar, lunar_months=lunar_months, except_holidays=except_holidays,
                on_holidays=on_holidays)
    if enabled and dates and not any(slot.airs_on(day) for day in slot.dates):
        reader.report(node, "slot.never", slot=label, severity=WARNING)
    return slot


def _date_range(reader: _Reader, node: yaml.Node) -> DateRange | None:
    raw = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
    if ".." not in raw:
        day = reader.date(node)
        return DateRange(day, day) if day else None
    first_text, _, last_text = raw.partition("..")
    try:
        first, last = date.fromisoformat(first_text.strip()), date.fromisoformat(last_text.strip())
    except ValueError:
        reader.report(node, "range.invalid", value=raw)
        return None
    if last < first:
        reader.report(node, "range.reversed", value=raw)
        return None
    return DateRange(first, last)


# -- lunar days and public holidays ------------------------------------------------------------

def _is_public_holidays(node: yaml.Node) -> bool:
    """`public-holidays` standing in a date list (`except`, `dates`) for Vietnam's official days off."""
    return isinstance(node, yaml.ScalarNode) and node.value.strip().lower() == PUBLIC_HOLIDAYS


def _lunar(reader: _Reader, fields: dict, label: str) -> tuple[bool, frozenset[int] | None, frozenset[int] | None]:
    """`lunar: [1, 15]` and `lunar_months: [1, 7]`: (valid, days, months)."""
    ok = True
    lunar = months = None
    if "lunar" in fields:
        for other in ("days", "dates"):
            if other in fields:
                reader.report(fields[other][0], "slot.lunar_and_days", slot=label, key=other)
                ok = False
        lunar = _lunar_numbers(reader, fields["lunar"][1], "lunar", 30, label)
        ok = ok and lunar is not None
    if "lunar_months" in fields:
        if "lunar" not in fields:
            reader.report(fields["lunar_months"][0], "slot.lunar_months_alone", slot=label)
            ok = False
        months = _lunar_numbers(reader, fields["lunar_months"][1], "lunar_months", 12, label)
        ok = ok and months is not None
    return ok, lunar, months


def _lunar_numbers(reader: _Reader, node: yaml.Node, key: str, highest: int, label: str) -> frozenset[int] | None:
    items = reader.sequence(node, key)
    if items is None:
        return None
    if not items:
        reader.report(node, "slot.empty_lunar", slot=label, key=key)
        return None
    numbers = [reader.integer(item, key, 1, highest) for item in items]
    return None if None in numbers else frozenset(numbers)


# -- warnings ----------------------------------------------------------------------------------

def estimated_seconds(slot: Slot, bulletins: dict[str, Bulletin]) -> float:
    """A rough air length from syllable counts (a relay's own duration), for overlap warnings only."""
    total = 0.0
    for bulletin_id in slot.play:
        bulletin = bulletins[bulletin_id]
        if bulletin.duration is not None:
            total += bulletin.duration.total_seconds()
            continue
        words = len((bulletin.text or "").split())
        total += (words / SYLLABLES_PER_SECOND + 8) * bulletin.repeat
    return total


def _warn_overlaps(reader: _Reader, slots: list[Slot], bulletins: dict[str, Bulletin]) -> None:
    """Warn when two enabled slots would be on air at the same time on some day.

    Each slot's length is estimated once, and the year of days is searched only for pairs whose
    times of day clash: with hundreds of slots the pairs are many and the days are the costly part.
    """
    active = [s for s in slots if s.enabled]
    lengths = [timedelta(seconds=estimated_seconds(s, bulletins)) for s in active]
    for i, first in enumerate(active):
        for j in range(i + 1, len(active)):
            second = active[j]
            clash = _clash_in_day(first, lengths[i], second, lengths[j])
            if clash is None:
                continue
            when = _first_common_day(first, second)
            if when is None:
                continue
            reader.report(second.location, "slot.overlap", severity=WARNING, first=first.name,
                          second=second.name, when=datetime.combine(when, clash).strftime("%Y-%m-%d %H:%M:%S"))


def _clash_in_day(first: Slot, first_length: timedelta, second: Slot, second_length: timedelta) -> time | None:
    """The first start time at which the two slots' airings would overlap on a day both air."""
    day = date(2000, 1, 1)        # any day: only the times of day and the lengths matter here
    for a in first.at:
        for b in second.at:
            start_a, start_b = datetime.combine(day, a), datetime.combine(day, b)
            if start_a <= start_b < start_a + first_length or start_b <= start_a < start_b + second_length:
                return max(start_a, start_b).time()
    return None


def _first_common_day(first: Slot, second: Slot) -> date | None:
    """The first date both slots air on, within a year of their shared window's start."""
    if first.dates or second.dates:
        candidates = sorted(set(first.dates) | set(second.dates))
    else:
        anchor = max(filter(None, (first.start, second.start)), default=date.today())
        candidates = [anchor + timedelta(days=n) for n in range(371)]
    return next((d for d in candidates if first.airs_on(d) and second.airs_on(d)), None)


TEXT_CHECK_BUDGET = 3.0     # seconds for the normalizer's warnings over every bulletin: validate stays quick
TEXT_CHECK_PIECE = 1000     # characters checked at once, so the budget is looked at every few milliseconds


def _text_pieces(text: str) -> Iterator[tuple[int, int, str]]:
    """(line number, 0-based column, piece) covering `text`; long lines cut at a space where one is near."""
    for number, line in enumerate(text.split("\n"), start=1):
        column = 0
        while len(line) - column > TEXT_CHECK_PIECE:
            cut = line.rfind(" ", column + TEXT_CHECK_PIECE // 2, column + TEXT_CHECK_PIECE)
            cut = cut + 1 if cut > 0 else column + TEXT_CHECK_PIECE
            yield number, column, line[column:cut]
            column = cut
        yield number, column, line[column:]


def _warn_unreadable_text(reader: _Reader, bulletins: dict[str, Bulletin], only: set[str] | None = None) -> None:
    """Tokens the normalizer cannot read confidently become warnings at their place in the text.

    Within `TEXT_CHECK_BUDGET` seconds: the normalizer is linear, but a schedule may hold megabytes
    of text (and one pathological text once took minutes); what is left unchecked when the budget
    runs out is said in one warning.
    """
    checker = Normalizer(reader.pronunciations).check
    deadline = time_module.monotonic() + TEXT_CHECK_BUDGET
    for bulletin in bulletins.values():
        if not bulletin.text or only is not None and bulletin.id not in only:
            continue
        for number, start, piece in _text_pieces(bulletin.text):
            if time_module.monotonic() > deadline:
                reader.report(bulletin.location or Location(reader.path, 1, 1), "text.check_budget",
                              severity=WARNING, bulletin=bulletin.id, seconds=TEXT_CHECK_BUDGET)
                return
            for finding in checker(piece):
                line, column = number, start + finding.column
                if bulletin.text_file:
                    where = Location(bulletin.text_file, line, column)
                else:
                    where = reader.text_origins[bulletin.id].locate(reader.path, line, column)
                reader.report(where, "text.unreadable", severity=WARNING, bulletin=bulletin.id,
                              token=finding.token, reason=finding.reason)


i18n.register({
    "text.check_budget": (
        "chưa kiểm tra hết cách đọc các bản tin trong {seconds:g} giây (dừng ở bản tin '{bulletin}'): "
        "có đoạn văn quá dài hoặc lạ; hãy xem lại bản tin này",
        "reading checks stopped after {seconds:g} s (at bulletin '{bulletin}'): a text is very long or "
        "unusual; look at this bulletin"),
    "text.unreadable": (
        "bản tin '{bulletin}': chưa đọc được '{token}' ({reason}); hãy sửa hoặc thêm vào từ điển phát âm",
        "bulletin '{bulletin}': cannot read '{token}' confidently ({reason}); fix it or add it to the pronunciation dictionary"),
})
