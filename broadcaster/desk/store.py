"""The desk's only way to change the station: edits to schedule.yaml and its text files.

Where it sits: between the desk's routes and the files the daemon hot-reloads. In: one bulletin
or slot as a dict with exactly schedule.yaml's keys, the version the operator's page was loaded
from, and who asks. Out: the files changed on disk, or `DeskError` with every problem.

Rules, in the order a save follows them:
- the edit is applied round-trip (ruamel.yaml), so comments, key order and quoting of everything
  not edited stay byte-for-byte; new texts go to `bulletins/<id>.txt`;
- the version the page was loaded from must still be on disk (schedule.yaml and every text file
  it names), or the save is refused: a hand edit or another browser is never overwritten;
- the candidate is validated by the real loader (`check_schedule`) from temporary files in the
  schedule's folder, so relative paths resolve as they will; any error refuses the edit and the
  real files are untouched;
- the previous bytes go to `<state_dir>/schedule-history/<stamp>/` with who and what; then each
  file is written to a temporary file, fsynced and renamed over the old one, so a kill -9 leaves
  the old or the new file, never half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml as yaml_c
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from broadcaster import i18n
from broadcaster.desk import messages as _messages  # noqa: F401  (registers the catalogue)
from broadcaster.errors import BroadcasterError
from broadcaster.schedule import Problem, check_schedule
from broadcaster.schedule.loader import (
    BULLETIN_ID, BULLETIN_KEYS, PROGRAMME_KEYS, SLOT_KEYS, SPEECH_KEYS, STATION_KEYS,
)
from broadcaster.schedule.campaigns import CAMPAIGN_KEYS, TARGET_UNITS
from broadcaster.schedule.outputs import STREAM_KEYS
from broadcaster.yamlsource import compose_text

HISTORY = "schedule-history"
TEXT_FOLDER = "bulletins"
VERSION_ID = re.compile(r"^\d{8}T\d{6}\.\d{6}Z$")
SCALAR_TYPES = (str, int, float, bool, type(None))


class DeskError(BroadcasterError):
    """A request the desk refuses: `status` is the HTTP code, `problems` the loader's findings."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems or []


@dataclass(frozen=True)
class Version:
    """One entry of the schedule history: the files as they were before a change."""

    id: str
    at: str
    who: str
    what: str
    files: tuple[str, ...]

    def to_json(self) -> dict:
        return {"id": self.id, "at": self.at, "who": self.who, "what": self.what, "files": list(self.files)}


@dataclass
class Saved:
    """What a successful save did: the new version and the loader's warnings."""

    version: str
    warnings: list[dict] = field(default_factory=list)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_name(value: str, *, kind: str) -> str:
    """A bulletin id or slot name from a URL or form: refused when it could name a path."""
    if not isinstance(value, str) or not value.strip() or ".." in value or "/" in value or "\\" in value \
            or any(ord(c) < 32 for c in value):
        raise DeskError(400, i18n.tr("desk.bad_name", kind=kind, value=value))
    if kind in ("bulletin", "campaign") and not BULLETIN_ID.match(value):
        raise DeskError(400, i18n.tr("desk.bad_name", kind=kind, value=value))
    return value


class _Plain(yaml_c.CSafeLoader):
    """libyaml's speed for reading (ruamel's round-trip loader takes about a second on a big
    schedule), with YAML 1.2's core schema as ruamel reads it: `06:00` stays text (YAML 1.1 would
    make it base-60 360) and `yes` stays text."""


_Plain.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml_c.SafeLoader.yaml_implicit_resolvers.items()}
_Plain.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                             list("tTfF"))
_Plain.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Plain.add_implicit_resolver("tag:yaml.org,2002:float",
                             re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
                             list("-+0123456789."))


def read_plain(raw: bytes) -> Any:
    """schedule.yaml as plain Python values, read as the round-trip editor reads them."""
    try:
        return yaml_c.load(raw.decode("utf-8-sig"), Loader=_Plain)
    except (yaml_c.YAMLError, UnicodeDecodeError) as exc:
        raise DeskError(409, i18n.tr("desk.file_broken", detail=str(exc).splitlines()[0])) from exc


