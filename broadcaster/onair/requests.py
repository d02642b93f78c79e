"""Desk requests: `play`, `emergency`, `stop`, `status`, `pending` and `reload`, from the CLI or the
control socket.

In: a request dict (control socket) or a resolved `Request` (the CLI's direct mode), checked
against the schedule in force. Out: an `Entry` queued for the playout (rendered urgently first),
a stop of what plays, a status dict, or a look at the schedule files now (`reload`: the desk
saved an edit; the hot reload validates it off the playout as always); an `OnAirError` with an
operator-readable message for a bad request. `resolve_play` and `resolve_emergency` are pure, so
the CLI can check a request before it talks to the daemon.

Lock: none of its own. It reads the schedule under the planner's lock, then (with that lock
released) asks the prerenderer and the playout, in the daemon's lock order.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from broadcaster import i18n
from broadcaster.errors import OnAirError
from broadcaster.onair import policy, relays
from broadcaster.onair.clock import Clock
from broadcaster.onair.playout import Playout
from broadcaster.onair.queue import Entry, Kind
from broadcaster.onair.recorder import Recorder
from broadcaster.onair.render import Prerenderer, RenderJob
from broadcaster.output.icecast import routed_sinks
from broadcaster.schedule.model import Bulletin, Priority, Schedule

log = logging.getLogger(__name__)

i18n.register({
    "onair.unknown_target": ("Không có bản tin hay buổi phát nào tên {target!r}. Có: {known}",
                             "No bulletin or slot named {target!r}. Known: {known}"),
    "onair.unknown_bulletin": ("Không có bản tin {target!r}. Có: {known}",
                               "No bulletin named {target!r}. Known: {known}"),
    "onair.empty_emergency": ("Tin khẩn cấp cần nội dung (văn bản) hoặc --bulletin.",
                              "An emergency needs a text or --bulletin."),
    "onair.emergency_title": ("Tin khẩn cấp", "Emergency bulletin"),
    "onair.queued": ("Đã xếp lịch phát {what} (mức {priority}).", "Queued {what} (level {priority})."),
    "onair.stopped": ("Đã dừng {key}.", "Stopped {key}."),
    "onair.nothing_to_stop": ("Không có gì đang phát.", "Nothing is on air."),
    "onair.unknown_command": ("Lệnh không rõ: {cmd!r}", "Unknown command: {cmd!r}"),
    "onair.reload_queued": ("Đang đọc lại lịch phát.", "Reading the schedule again."),
    "onair.no_reload": ("Chương trình phát thanh không theo dõi lịch phát (chế độ phát trực tiếp).",
                        "The station daemon is not watching the schedule (direct mode)."),
    "onair.level.normal": ("thường", "normal"),
    "onair.level.priority": ("ưu tiên", "priority"),
    "onair.level.emergency": ("khẩn cấp", "emergency"),
})


@dataclasses.dataclass(frozen=True)
class Request:
    """A desk request, validated against the schedule: what to air and how urgently."""

    kind: Kind
    name: str                     # slot column of the as-run row: the slot, bulletin or "emergency"
    bulletins: tuple[Bulletin, ...]
    priority: Priority
    zones: tuple[str, ...] = ()   # a slot's zones (its Icecast mounts); empty: everywhere


def resolve_play(schedule: Schedule, target: str) -> Request:
    """`broadcaster play TARGET`: a bulletin id (checked first) or a slot name."""
    if target in schedule.bulletins:
        bulletin = schedule.bulletins[target]
        return Request(Kind.MANUAL, target, (bulletin,), bulletin.priority)
    for slot in schedule.slots:
        if slot.name == target:
            bulletins = tuple(schedule.bulletins[b] for b in slot.play)
            return Request(Kind.MANUAL, target, bulletins, policy.priority_of(bulletins), slot.zones)
    known = ", ".join(sorted(schedule.bulletins) + [s.name for s in schedule.slots])
    raise OnAirError(i18n.tr("onair.unknown_target", target=target, known=known))


def resolve_emergency(schedule: Schedule, *, text: str | None, bulletin: str | None,
                      title: str | None, now: datetime) -> Request:
    """`broadcaster emergency`: ad-hoc text, or a schedule bulletin raised to emergency level."""
    if bulletin:
        if bulletin not in schedule.bulletins:
            raise OnAirError(i18n.tr("onair.unknown_bulletin", target=bulletin,
                                     known=", ".join(sorted(schedule.bulletins))))
        item = dataclasses.replace(schedule.bulletins[bulletin], priority=Priority.EMERGENCY)
    else:
        if not text or not text.strip():
            raise OnAirError(i18n.tr("onair.empty_emergency"))
        item = Bulletin(id=f"emergency-{now:%Y%m%d-%H%M%S}", title=title or i18n.tr("onair.emergency_title"),
                        text=text.strip(), priority=Priority.EMERGENCY)
    return Request(Kind.EMERGENCY, "emergency", (item,), Priority.EMERGENCY)


def _within(moment: datetime, request: dict) -> bool:
    """Whether `moment` is in the request's optional ["from", "to") range (ISO 8601 with offset)."""
    try:
        first, last = (datetime.fromisoformat(request[k]) if request.get(k) else None for k in ("from", "to"))
    except (TypeError, ValueError) as exc:
        raise OnAirError(i18n.tr("onair.bad_request", detail=f"from/to: {exc}")) from exc
    if any(bound is not None and bound.utcoffset() is None for bound in (first, last)):
        raise OnAirError(i18n.tr("onair.bad_request", detail="from/to need a UTC offset"))
    return (first is None or moment >= first) and (last is None or moment < last)


