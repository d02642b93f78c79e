"""The desk's operations: one function per thing an operator can do, shared by pages and API.

Where it sits: routes (pages and /api/) parse a request, check the role and call one method of
`Desk`; nothing else decides anything. `Desk` is a client of the station like the CLI: it
reads and edits files through `ScheduleStore`, asks the running daemon through the control
socket (`ask_daemon`: whether a daemon runs is its lock, so a busy daemon is never taken for a
stopped one, and a daemon whose state folder refuses writes is found in its fallback folder),
and reads the as-run log. After every save it asks the daemon to `reload` at once, so the edit
is on air in about a second instead of at the next file poll. It keeps no copy of the station's state that could drift,
only parse caches keyed by the files' size and modification time. Every change and every
play/stop/emergency request is written to the audit trail with who, when and from where.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadcaster import i18n
from broadcaster.asrun import log_path
from broadcaster.desk import messages as _messages  # noqa: F401  (registers the catalogue)
from broadcaster.desk.accounts import Accounts, User
from broadcaster.desk.exports import csv_chunks
from broadcaster.desk.history import Query, rows
from broadcaster.desk.store import DeskError, Saved, ScheduleStore, check_name, read_plain, sha256
from broadcaster.errors import BroadcasterError, OnAirError
from broadcaster.occurrences import occurrences
from broadcaster.onair.control import ask_daemon
from broadcaster.schedule import Schedule, check_schedule
from broadcaster.schedule.loader import BULLETIN_KEYS, SLOT_KEYS


log = logging.getLogger(__name__)

STATUS_PATIENCE = 1.0         # the page polls every 2 s; a busy daemon must not pile requests up
REQUEST_PATIENCE = 10.0       # play/stop/emergency: a busy daemon is asked again for this long
RELOAD_PATIENCE = 5.0         # the reload after a save (the file poll takes it anyway)
PREVIEW_DIR = "desk-preview"
PREVIEW_KEEP = 50
HISTORY_PAGE = 200            # rows per page of the as-run log; exports carry every row of the range
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"   # while the schedule has errors (the loader's own default)
LEVELS = ("normal", "priority", "emergency")


@dataclass(frozen=True)
class Actor:
    """Who asks: the user and the address the request came from (for the audit trail)."""

    user: User
    address: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


class Desk:
    """Everything the desk does, for one station. Thread-safe: routes run in a thread pool."""

    def __init__(self, schedule_path: Path, state_dir: Path, accounts: Accounts, *,
                 upload_limit: int = 50 * 1024 * 1024) -> None:
        self.schedule_path = Path(schedule_path).absolute()
        self.state_dir = Path(state_dir)
        self.accounts = accounts
        self.store = ScheduleStore(self.schedule_path, self.state_dir)
        self.upload_limit = upload_limit
        self._lock = threading.Lock()
        self._doc_cache: tuple | None = None          # (files, their stat key, document, version)
        self._schedule_cache: tuple | None = None     # (files, their stat key, schedule, problems)
        self._bulletins_cache: tuple | None = None    # (version, bulletins as JSON, their search text)
        self._speaker: tuple | None = None            # (schedule, its speaker) for broadcast voices
        self._last_status: tuple[float, dict] | None = None   # (monotonic time, reply) of the daemon
        self.status_patience = STATUS_PATIENCE
        self.request_patience = REQUEST_PATIENCE

    # -- reading the files (cached by stat) ----------------------------------------------------
    def _stat_key(self, paths) -> tuple:
        key = []
        for path in paths:
            try:
                st = os.stat(path)
                key.append((str(path), st.st_mtime_ns, st.st_size))
            except OSError:
                key.append((str(path), None, None))
        return tuple(key)

    def document(self) -> tuple[Any, str]:
        """schedule.yaml as ruamel data (as written) and the version a page must send back to save."""
        with self._lock:
            cached = self._doc_cache
        if cached is not None and self._stat_key(cached[0]) == cached[1]:
            return cached[2], cached[3]
        raw = self.store.schedule_bytes()
        document = read_plain(raw)
        if not isinstance(document, dict):
            raise DeskError(409, i18n.tr("desk.file_broken", detail=self.schedule_path.name))
        files = [self.schedule_path] + [self.store.folder / f for f in self.store.text_files(document)]
        key = self._stat_key(files)
        version = self.store.version(document, raw)
        with self._lock:
            self._doc_cache = (files, key, document, version)
        threading.Thread(target=self.store.warm, name="desk-warm", daemon=True).start()
        return document, version

    def prepare(self) -> None:
        """Read the files before the first request asks (and the round-trip document the first save
        edits, see `ScheduleStore.warm`); run in the background at start."""
        try:
            self.document()
        except (DeskError, OSError):
            pass                        # the first request says what is wrong

    def schedule(self) -> tuple[Schedule | None, list]:
        """The schedule as the loader reads it (None while the file has errors) and its problems."""
        with self._lock:
            cached = self._schedule_cache
        if cached is not None and self._stat_key(cached[0]) == cached[1]:
            return cached[2], cached[3]
        schedule, problems = check_schedule(self.schedule_path)
        files = list(schedule.source_files()) if schedule else [self.schedule_path]
        with self._lock:
            self._schedule_cache = (files, self._stat_key(files), schedule, problems)
        return schedule, problems

    def _text_of(self, entry: dict) -> str | None:
        if isinstance(entry.get("text_file"), str):
            raw = self.store.read_text(str(entry["text_file"]))
            return raw.decode("utf-8-sig", errors="replace") if raw is not None else None
        return str(entry["text"]) if "text" in entry else None

    # -- bulletins -----------------------------------------------------------------------------
    def bulletins(self, query: str = "") -> tuple[list[dict], str]:
        """Every bulletin (or those whose id, title or text holds `query`), texts read from their files.

        The list is kept with the version it was built from: a station of 500 bulletins has
        hundreds of text files, read again only when a file changed (the version says so).
        """
        document, version = self.document()
        with self._lock:
            kept = self._bulletins_cache
        if kept is None or kept[0] != version:
            items = [self._bulletin_json(str(bulletin_id), entry)
                     for bulletin_id, entry in (document.get("bulletins") or {}).items()]
            searched = [" ".join(str(item.get(k, "")) for k in ("id", "title", "text")).lower() for item in items]
            kept = (version, items, searched)
            with self._lock:
                self._bulletins_cache = kept
        needle = query.strip().lower()
        return [dict(item) for item, text in zip(kept[1], kept[2]) if not needle or needle in text], version

    def _bulletin_json(self, bulletin_id: str, entry: Any) -> dict:
        item: dict[str, Any] = {"id": bulletin_id}
        if isinstance(entry, dict):
            item.update({k: _jsonable(v) for k, v in entry.items() if k in BULLETIN_KEYS})
            text = self._text_of(entry)
            if text is not None:
                item["text"] = text
        return item

    def bulletin(self, bulletin_id: str) -> tuple[dict, str]:
        check_name(bulletin_id, kind="bulletin")
        document, version = self.document()
        bulletins = document.get("bulletins") or {}
        if bulletin_id not in bulletins:
            raise DeskError(404, i18n.tr("desk.not_found", kind="bulletin", name=bulletin_id))
        return self._bulletin_json(bulletin_id, bulletins[bulletin_id]), version

    def save_bulletin(self, actor: Actor, bulletin_id: str, fields: dict, expected: str | None,
                      create: bool) -> Saved:
        return self._change(actor, "bulletin.create" if create else "bulletin.edit", bulletin_id,
                            lambda: self.store.save_bulletin(bulletin_id, fields, who=actor.user.name,
                                                             expected=expected, create=create))

    def delete_bulletin(self, actor: Actor, bulletin_id: str, expected: str | None) -> Saved:
        return self._change(actor, "bulletin.delete", bulletin_id,
                            lambda: self.store.delete_bulletin(bulletin_id, who=actor.user.name, expected=expected))

    # -- slots ---------------------------------------------------------------------------------
    def slots(self) -> tuple[list[dict], str]:
        document, version = self.document()
        return [self._slot_json(s) for s in document.get("slots") or [] if isinstance(s, dict)], version

    @staticmethod
    def _slot_json(entry: dict) -> dict:
        return {k: _jsonable(v) for k, v in entry.items() if k in SLOT_KEYS}

    def slot(self, name: str) -> tuple[dict, str]:
        return _find(self.slots(), "slot", "name", name)

    def save_slot(self, actor: Actor, name: str, fields: dict, expected: str | None, create: bool) -> Saved:
        return self._change(actor, "slot.create" if create else "slot.edit", name,
                            lambda: self.store.save_slot(name, fields, who=actor.user.name,
                                                         expected=expected, create=create))

    def delete_slot(self, actor: Actor, name: str, expected: str | None) -> Saved:
        return self._change(actor, "slot.delete", name,
                            lambda: self.store.delete_slot(name, who=actor.user.name, expected=expected))

    # -- campaigns -----------------------------------------------------------------------------
    def campaigns(self) -> tuple[list[dict], str]:
        document, version = self.document()
        campaigns = document.get("campaigns")
        if not isinstance(campaigns, dict):
            return [], version
        return [{"id": str(k), **_jsonable(v)} for k, v in campaigns.items() if isinstance(v, dict)], version

    def campaign(self, campaign_id: str) -> tuple[dict, str]:
        return _find(self.campaigns(), "campaign", "id", campaign_id)

    def save_campaign(self, actor: Actor, campaign_id: str, fields: dict, expected: str | None,
                      create: bool) -> Saved:
        return self._change(actor, "campaign.create" if create else "campaign.edit", campaign_id,
                            lambda: self.store.save_campaign(campaign_id, fields, who=actor.user.name,
                                                             expected=expected, create=create))

    def delete_campaign(self, actor: Actor, campaign_id: str, expected: str | None) -> Saved:
        return self._change(actor, "campaign.delete", campaign_id,
                            lambda: self.store.delete_campaign(campaign_id, who=actor.user.name, expected=expected))

    # -- station settings ----------------------------------------------------------------------
    def station(self) -> tuple[dict, str]:
        """The `station:` block as the file has it (JSON-ready) and the version to send back."""
        document, version = self.document()
        station = document.get("station")
        if not isinstance(station, dict):
            raise DeskError(409, i18n.tr("desk.file_broken", detail="station"))
        return _jsonable(station), version

    def save_station(self, actor: Actor, fields: dict, expected: str | None) -> Saved:
        return self._change(actor, "station.edit", "station",
                            lambda: self.store.save_station(fields, who=actor.user.name, expected=expected))

    # -- versions ------------------------------------------------------------------------------
    def versions(self) -> list[dict]:
        return [v.to_json() for v in self.store.versions()]

    def restore(self, actor: Actor, version_id: str, expected: str | None) -> Saved:
        return self._change(actor, "schedule.restore", version_id,
                            lambda: self.store.restore(version_id, who=actor.user.name, expected=expected))

    def _change(self, actor: Actor, action: str, target: str, do) -> Saved:
        try:
            saved = do()
        except DeskError as exc:
            self._audit(actor, action, target, f"refused {exc.status}", str(exc))
            raise
        self._audit(actor, action, target, "ok", saved.version[:12])
        self._reload_daemon()
        return saved

    def _reload_daemon(self) -> None:
        """Tell the daemon the schedule changed, in the background: the save's answer does not
        wait for it, and without a daemon (or if it is busy) the file poll takes the edit anyway."""
        def ask() -> None:
            try:
                ask_daemon(self.state_dir, {"cmd": "reload"}, patience=RELOAD_PATIENCE)
            except OnAirError:
                pass

        threading.Thread(target=ask, name="desk-reload", daemon=True).start()

    def _audit(self, actor: Actor, action: str, target: str, outcome: str, detail: str = "") -> None:
        """One audit row. A state folder that refuses writes (a read-only or full disk) must not
        turn a request the station has already taken into an error: the row goes to the log."""
        try:
            self.accounts.audit(actor.user.name, actor.address, action, str(target), outcome, detail)
        except sqlite3.Error as exc:
            log.error("audit row not written (%s): %s %s %s %s %s %s", exc, actor.user.name, actor.address,
                      action, target, outcome, detail)

    # -- accounts ------------------------------------------------------------------------------
    def _account(self, actor: Actor, action: str, target: str, do, detail: str = ""):
        """Run one account change, audited whether it is done or refused."""
        try:
            result = do()
        except DeskError as exc:
            self._audit(actor, action, target, f"refused {exc.status}", str(exc))
            raise
        self._audit(actor, action, target, "ok", detail)
        return result

    def _own_or_admin(self, actor: Actor, action: str, name: str) -> None:
        """Anyone manages their own API tokens; only an admin those of others."""
        if name != actor.user.name and not actor.user.may("quan-tri"):
            self._audit(actor, action, name, "refused 403", actor.user.role)
            raise DeskError(403, i18n.tr("desk.forbidden", role=actor.user.role))

    def add_user(self, actor: Actor, name: str, role: str, password: str) -> User:
        return self._account(actor, "user.add", name, lambda: self.accounts.add(name, role, password), role)

    def set_role(self, actor: Actor, name: str, role: str) -> User:
        return self._account(actor, "user.role", name, lambda: self.accounts.set_role(name, role), role)

    def set_password(self, actor: Actor, name: str, password: str) -> None:
        """A new password ends that user's open sessions (a reset after a lost phone logs it out)."""
        self._account(actor, "user.passwd", name, lambda: self.accounts.set_password(name, password))

    def delete_user(self, actor: Actor, name: str) -> User:
        return self._account(actor, "user.delete", name, lambda: self.accounts.delete(name))

    def tokens(self, actor: Actor, name: str) -> list[dict]:
        self._own_or_admin(actor, "user.tokens", name)
        return self.accounts.tokens(name)

    def new_token(self, actor: Actor, name: str) -> str:
        """A new API token, returned once: only its hash is kept."""
        self._own_or_admin(actor, "user.token", name)
        return self._account(actor, "user.token", name, lambda: self.accounts.new_token(name))

    def revoke_token(self, actor: Actor, name: str, token_id: int) -> None:
        self._own_or_admin(actor, "user.revoke", name)
        self._account(actor, "user.revoke", name, lambda: self.accounts.revoke_token(name, token_id),
                      f"token {token_id}")

    # -- the station ---------------------------------------------------------------------------
    def _ask(self, request: dict, patience: float) -> tuple[str, dict | None]:
        """("running", reply), ("busy", None) or ("stopped", None).

        Whether a daemon runs is its lock (`ask_daemon`), never whether the socket answered: a
        daemon that does not answer within `patience` is busy, not stopped.
        """
        try:
            reply = ask_daemon(self.state_dir, request, patience=patience)
        except OnAirError:
            return "busy", None
        return ("stopped", None) if reply is None else ("running", reply)

    def status(self, now: datetime | None = None) -> dict:
        """What the daemon reports, plus what the desk can see itself: agenda, disk, edit taken.

        "daemon_state" is "running", "busy" (it runs but did not answer in time: its last answer
        is shown, with "as_of") or "stopped".
        """
        schedule, problems = self.schedule()
        zone = schedule.station.timezone if schedule else None
        now = now or datetime.now(zone)
        state, reply = self._ask({"cmd": "status"}, self.status_patience)
        as_of = None
        if reply is not None:
            self._last_status = (clock.monotonic(), reply)
        elif state == "busy" and self._last_status is not None:
            seen, reply = self._last_status
            as_of = (now - timedelta(seconds=clock.monotonic() - seen)).isoformat(timespec="seconds")
        error = reply.get("error") if reply is not None and not reply.get("ok") else None
        on_disk = sha256(self.store.schedule_bytes())
        in_force = reply.get("schedule_version") if reply else None
        usage = shutil.disk_usage(self.state_dir if self.state_dir.exists() else self.schedule_path.parent)
        return {
            "now": now.isoformat(timespec="seconds"),
            "daemon_state": state,
            "running": state != "stopped",
            "daemon": reply,
            "as_of": as_of,
            "error": error,
            "errors": (reply or {}).get("errors") or [],
            "schedule_version": on_disk,
            "taken": (in_force == on_disk) if in_force else None,
            "schedule_errors": [p.format() for p in problems if p.severity == "error"],
            "disk": {"free": usage.free, "total": usage.total},
            "next": self.agenda(now, days=2, limit=5, after=now),
            "playing": _playing((reply or {}).get("current"), now),
        }

    def today(self) -> date:
        """Today in the station's time zone."""
        schedule, _ = self.schedule()
        return datetime.now(schedule.station.timezone if schedule else None).date()

    def agenda(self, now: datetime | None = None, *, days: int = 1, limit: int | None = None,
               after: datetime | None = None) -> list[dict]:
        schedule, _ = self.schedule()
        if schedule is None:
            return []
        zone = schedule.station.timezone
        now = (now or datetime.now(zone)).astimezone(zone)
        start = after or datetime.combine(now.date(), time(), tzinfo=zone)
        end = datetime.combine(now.date() + timedelta(days=days), time(), tzinfo=zone)
        found = occurrences(schedule, start, end)[:limit]
        voices = self._voices(schedule, [o.bulletins for o in found])
        return [{"start": o.start.isoformat(), "slot": o.slot.name, "bulletins": list(o.bulletins),
                 "priority": o.priority(schedule).label, "voice": voice} for o, voice in zip(found, voices)]

    def _voices(self, schedule: Schedule, broadcasts: list[tuple[str, ...]]) -> list[dict | None]:
        """The voice each broadcast would air in now (Google's from the speech cache, or the
        offline voice while Google rests), as `broadcaster agenda` shows it; None for recordings."""
        from broadcaster.speech import speaker_for
        from broadcaster.speech.ahead import broadcast_voice
        from broadcaster.speech.speaker import voice_label

        if not broadcasts:
            return []
        with self._lock:
            kept = self._speaker
        if kept is None or kept[0] is not schedule:
            try:
                kept = (schedule, speaker_for(schedule))
            except BroadcasterError:            # a broken dictionary: the schedule's errors say so
                return [None] * len(broadcasts)
            with self._lock:
                self._speaker = kept
        speaker = kept[1]
        speaker.reload_failures()           # the daemon records when Google rests
        memo: dict = {}
        found = []
        for bulletins in broadcasts:
            try:
                voice = broadcast_voice(speaker, schedule, bulletins, memo)
            except BroadcasterError:
                voice = None
            found.append(None if voice is None else {"engine": voice.engine, "ready": voice.ready,
                                                     "reason": voice.reason, "label": voice_label(voice)})
        return found

    def _send(self, actor: Actor, action: str, target: str, request: dict) -> dict:
        state, reply = self._ask(request, self.request_patience)
        if reply is None:
            message = i18n.tr("desk.daemon_busy" if state == "busy" else "desk.no_daemon")
            self._audit(actor, action, target, "refused 503", message)
            raise DeskError(503, message)
        if not reply.get("ok"):
            self._audit(actor, action, target, "refused 409", str(reply.get("error")))
            raise DeskError(409, str(reply.get("error")))
        self._audit(actor, action, target, "ok", str(reply.get("key") or reply.get("message") or ""))
        return reply

    def play(self, actor: Actor, target: str) -> dict:
        if not isinstance(target, str) or not target.strip():
            raise DeskError(400, i18n.tr("desk.bad_name", kind="target", value=target))
        return self._send(actor, "play", target, {"cmd": "play", "target": target})

    def stop(self, actor: Actor) -> dict:
        return self._send(actor, "stop", "-", {"cmd": "stop"})

    def emergency(self, actor: Actor, text: str | None, bulletin: str | None, title: str | None = None) -> dict:
        text = (text or "").strip() or None
        bulletin = (bulletin or "").strip() or None
        if not text and not bulletin:
            raise DeskError(400, i18n.tr("desk.empty_emergency"))
        return self._send(actor, "emergency", bulletin or (text or "")[:80],
                          {"cmd": "emergency", "text": text, "bulletin": bulletin, "title": title})

    # -- the as-run log ------------------------------------------------------------------------
    def _query(self, first: str | None, last: str | None, slot: str, status: str) -> Query:
        schedule, _ = self.schedule()
        return Query(schedule.station.timezone if schedule else ZoneInfo(DEFAULT_ZONE), first, last, slot, status)

    def history(self, first: str | None = None, last: str | None = None, slot: str = "", status: str = "",
                limit: int | None = None, offset: int = 0) -> list[dict]:
        """As-run rows of the date range (station days, inclusive), newest first, filtered, paged."""
        return list(rows(log_path(self.state_dir), self._query(first, last, slot, status), limit=limit,
                         offset=offset))

    def export_csv(self, first: str | None, last: str | None, slot: str, status: str) -> Iterator[bytes]:
        """The rows of the range as CSV pieces, oldest first, read from SQLite as the client takes them."""
        return csv_chunks(rows(log_path(self.state_dir), self._query(first, last, slot, status), newest_first=False))

    def export_xlsx(self, first: str | None, last: str | None, slot: str, status: str) -> Path:
        """The rows of the range as an XLSX file, built by a child process (see `desk.exports`)."""
        query = self._query(first, last, slot, status)          # a bad date is the caller's 400
        folder = self.state_dir / PREVIEW_DIR
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"export-{secrets.token_hex(8)}.xlsx"
        request = json.dumps({"log": str(log_path(self.state_dir)), "zone": query.zone.key, "first": first,
                              "last": last, "slot": slot, "status": status, "out": str(out)})
        result = subprocess.run([sys.executable, "-m", "broadcaster.desk.exports"], input=request.encode(),
                                capture_output=True, timeout=600)
        if result.returncode != 0 or not out.exists():
            out.unlink(missing_ok=True)
            message = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise DeskError(500, message[0])
        return out

    # -- text, listening, uploads --------------------------------------------------------------
    def spoken(self, text: str) -> dict:
        """The spoken form and the tokens the normalizer is unsure of (line, column, token, reason)."""
        from broadcaster.text import Normalizer, load_dictionary

        schedule, _ = self.schedule()
        overrides = {}
        if schedule and schedule.station.pronunciations:
            overrides, _ = load_dictionary(schedule.station.pronunciations)
        normalizer = Normalizer(overrides)
        findings = normalizer.check(text)
        return {"spoken": normalizer.normalize(text),
                "findings": [{"line": f.line, "column": f.column, "token": f.token, "reason": f.reason}
                             for f in findings]}

    def preview(self, actor: Actor, fields: dict) -> Path:
        """Render a bulletin as it will air (jingles, repeats, loudness) into a cached WAV.

        The render runs in a child process: the desk stays small, and a render that crashes
        takes nothing else with it. Same bulletin and station settings -> same file, no render.
        """
        schedule, problems = self.schedule()
        if schedule is None:
            raise DeskError(409, i18n.tr("desk.invalid", count=len(problems)),
                            [{"message": p.format(), "severity": p.severity} for p in problems])
        fields = {k: v for k, v in fields.items() if k in BULLETIN_KEYS + ("id",)}
        key = hashlib.sha256(json.dumps([fields, repr(schedule.station)], sort_keys=True,
                                        ensure_ascii=False, default=str).encode()).hexdigest()[:32]
        folder = self.state_dir / PREVIEW_DIR
        out = folder / f"{key}.wav"
        if out.exists():
            return out
        folder.mkdir(parents=True, exist_ok=True)
        request = json.dumps({"schedule": str(self.schedule_path), "out": str(out), "fields": fields})
        result = subprocess.run([sys.executable, "-m", "broadcaster.desk.preview"], input=request.encode(),
                                capture_output=True, timeout=300, env={**os.environ, "BROADCASTER_LANG": i18n.language()})
        if result.returncode != 0 or not out.exists():
            message = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise DeskError(422, message[0])
        self._audit(actor, "preview", str(fields.get("id") or ""), "ok", out.name)
        for old in sorted(folder.glob("*.wav"), key=lambda p: p.stat().st_mtime)[:-PREVIEW_KEEP]:
            old.unlink(missing_ok=True)
        return out

    def preview_file(self, name: str) -> Path:
        if not (name.endswith(".wav") and len(name) == 36 and all(c in "0123456789abcdef" for c in name[:32])):
            raise DeskError(404, i18n.tr("desk.not_found", kind="file", name=name))
        path = self.state_dir / PREVIEW_DIR / name
        if not path.is_file():
            raise DeskError(404, i18n.tr("desk.not_found", kind="file", name=name))
        return path

    def upload(self, actor: Actor, bulletin_id: str, stream, filename: str) -> str:
        """Store an uploaded recording inside the station folder; returns its path for `audio:`."""
        from broadcaster.desk.uploads import store_upload

        check_name(bulletin_id, kind="bulletin")
        try:
            relative = store_upload(stream, self.schedule_path.parent, bulletin_id, limit=self.upload_limit)
        except DeskError as exc:
            self._audit(actor, "upload", bulletin_id, f"refused {exc.status}", f"{filename!r}: {exc}")
            raise
        self._audit(actor, "upload", bulletin_id, "ok", f"{filename!r} -> {relative}")
        return relative


def _find(listed: tuple[list[dict], str], kind: str, key: str, value: str) -> tuple[dict, str]:
    """The item whose `key` is `value` from a (items, version) listing, or 404."""
    check_name(value, kind=kind)
    items, version = listed
    for item in items:
        if item.get(key) == value:
            return item, version
    raise DeskError(404, i18n.tr("desk.not_found", kind=kind, name=value))


def _playing(current: Any, now: datetime) -> dict | None:
    """What plays this second, from the daemon's "current": slot, bulletins, level, and once its
    sound started, seconds elapsed and remaining (from its length and end)."""
    if not isinstance(current, dict):
        return None
    playing = {k: current.get(k) for k in ("key", "slot", "bulletins", "priority", "started", "length", "ends_at")}
    if current.get("started") and current.get("ends_at"):
        started = datetime.fromisoformat(current["started"])
        ends_at = datetime.fromisoformat(current["ends_at"])
        playing["elapsed"] = max(0, int((now - started).total_seconds()))
        playing["remaining"] = max(0, math.ceil((ends_at - now).total_seconds()))
    return playing