def _yaml(source: str) -> YAML:
    """A round-trip YAML that writes lists indented the way this file already is."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096                      # never re-wrap a long line the officer wrote
    try:
        _, sequence, offset = load_yaml_guess_indent(source)
    except YAMLError:
        sequence, offset = None, None
    yaml.indent(mapping=2, sequence=sequence or 4, offset=offset if offset is not None else 2)
    return yaml


def _dump(yaml: YAML, document: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def _dump_edit(yaml: YAML, document: Any, source: str, focus: tuple | None, before: Any) -> str:
    """The document as text after an edit of one existing slot or bulletin (`focus`; `before`
    is that item as it was read, as plain values).

    Dumping a 500-bulletin schedule round-trip takes ruamel about 200 ms: the edited item alone is
    spliced in when that can be done cleanly (`_splice`), else the whole document is dumped.
    """
    spliced = _splice(yaml, document, source, focus, before) if focus is not None else None
    return spliced if spliced is not None else _dump(yaml, document)


def _splice(yaml: YAML, document: Any, source: str, focus: tuple, before: Any) -> str | None:
    """`source` with the edited item's lines replaced by the item dumped alone, or None.

    The item is dumped under its section's key as in the whole file; its lines replace the item's
    lines in `source` (the text the document was read from), from the item's first line to the
    next item's or the end of the section: the lines ruamel gives the item with its trailing
    comments. Those lines are found by indentation (`_item_lines`) and then proven: they must read
    as exactly the item as it was (`before`), the dumped lines as exactly the edited item, and the
    item's comment and blank lines must all be kept. Otherwise None (the caller dumps it all).
    """
    section, key = focus
    text = source.splitlines(keepends=True)
    lines = _item_lines(text, section)
    entry = document[section][key]
    if section == "slots":
        alone = CommentedMap([(section, CommentedSeq([entry]))])
        found = lines[key] if lines is not None and key < len(lines) else None
        was = [before]
    else:
        alone = CommentedMap([(section, CommentedMap([(key, entry)]))])
        names = list(document[section])
        found = lines[names.index(key)] if lines is not None and len(lines) == len(names) else None
        was = {key: before}
    if found is None:
        return None
    head, piece = _dump(yaml, alone).split("\n", 1)     # the section's own line, the item's lines
    first, end = found
    region = "".join(text[first:end])
    if _anchored(region):
        return None
    try:
        cut = read_plain(f"{head}\n{region}".encode("utf-8"))
        put = read_plain(f"{head}\n{piece}".encode("utf-8"))
    except DeskError:
        return None
    if not isinstance(cut, dict) or cut.get(section) != was or put != _plain(alone) \
            or _asides(piece.splitlines()) != _asides(region.splitlines()):
        return None
    return "".join(text[:first]) + piece + "".join(text[end:])


_TOP_KEY = re.compile(r"^[^\s#-][^:]*:")


def _item_lines(text: list[str], section: str) -> list[tuple[int, int]] | None:
    """[first, end) 0-based lines of each item of a block-style top-level section, by indentation.

    Items start at the first item's indentation (each a `- ` in a list, a key in a mapping); anything
    more indented, blank or a comment belongs to the item above; the section ends at the next
    line starting in column 0 that is not a comment. Block scalars, multi-line values and flow
    collections are always more indented than their item, so they never start one.
    """
    start = next((n for n, line in enumerate(text) if line.startswith(f"{section}:")
                  and not line[len(section) + 1:].strip().split("#")[0].strip()), None)
    if start is None:
        return None
    starts, indent, listed, end = [], None, None, len(text)
    for n in range(start + 1, len(text)):
        line = text[n]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(line) - len(line.lstrip(" "))
        if column == 0 and _TOP_KEY.match(line):
            end = n
            break
        if indent is None:
            indent, listed = column, stripped.startswith("- ")
        if column == indent and stripped.startswith("- ") == listed:
            starts.append(n)
        elif column < indent:
            return None
    if not starts:
        return None
    # Comment and blank lines just before the next top-level key belong to the last item (ruamel).
    return [(first, following) for first, following in zip(starts, starts[1:] + [end])]


def _anchored(region: str) -> bool:
    """Whether the item's lines define an anchor (`&name`): other items may alias it, and the item
    dumped alone writes the anchor only where ruamel sees it used twice, so the aliases would be
    left undefined. (An alias in the item fails to read alone and stops the splice already.)"""
    if "&" not in region:
        return False
    try:
        return any(getattr(event, "anchor", None) for event in yaml_c.parse(region, Loader=yaml_c.CSafeLoader))
    except yaml_c.YAMLError:
        return True


def _asides(lines: list[str]) -> tuple[int, int]:
    """(comment lines, blank lines) among `lines`."""
    stripped = [line.strip() for line in lines]
    return sum(line.startswith("#") for line in stripped), sum(not line for line in stripped)


def _plain(value: Any) -> Any:
    """A ruamel value as plain Python, to tell whether an edit changed it."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _flow(items: list) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _as_date(value: Any) -> Any:
    """ISO dates are written unquoted (as the README shows); anything else stays text for the loader."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return DoubleQuotedScalarString(value) if ".." in value else value
    return value


def _as_time(value: Any) -> Any:
    # Unquoted 20:00 is sexagesimal 1200 to PyYAML: times are always written quoted.
    return DoubleQuotedScalarString(value.strip()) if isinstance(value, str) else value


def _items(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _slot_value(key: str, value: Any) -> Any:
    if key == "at":
        return _flow([_as_time(v) for v in value]) if isinstance(value, list) else _as_time(value)
    if key in ("dates", "except"):
        return _flow([_as_date(v) for v in _items(value)])
    if key in ("from", "until"):
        return _as_date(value)
    if key in ("days", "play", "zones", "lunar", "lunar_months"):
        return _flow(_items(value))
    return value


def _comparable(key: str, value: Any) -> Any:
    """The value as the loader would read it, so an unchanged field keeps its bytes."""
    if key in ("dates", "except", "days", "play", "at", "zones", "lunar", "lunar_months") and isinstance(value, list):
        return [_plain(_as_date(v)) if key in ("dates", "except") else _plain(v) for v in value]
    if key in ("from", "until"):
        return _plain(_as_date(value))
    return _plain(value)


# `station:` keys the desk edits (admins only), and the sub-keys of those that are mappings. The
# rest is the console's: state_dir holds the accounts, history, as-run log and control socket (a
# move would cut the desk off its own accounts, and the daemon keeps the old one until restart);
# timezone is read by the daemon's clock and scheduler only at start (a change would be half
# applied); output(s), zones and secrets name devices, folders and Icecast mounts with their
# passwords (a wrong device name passes validation and silences every loudspeaker at the next
# restart; `file:` may name any folder); desk and metrics open network ports (binding beyond
# loopback is the operator's explicit choice at the console); jingles and pronunciations name
# files that are put in the station folder by hand.
STATION_EDITABLE = ("name", "loudness", "voicing", "speech", "programme", "catch_up", "prerender",
                    "air_hours", "relay_gap", "relay_notice", "stream")
STATION_NESTED = {"speech": SPEECH_KEYS, "programme": PROGRAMME_KEYS, "stream": STREAM_KEYS}
STATION_FIXED = tuple(k for k in STATION_KEYS if k not in STATION_EDITABLE)


def _check_station_shape(fields: dict, current: dict) -> dict:
    """The editable keys of a `station:` edit; a fixed key is refused unless it is sent unchanged."""
    if not isinstance(fields, dict):
        raise DeskError(400, i18n.tr("desk.bad_body"))
    problems = []
    edit = {}
    for key, value in fields.items():
        if key not in STATION_KEYS:
            problems.append({"field": key, "message": i18n.tr("desk.unknown_field", key=key)})
        elif key in STATION_FIXED:
            if _plain(value) != _plain(current.get(key)):
                problems.append({"field": key, "message": i18n.tr("desk.station_fixed", key=key)})
        elif key in STATION_NESTED and value is not None:
            if not isinstance(value, dict):
                problems.append({"field": key, "message": i18n.tr("desk.bad_value", key=key)})
                continue
            for sub, item in value.items():
                name = f"{key}.{sub}"
                if sub not in STATION_NESTED[key]:
                    problems.append({"field": name, "message": i18n.tr("desk.unknown_field", key=name)})
                elif not all(isinstance(v, SCALAR_TYPES) for v in _items(item)):
                    problems.append({"field": name, "message": i18n.tr("desk.bad_value", key=name)})
            edit[key] = value
        else:
            if not all(isinstance(v, SCALAR_TYPES) for v in _items(value)):
                problems.append({"field": key, "message": i18n.tr("desk.bad_value", key=key)})
            edit[key] = value
    if problems:
        raise DeskError(422, problems[0]["message"], problems)
    return edit


def _station_value(key: str, value: Any) -> Any:
    if key == "air_hours":
        return _flow([DoubleQuotedScalarString(str(v).strip()) for v in _items(value)])
    if isinstance(value, list):
        return _flow(value)
    if isinstance(value, str) and "\n" in value.strip():       # a multi-line notice: a `|` block
        return LiteralScalarString(value.strip("\n") + "\n")
    return value


def _deepest_last(target: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
    """The mapping and key that end the value of `target[key]` (where ruamel hangs what follows)."""
    while isinstance(target[key], CommentedMap) and len(target[key]):
        target, key = target[key], next(reversed(target[key]))
    return target, key


def _append(target: CommentedMap, key: str, value: Any) -> None:
    """Add `key` at the end of `target`, taking over the blank lines or comment that ruamel hung on
    the previous last key, so they stay after the mapping instead of landing before the new key."""
    last = next(reversed(target), None) if len(target) else None
    target[key] = value
    if last is None:
        return
    owner, owner_key = _deepest_last(target, last)
    entry = owner.ca.items.get(owner_key)
    if entry and len(entry) > 2 and entry[2] is not None:
        heir, heir_key = _deepest_last(target, key)
        heir.ca.items.setdefault(heir_key, [None, None, None, None])[2] = entry[2]
        entry[2] = None


def _campaign_value(key: str, value: Any) -> Any:
    """Dates unquoted, the bulletins as a flow list, the target as `{broadcasts: 10, per: week}`."""
    if key in ("from", "until"):
        return _as_date(value)
    if key == "bulletins":
        return _flow(_items(value))
    if key == "target" and isinstance(value, dict):
        target = CommentedMap((k, value[k]) for k in TARGET_UNITS + ("per",) if k in value)
        target.fa.set_flow_style()
        return target
    return value


def _check_shape(fields: dict, allowed: tuple[str, ...]) -> None:
    """Only schedule.yaml's keys, holding scalars or lists of scalars; the loader judges the rest."""
    if not isinstance(fields, dict):
        raise DeskError(400, i18n.tr("desk.bad_body"))
    for key, value in fields.items():
        if key not in allowed:
            raise DeskError(422, i18n.tr("desk.unknown_field", key=key),
                            [{"field": key, "message": i18n.tr("desk.unknown_field", key=key)}])
        values = value if isinstance(value, list) else [value]
        if key == "target" and isinstance(value, dict):          # a campaign's {broadcasts|minutes, per}
            values = list(value.values())
        if not all(isinstance(v, SCALAR_TYPES) for v in values):
            raise DeskError(422, i18n.tr("desk.bad_value", key=key),
                            [{"field": key, "message": i18n.tr("desk.bad_value", key=key)}])


