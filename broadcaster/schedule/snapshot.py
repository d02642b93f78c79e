"""The last schedule that validated, kept as JSON, so a broken edit never silences the station.

The daemon saves it after every schedule it accepts. When schedule.yaml has errors at start-up
(an edit made while the station was off, then a power cut and a reboot), `broadcaster run`
reports the errors and airs this copy; the hot reload takes over as soon as the file is fixed.
It lives in `var/` beside the schedule file whatever `state_dir` says, because a broken file
cannot tell where its state folder is. JSON, not pickle: nothing in a state folder is executed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadcaster.problems import Location
from broadcaster.schedule.campaigns import Campaign, Target
from broadcaster.schedule.model import (
    DEFAULT_DESK_LISTEN, Bulletin, DateRange, Priority, ProgrammeSettings, Schedule, Slot, SpeechSettings,
    Station, StreamSettings,
)
from broadcaster.schedule.outputs import load_passwords

log = logging.getLogger(__name__)

FORMAT = 4   # bump when the model changes shape; an old snapshot is then ignored, not misread


def snapshot_path(schedule_path: Path) -> Path:
    schedule_path = Path(schedule_path).absolute()
    return schedule_path.parent / "var" / f"last-good-{schedule_path.name}.json"


def save_snapshot(schedule: Schedule) -> Path:
    """Write the schedule atomically beside its file; returns where."""
    path = snapshot_path(schedule.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": FORMAT, "schedule": _schedule_to(schedule)}
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".last-good-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_snapshot(schedule_path: Path) -> Schedule | None:
    """The last good schedule for this file, or None when there is none or it cannot be read."""
    path = snapshot_path(schedule_path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            return None
        return _schedule_from(document["schedule"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("last good schedule %s is unreadable, ignored: %s", path, exc)
        return None


def _path(value: str | None) -> Path | None:
    return Path(value) if value is not None else None


def _passwords(secrets: Path | None) -> dict[str, str]:
    """The secrets file's passwords as it reads now; none when it is missing or broken."""
    if secrets is None:
        return {}
    passwords, problems = load_passwords(secrets)
    for problem in problems:
        log.warning("%s", problem.format())
    return passwords


def _location_to(location: Location | None) -> list | None:
    return [str(location.path), location.line, location.column] if location else None


def _location_from(value: list | None) -> Location | None:
    return Location(Path(value[0]), value[1], value[2]) if value else None


def _schedule_to(schedule: Schedule) -> dict[str, Any]:
    station = schedule.station
    return {
        "path": str(schedule.path),
        "version": schedule.version,
        "station": {
            "name": station.name, "timezone": station.timezone.key, "state_dir": str(station.state_dir),
            "loudness": station.loudness, "output": station.output, "voicing": station.voicing,
            "jingles": {name: str(path) for name, path in station.jingles.items()},
            "speech": {**vars(station.speech), "engines": list(station.speech.engines)},
            "programme": vars(station.programme),
            "catch_up": station.catch_up.total_seconds(), "prerender": station.prerender.total_seconds(),
            "pronunciations": str(station.pronunciations) if station.pronunciations else None,
            # Passwords are not copied here: they are read again from the 0600 secrets file.
            "outputs": list(station.outputs), "zones": station.zones, "stream": vars(station.stream),
            "secrets": str(station.secrets) if station.secrets else None, "relay_gap": station.relay_gap,
            "relay_notice": station.relay_notice,
            "air_hours": [[a.isoformat(), b.isoformat()] for a, b in station.air_hours],
            "metrics_listen": list(station.metrics_listen) if station.metrics_listen else None,
            "desk_listen": station.desk_listen,
        },
        "bulletins": [
            {"id": b.id, "title": b.title, "text": b.text,
             "text_file": str(b.text_file) if b.text_file else None,
             "audio": str(b.audio) if b.audio else None, "priority": b.priority.label,
             "repeat": b.repeat, "intro": b.intro, "outro": b.outro, "location": _location_to(b.location),
             "relay": b.relay, "duration": b.duration.total_seconds() if b.duration else None}
            for b in schedule.bulletins.values()],
        "slots": [
            {"name": s.name, "at": [t.isoformat() for t in s.at], "play": list(s.play),
             "days": sorted(s.days) if s.days is not None else None,
             "dates": [d.isoformat() for d in s.dates],
             "start": s.start.isoformat() if s.start else None,
             "until": s.until.isoformat() if s.until else None,
             "exceptions": [[r.first.isoformat(), r.last.isoformat()] for r in s.exceptions],
             "enabled": s.enabled, "location": _location_to(s.location), "zones": list(s.zones),
             "lunar": sorted(s.lunar) if s.lunar is not None else None,
             "lunar_months": sorted(s.lunar_months) if s.lunar_months is not None else None,
             "except_holidays": s.except_holidays, "on_holidays": s.on_holidays}
            for s in schedule.slots],
        "campaigns": [
            {"id": c.id, "title": c.title, "plan": c.plan, "bulletins": list(c.bulletins),
             "start": c.start.isoformat() if c.start else None,
             "until": c.until.isoformat() if c.until else None,
             "target": [c.target.amount, c.target.unit, c.target.per] if c.target else None,
             "make_up": c.make_up, "location": _location_to(c.location)}
            for c in schedule.campaigns.values()],
    }