class Desk:
    """Serves desk requests: resolves them, has them rendered urgently and queued, or stops the air."""

    def __init__(self, *, clock: Clock, job: Callable[[str, str, tuple[Bulletin, ...]], RenderJob],
                 schedule: Callable[[], Schedule], renders: Prerenderer, playout: Playout,
                 recorder: Recorder, reload: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.reload = reload            # looks at the schedule files now (the hot reload's watcher)
        self.job = job                  # a render job against the schedule in force (the planner's)
        self.schedule = schedule
        self.renders = renders
        self.playout = playout
        self.recorder = recorder

    def submit(self, request: Request) -> Entry:
        """Queue a desk request now; an emergency cuts in as soon as its programme is rendered."""
        now = self.clock.now()
        key = f"{request.kind.value}:{request.name}@{now.isoformat(timespec='milliseconds')}"
        title = request.bulletins[0].title if len(request.bulletins) == 1 else request.name
        schedule = self.schedule()
        relay, source = relays.relay_of(request.bulletins), None
        if relay is not None:          # a relay now, for its duration: opened, aired once buffered
            source, audio = relays.open_relay(schedule, relay)
        else:
            audio = self.renders.request(self.job(key, title, request.bulletins), deadline=now, urgent=True)
        entry = Entry(key=key, kind=request.kind, slot=request.name,
                      bulletins=tuple(b.id for b in request.bulletins), priority=request.priority,
                      scheduled=now, audio=audio, start_at=None, order=-1,
                      content=tuple(request.bulletins),
                      sinks=routed_sinks(schedule.station, request.zones,
                                         emergency=request.priority >= Priority.EMERGENCY),
                      relay=source)
        log.warning("desk request %s queued at level %s", key, request.priority.label)
        return self.playout.push(entry)

    def handle(self, request: dict) -> dict:
        """A control-socket request -> a reply dict (raises OnAirError for the client to show)."""
        cmd = request.get("cmd")
        if cmd == "status":
            # schedule_version: sha256 of the schedule.yaml bytes in force, so the desk can tell
            # an operator when the station has taken an edit.
            return {**self.playout.status(), "asrun": self.recorder.status(),
                    "schedule_version": self.schedule().version}
        if cmd == "reload":
            if self.reload is None:
                raise OnAirError(i18n.tr("onair.no_reload"))
            self.reload()
            return {"reload": "queued", "message": i18n.tr("onair.reload_queued")}
        if cmd == "outputs":
            return {"outputs": self.playout.outputs()}
        if cmd == "pending":        # as-run rows held in memory/journal, not in SQLite yet (`history`)
            return {"rows": [row.to_json() for row in self.recorder.pending() if _within(row.scheduled, request)]}
        if cmd == "stop":
            stopped = self.playout.stop_current()
            if stopped is None:
                return {"stopped": None, "message": i18n.tr("onair.nothing_to_stop")}
            return {"stopped": stopped.key, "message": i18n.tr("onair.stopped", key=stopped.slot)}
        schedule = self.schedule()
        if cmd == "play":
            target = request.get("target")
            if not isinstance(target, str) or not target:
                raise OnAirError(i18n.tr("onair.bad_request", detail="play needs a target"))
            resolved = resolve_play(schedule, target)
        elif cmd == "emergency":
            text, bulletin, title = request.get("text"), request.get("bulletin"), request.get("title")
            if not all(v is None or isinstance(v, str) for v in (text, bulletin, title)):
                raise OnAirError(i18n.tr("onair.bad_request", detail="text, bulletin and title must be strings"))
            resolved = resolve_emergency(schedule, text=text, bulletin=bulletin, title=title, now=self.clock.now())
        else:
            raise OnAirError(i18n.tr("onair.unknown_command", cmd=cmd))
        entry = self.submit(resolved)
        return {"key": entry.key, "priority": entry.priority.label,
                "message": i18n.tr("onair.queued", what=entry.slot,
                                   priority=i18n.tr(f"onair.level.{entry.priority.label}"))}