def _update(target: CommentedMap, fields: dict, convert: Callable[[str, Any], Any], keep: tuple[str, ...]) -> None:
    """Set changed keys, drop keys the edit no longer has (except `keep`), leave equal ones alone."""
    for key in [k for k in target if k not in fields and k not in keep]:
        del target[key]
    for key, value in fields.items():
        if value is None:
            target.pop(key, None)
        elif key not in target or _plain(target[key]) != _comparable(key, value):
            target[key] = convert(key, value)


class ScheduleStore:
    """Reads and edits one station's schedule.yaml; one instance per desk process."""

    def __init__(self, schedule_path: Path, state_dir: Path, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.path = Path(schedule_path).absolute()
        self.folder = self.path.parent
        self.state_dir = Path(state_dir)
        self.history_dir = self.state_dir / HISTORY
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: tuple | None = None       # (stat, yaml, document, bytes) as the last save wrote them
        self._digests: dict[str, tuple[tuple, bytes]] = {}   # text file -> (its stat, sha256 of its bytes)

    # -- reading ------------------------------------------------------------------------------
    def schedule_bytes(self) -> bytes:
        return self.path.read_bytes()

    def load(self) -> tuple[YAML, Any, bytes]:
        """The round-trip document to edit. The one the last save wrote is reused while the file is
        unchanged on disk (ruamel needs about a second to read a 500-bulletin schedule); it is
        handed out once, since an edit changes it in place and a refused edit must not leak."""
        kept, self._kept = self._kept, None
        if kept is not None and kept[0] == _stat(self.path):
            return kept[1], kept[2], kept[3]
        return self._read()

    def warm(self) -> None:
        """Read the round-trip document ahead of the next save, which then takes it (`load`).

        The desk calls this in the background at start and when it sees the file changed: without
        it the first save after a start or a hand edit pays ruamel's second. Skipped while a save
        runs (that save keeps what it writes).
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            stat = _stat(self.path)
            if self._kept is None or self._kept[0] != stat:
                self._kept = (stat, *self._read())
        except (OSError, DeskError):
            pass                        # the save will say what is wrong with the file
        finally:
            self._lock.release()

    def _read(self) -> tuple[YAML, Any, bytes]:
        raw = self.schedule_bytes()
        source = raw.decode("utf-8-sig")
        yaml = _yaml(source)
        try:
            document = yaml.load(source)
        except YAMLError as exc:
            raise DeskError(409, i18n.tr("desk.file_broken", detail=str(exc).splitlines()[0])) from exc
        if not isinstance(document, CommentedMap):
            raise DeskError(409, i18n.tr("desk.file_broken", detail=self.path.name))
        return yaml, document, raw

    def text_files(self, document: Any) -> list[str]:
        bulletins = document.get("bulletins") if isinstance(document, dict) else None
        if not isinstance(bulletins, dict):
            return []
        return sorted(str(b["text_file"]) for b in bulletins.values()
                      if isinstance(b, dict) and isinstance(b.get("text_file"), str))

    def read_text(self, relative: str) -> bytes | None:
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def version(self, document: Any = None, raw: bytes | None = None) -> str:
        """sha256 over schedule.yaml and every text file it names: any change on disk changes it.

        Each text file's own digest is kept while its stat (time, size, inode) is unchanged: a
        500-bulletin station has hundreds of them, and every save computes the version twice.
        """
        if document is None:
            _, document, raw = self.load()
        digest = hashlib.sha256(raw)
        for relative in self.text_files(document):
            digest.update(b"\0" + relative.encode() + b"\0" + self._text_digest(relative))
        return digest.hexdigest()

    def _text_digest(self, relative: str) -> bytes:
        try:
            key = _stat(self.folder / relative)
        except OSError:
            key = None
        kept = self._digests.get(relative)
        if key is not None and kept is not None and kept[0] == key:
            return kept[1]
        data = self.read_text(relative)
        value = hashlib.sha256(data).digest() if data is not None else b"\1missing"
        if key is not None:
            self._digests[relative] = (key, value)
        return value

    # -- editing ------------------------------------------------------------------------------
    def save_bulletin(self, bulletin_id: str, fields: dict, *, who: str, expected: str | None,
                      create: bool) -> Saved:
        check_name(bulletin_id, kind="bulletin")
        fields = dict(fields)
        if fields.pop("id", bulletin_id) != bulletin_id:
            raise DeskError(400, i18n.tr("desk.id_mismatch"))
        _check_shape(fields, BULLETIN_KEYS)
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, create)
            bulletins = document.setdefault("bulletins", CommentedMap())
            if create and bulletin_id in bulletins:
                raise DeskError(409, i18n.tr("desk.exists", kind="bulletin", name=bulletin_id))
            if not create and bulletin_id not in bulletins:
                raise DeskError(404, i18n.tr("desk.not_found", kind="bulletin", name=bulletin_id))
            entry = bulletins.get(bulletin_id)
            before = _plain(entry)
            if not isinstance(entry, CommentedMap):
                entry = bulletins[bulletin_id] = CommentedMap()
            texts: dict[str, str] = {}
            text = fields.pop("text", None)
            other_source = fields.get("audio") is not None or fields.get("relay") is not None
            if text is not None:
                if isinstance(entry.get("text_file"), str) and not other_source:
                    texts[str(entry["text_file"])] = text
                    fields["text_file"] = entry["text_file"]
                elif "text" in entry and not other_source:
                    fields["text"] = LiteralScalarString(text) if "\n" in text.strip() else text
                else:
                    relative = f"{TEXT_FOLDER}/{bulletin_id}.txt"
                    texts[relative] = text
                    fields["text_file"] = relative
            elif not other_source and "text_file" not in fields:
                # A title-only edit keeps the source (a relay with its duration).
                for source in ("text", "text_file", "audio", "relay", "duration"):
                    if source in entry and fields.get(source) is None:
                        fields[source] = entry[source]
            _update(entry, fields, lambda _k, v: v, keep=())
            what = i18n.tr("desk.what.bulletin_new" if create else "desk.what.bulletin_edit", name=bulletin_id)
            return self._commit(yaml, document, texts, who=who, what=what, focus=("bulletins", bulletin_id),
                                check_texts=[bulletin_id], source=None if create else raw, before=before)

    def delete_bulletin(self, bulletin_id: str, *, who: str, expected: str | None) -> Saved:
        check_name(bulletin_id, kind="bulletin")
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, False)
            bulletins = document.get("bulletins") or {}
            if bulletin_id not in bulletins:
                raise DeskError(404, i18n.tr("desk.not_found", kind="bulletin", name=bulletin_id))
            users = [str(s.get("name")) for s in document.get("slots") or []
                     if isinstance(s, dict) and bulletin_id in _items(s.get("play") or [])]
            if users:
                raise DeskError(409, i18n.tr("desk.in_use", name=bulletin_id, slots=", ".join(users)),
                                [{"field": "id", "message": i18n.tr("desk.in_use", name=bulletin_id,
                                                                    slots=", ".join(users))}])
            del bulletins[bulletin_id]
            return self._commit(yaml, document, {}, who=who,
                                what=i18n.tr("desk.what.bulletin_delete", name=bulletin_id), focus=None,
                                check_texts=False)

    def save_slot(self, name: str, fields: dict, *, who: str, expected: str | None, create: bool) -> Saved:
        check_name(name, kind="slot")
        fields = dict(fields)
        _check_shape(fields, SLOT_KEYS)
        new_name = fields.get("name", name)
        if new_name != name:
            check_name(new_name, kind="slot")
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, create)
            slots = document.get("slots")
            if not isinstance(slots, list):
                slots = document["slots"] = CommentedSeq()
            index = next((i for i, s in enumerate(slots) if isinstance(s, dict) and s.get("name") == name), None)
            if create and index is not None:
                raise DeskError(409, i18n.tr("desk.exists", kind="slot", name=name))
            if not create and index is None:
                raise DeskError(404, i18n.tr("desk.not_found", kind="slot", name=name))
            if create:
                entry = CommentedMap()
                slots.append(entry)
                index = len(slots) - 1
            entry = slots[index]
            before = _plain(entry)
            fields["name"] = new_name
            ordered = {k: fields[k] for k in SLOT_KEYS if k in fields}
            _update(entry, ordered, _slot_value, keep=())
            what = i18n.tr("desk.what.slot_new" if create else "desk.what.slot_edit", name=new_name)
            return self._commit(yaml, document, {}, who=who, what=what, focus=("slots", index), check_texts=False,
                                source=None if create else raw, before=before)

    def delete_slot(self, name: str, *, who: str, expected: str | None) -> Saved:
        check_name(name, kind="slot")
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, False)
            slots = document.get("slots") or []
            index = next((i for i, s in enumerate(slots) if isinstance(s, dict) and s.get("name") == name), None)
            if index is None:
                raise DeskError(404, i18n.tr("desk.not_found", kind="slot", name=name))
            del slots[index]
            return self._commit(yaml, document, {}, who=who, what=i18n.tr("desk.what.slot_delete", name=name),
                                focus=None, check_texts=False)

    def save_campaign(self, campaign_id: str, fields: dict, *, who: str, expected: str | None,
                      create: bool) -> Saved:
        """A publicity campaign under `campaigns:` (made when the file has none yet)."""
        check_name(campaign_id, kind="campaign")
        fields = dict(fields)
        if fields.pop("id", campaign_id) != campaign_id:
            raise DeskError(400, i18n.tr("desk.id_mismatch"))
        _check_shape(fields, CAMPAIGN_KEYS)
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, create)
            campaigns = document.get("campaigns")
            known = isinstance(campaigns, CommentedMap) and campaign_id in campaigns
            if create and known:
                raise DeskError(409, i18n.tr("desk.exists", kind="campaign", name=campaign_id))
            if not create and not known:
                raise DeskError(404, i18n.tr("desk.not_found", kind="campaign", name=campaign_id))
            entry = campaigns[campaign_id] if known else CommentedMap()
            _update(entry, {k: fields[k] for k in CAMPAIGN_KEYS if k in fields}, _campaign_value, keep=())
            if not isinstance(campaigns, CommentedMap):
                _append(document, "campaigns", CommentedMap([(campaign_id, entry)]))
            elif not known:
                _append(campaigns, campaign_id, entry)
            what = i18n.tr("desk.what.campaign_new" if create else "desk.what.campaign_edit", name=campaign_id)
            return self._commit(yaml, document, {}, who=who, what=what, focus=("campaigns", campaign_id))

    def delete_campaign(self, campaign_id: str, *, who: str, expected: str | None) -> Saved:
        check_name(campaign_id, kind="campaign")
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, False)
            campaigns = document.get("campaigns")
            if not isinstance(campaigns, dict) or campaign_id not in campaigns:
                raise DeskError(404, i18n.tr("desk.not_found", kind="campaign", name=campaign_id))
            del campaigns[campaign_id]
            if not campaigns:
                del document["campaigns"]
            return self._commit(yaml, document, {}, who=who,
                                what=i18n.tr("desk.what.campaign_delete", name=campaign_id), focus=None)

    def save_station(self, fields: dict, *, who: str, expected: str | None) -> Saved:
        """Replace the editable `station:` settings (absent ones fall back to their defaults); the
        fixed ones stay as the file has them. Nested mappings are edited in place, keeping comments."""
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, False)
            station = document.get("station")
            if not isinstance(station, CommentedMap):
                raise DeskError(409, i18n.tr("desk.file_broken", detail="station"))
            before = _plain(station)
            edit = _check_station_shape(fields, before)
            for key in STATION_EDITABLE:
                value = edit.get(key)
                if key in STATION_NESTED and isinstance(value, dict):
                    value = {k: v for k, v in value.items() if v is not None and v != []}
                if value is None or value == {} or value == []:
                    station.pop(key, None)
                elif key in STATION_NESTED:
                    ordered = {k: value[k] for k in STATION_NESTED[key] if k in value}
                    nested = station.get(key)
                    if isinstance(nested, CommentedMap):
                        _update(nested, ordered, _station_value, keep=())
                    else:
                        nested = CommentedMap()
                        _update(nested, ordered, _station_value, keep=())
                        if key in station:
                            station[key] = nested
                        else:
                            _append(station, key, nested)
                elif key not in station:
                    _append(station, key, _station_value(key, value))
                elif _plain(station[key]) != _plain(value):
                    station[key] = _station_value(key, value)
            after = _plain(station)
            changed = ", ".join(k for k in STATION_EDITABLE if before.get(k) != after.get(k)) or "-"
            return self._commit(yaml, document, {}, who=who, what=i18n.tr("desk.what.station", keys=changed),
                                focus=("station",))

    # -- history ------------------------------------------------------------------------------
    def versions(self) -> list[Version]:
        found = []
        if not self.history_dir.is_dir():
            return found
        for folder in sorted(self.history_dir.iterdir(), reverse=True):
            if not VERSION_ID.match(folder.name):
                continue
            try:
                meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            found.append(Version(folder.name, meta.get("at", ""), meta.get("who", ""), meta.get("what", ""),
                                 tuple(meta.get("files", {}))))
        return found

    def restore(self, version_id: str, *, who: str, expected: str | None) -> Saved:
        """Put back the files as they were before change `version_id` (itself a new, undoable change)."""
        if not VERSION_ID.match(version_id or "") or not (self.history_dir / version_id / "meta.json").is_file():
            raise DeskError(404, i18n.tr("desk.not_found", kind="version", name=version_id))
        folder = self.history_dir / version_id
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        with self._editing():
            yaml, document, raw = self.load()
            self._expect(expected, document, raw, False)
            files = meta.get("files", {})
            schedule_text = (folder / files[self.path.name]).read_text(encoding="utf-8-sig") \
                if self.path.name in files else None
            texts = {relative: (folder / stored).read_text(encoding="utf-8")
                     for relative, stored in files.items() if relative != self.path.name}
            candidate_yaml = _yaml(schedule_text if schedule_text is not None else raw.decode("utf-8-sig"))
            candidate = candidate_yaml.load(schedule_text) if schedule_text is not None else document
            return self._commit(candidate_yaml, candidate, texts, who=who,
                                what=i18n.tr("desk.what.restore", version=version_id, what=meta.get("what", "")),
                                focus=None, schedule_text=schedule_text)

    # -- the one write path --------------------------------------------------------------------
    def _editing(self):
        return _EditLock(self.state_dir / "desk-edit.lock", self._lock)

    def _expect(self, expected: str | None, document: Any, raw: bytes, create: bool) -> None:
        if expected is None and create:
            return                  # a new item cannot overwrite anyone's edit
        current = self.version(document, raw)
        if expected != current:
            raise DeskError(409, i18n.tr("desk.stale"),
                            [{"field": None, "message": i18n.tr("desk.stale")}])

    def _commit(self, yaml: YAML, document: Any, texts: dict[str, str], *, who: str, what: str,
                focus: tuple | None, schedule_text: str | None = None,
                check_texts: bool | list[str] = True, source: bytes | None = None, before: Any = None) -> Saved:
        """Validate and write. `check_texts`: whose texts get the reading check (its findings are
        warnings; the other texts are unchanged, so their warnings are not this edit's news).
        `source`: the bytes the document was read from, when only the `focus` item changed."""
        if schedule_text is not None:
            final = schedule_text
        elif source is not None:
            final = _dump_edit(yaml, document, source.decode("utf-8-sig"), focus, before)
        else:
            final = _dump(yaml, document)
        temporaries: list[Path] = []
        try:
            staged = {}
            for relative, content in texts.items():
                target = self._inside(relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                staged[relative] = self._stage(target, content.rstrip("\n") + "\n", temporaries)
            # The loader reads the staged texts: text_file points at them, in the checked copy only.
            check_text = _point_text_files(final, {rel: tmp.relative_to(self.folder).as_posix()
                                                   for rel, tmp in staged.items()}) if staged else final
            candidate = self._stage(self.path, check_text, temporaries)
            renames = {candidate: self.path, **{tmp: self._inside(rel) for rel, tmp in staged.items()}}
            schedule, problems = check_schedule(candidate, check_texts=check_texts)
            fields = _field_lines(final, focus, document) if problems else []
            reported = [self._problem(p, renames, fields, focus) for p in problems]
            errors = [p for p in reported if p["severity"] == "error"]
            if schedule is None or errors:
                raise DeskError(422, i18n.tr("desk.invalid", count=len(errors)), errors or reported)
            self._keep_history(who, what, list(texts))
            for relative, temporary in staged.items():
                _replace(temporary, self._inside(relative))
            candidate.unlink()
            _replace(self._stage(self.path, final, temporaries), self.path)
            if schedule_text is None:
                self._kept = (_stat(self.path), yaml, document, final.encode("utf-8"))
            return Saved(self.version(document, final.encode("utf-8")),
                         [p for p in reported if p["severity"] != "error"])
        finally:
            for temporary in temporaries:
                temporary.unlink(missing_ok=True)

    def _inside(self, relative: str) -> Path:
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise DeskError(400, i18n.tr("desk.bad_name", kind="file", value=relative))
        return path

    @staticmethod
    def _stage(target: Path, content: str, temporaries: list[Path]) -> Path:
        """`content` in a temporary file beside `target`, flushed to disk."""
        temporary = target.parent / f".{target.name}.desk-{secrets.token_hex(4)}.tmp"
        temporaries.append(temporary)
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        return temporary

    def _problem(self, problem: Problem, renames: dict[Path, Path],
                 fields: list[tuple[tuple[int, int], str | None]], focus: tuple | None) -> dict:
        path = renames.get(Path(problem.path), Path(problem.path))
        try:
            shown = path.relative_to(self.folder).as_posix()
        except ValueError:
            shown = str(path)
        if problem.key == "relay.no_duration" and focus and focus[0] == "bulletins":
            field = "duration"              # reported at the bulletin's id, but the missing field is clear
        elif path == self.path:
            place = (problem.line, problem.column)
            field = next((key for start, key in reversed(fields) if start <= place), None)
        else:
            field = "text" if focus and focus[0] == "bulletins" else None
        return {"file": shown, "line": problem.line, "column": problem.column, "severity": problem.severity,
                "key": problem.key, "message": problem.message, "field": field}

    def _keep_history(self, who: str, what: str, text_files: list[str]) -> None:
        stamp = self.clock().astimezone(timezone.utc)
        folder = self.history_dir / stamp.strftime("%Y%m%dT%H%M%S.%fZ")
        while folder.exists():               # two saves in one microsecond (tests)
            stamp = stamp.replace(microsecond=(stamp.microsecond + 1) % 1_000_000)
            folder = self.history_dir / stamp.strftime("%Y%m%dT%H%M%S.%fZ")
        folder.mkdir(parents=True)
        files = {self.path.name: "schedule.yaml"}
        (folder / "schedule.yaml").write_bytes(self.schedule_bytes())
        for number, relative in enumerate(text_files):
            previous = self.read_text(relative)
            if previous is not None:
                (folder / f"text-{number}.txt").write_bytes(previous)
                files[relative] = f"text-{number}.txt"
        meta = {"at": stamp.isoformat(timespec="seconds"), "who": who, "what": what, "files": files}
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _stat(path: Path) -> tuple:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _point_text_files(source: str, swap: dict[str, str]) -> str:
    """`source` with the bulletins' `text_file` values named in `swap` replaced (double-quoted),
    found by the composer's marks: only those values' characters change, every line stays."""
    root = compose_text(source)
    bulletins = next((v for k, v in root.value if k.value == "bulletins"), None) \
        if isinstance(root, yaml_c.MappingNode) else None
    spans = []
    for _, entry in bulletins.value if isinstance(bulletins, yaml_c.MappingNode) else []:
        for key, value in entry.value if isinstance(entry, yaml_c.MappingNode) else []:
            if key.value == "text_file" and isinstance(value, yaml_c.ScalarNode) and value.value in swap:
                spans.append((value.start_mark.index, value.end_mark.index, json.dumps(swap[value.value])))
    for start, end, replacement in sorted(spans, reverse=True):
        source = source[:start] + replacement + source[end:]
    return source


def _field_lines(source: str, focus: tuple | None, document: Any) -> list[tuple[tuple[int, int], str | None]]:
    """((line, column), key) where each key of the edited item starts, in file order, so a problem's
    place tells which field it belongs to. Only a bulletin's or slot's own lines are composed when
    they can be told by indentation (`_item_lines`); libyaml's composer either way."""
    if focus is None:
        return []
    offset, steps = 0, focus
    if len(focus) == 2:
        section, key = focus
        text = source.splitlines(keepends=True)
        items = _item_lines(text, section)
        if items is not None and isinstance(document.get(section), (list, dict)) \
                and len(items) == len(document[section]):
            first, end = items[key if isinstance(key, int) else list(document[section]).index(key)]
            source = f"{section}:\n" + "".join(text[first:end])
            offset, steps = first - 1, (section, 0 if isinstance(key, int) else key)
    try:
        node = yaml_c.compose(source, Loader=yaml_c.CSafeLoader)
    except yaml_c.YAMLError:
        return []
    for step in steps:
        if isinstance(node, yaml_c.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml_c.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return []
    if not isinstance(node, yaml_c.MappingNode):
        return []
    lines: list[tuple[tuple[int, int], str | None]] = []
    for key, value in node.value:
        lines.append(((key.start_mark.line + 1 + offset, key.start_mark.column + 1), str(key.value)))
        if isinstance(value, yaml_c.MappingNode):          # station.speech.gtts_timeout, target.per
            lines += [((k.start_mark.line + 1 + offset, k.start_mark.column + 1), f"{key.value}.{k.value}")
                      for k, _ in value.value]
    if node.value:          # past the item's last value: a problem elsewhere in the file is no field's
        end = node.value[-1][1].end_mark
        lines.append(((end.line + 1 + offset, end.column + 1), None))
    return lines


def _replace(temporary: Path, target: Path) -> None:
    """Rename a flushed temporary file over `target` and make the rename itself durable."""
    os.replace(temporary, target)
    descriptor = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _EditLock:
    """One edit at a time: a thread lock inside the desk, an flock across processes."""

    def __init__(self, path: Path, lock: threading.Lock) -> None:
        self.path = path
        self.lock = lock
        self.handle = None

    def __enter__(self) -> "_EditLock":
        self.lock.acquire()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.path, "a")
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        try:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
        finally:
            self.lock.release()