def _schedule_from(data: dict[str, Any]) -> Schedule:
    st = data["station"]
    station = Station(
        name=st["name"], timezone=ZoneInfo(st["timezone"]), state_dir=Path(st["state_dir"]),
        loudness=st["loudness"], output=st["output"], voicing=st["voicing"],
        jingles={name: Path(path) for name, path in st["jingles"].items()},
        speech=SpeechSettings(**{**st["speech"], "engines": tuple(st["speech"]["engines"])}),
        programme=ProgrammeSettings(**st["programme"]),
        catch_up=timedelta(seconds=st["catch_up"]), prerender=timedelta(seconds=st["prerender"]),
        pronunciations=_path(st["pronunciations"]),
        outputs=tuple(st["outputs"]), zones=st["zones"], stream=StreamSettings(**st["stream"]),
        secrets=_path(st["secrets"]), passwords=_passwords(_path(st["secrets"])), relay_gap=st["relay_gap"],
        relay_notice=st["relay_notice"],
        air_hours=tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in st["air_hours"]),
        metrics_listen=tuple(st["metrics_listen"]) if st.get("metrics_listen") else None,
        desk_listen=st.get("desk_listen", DEFAULT_DESK_LISTEN),
    )
    bulletins = {
        b["id"]: Bulletin(id=b["id"], title=b["title"], text=b["text"], text_file=_path(b["text_file"]),
                          audio=_path(b["audio"]), priority=Priority.parse(b["priority"]), repeat=b["repeat"],
                          intro=b["intro"], outro=b["outro"], location=_location_from(b["location"]),
                          relay=b["relay"],
                          duration=timedelta(seconds=b["duration"]) if b["duration"] is not None else None)
        for b in data["bulletins"]}
    slots = tuple(
        Slot(name=s["name"], at=tuple(time.fromisoformat(t) for t in s["at"]), play=tuple(s["play"]),
             days=frozenset(s["days"]) if s["days"] is not None else None,
             dates=tuple(date.fromisoformat(d) for d in s["dates"]),
             start=date.fromisoformat(s["start"]) if s["start"] else None,
             until=date.fromisoformat(s["until"]) if s["until"] else None,
             exceptions=tuple(DateRange(date.fromisoformat(a), date.fromisoformat(b)) for a, b in s["exceptions"]),
             enabled=s["enabled"], location=_location_from(s["location"]), zones=tuple(s["zones"]),
             lunar=frozenset(s["lunar"]) if s["lunar"] is not None else None,
             lunar_months=frozenset(s["lunar_months"]) if s["lunar_months"] is not None else None,
             except_holidays=s["except_holidays"], on_holidays=s["on_holidays"])
        for s in data["slots"])
    campaigns = {
        c["id"]: Campaign(id=c["id"], title=c["title"], plan=c["plan"], bulletins=tuple(c["bulletins"]),
                          start=date.fromisoformat(c["start"]) if c["start"] else None,
                          until=date.fromisoformat(c["until"]) if c["until"] else None,
                          target=Target(*c["target"]) if c["target"] else None, make_up=c["make_up"],
                          location=_location_from(c["location"]))
        for c in data["campaigns"]}
    return Schedule(path=Path(data["path"]), station=station, bulletins=bulletins, slots=slots,
                    campaigns=campaigns, version=data.get("version", ""))
