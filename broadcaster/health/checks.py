"""The station's health checks: will the next broadcast air, and if not, what must be fixed?

In: the schedule in force (and whether it is the file or the last good copy), the station's
outputs, the state folder, the speech cache's record of engine failures, the clock, and what the
daemon knows of renders. Out: one `Result` per check, each with a one-line message that names
the fix (Vietnamese, or English with --lang en):

    output:<spec>  each output opens and takes audio (a sound card gets 20 ms of digital silence)
    disk           state_dir writable, with room for the next day's renders
    asrun          the as-run log writable
    clock          synchronised (see health.clock)
    voice          Google's voice reachable, or how long it has been rested and how many coming
                   broadcasts the offline voice would speak now
    schedule       the file in force, or the last good copy and the errors keeping the file out
    next           the next broadcast and whether its programme is rendered

`Monitor` runs them with an injected clock and keeps their history in a `StateTracker`. The
output probes are a table keyed by the kind of output, so a new kind (an Icecast mount) adds
one function with `register_output_probe`.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster import i18n
from broadcaster.asrun.log import log_path
from broadcaster.constants import GTTS, OFFLINE_ENGINE
from broadcaster.errors import BroadcasterError, OutputError
from broadcaster.health.base import CheckStatus, Result, State, StateTracker, overall
from broadcaster.health.clock import check_clock
from broadcaster.occurrences import Occurrence, occurrences
from broadcaster.schedule.model import Schedule, Station

log = logging.getLogger(__name__)

OUTPUT_PREFIX = "output:"
CHEAP = ("disk", "asrun", "clock", "voice", "schedule", "next")   # every minute in the daemon
DAY = timedelta(days=1)
NEXT_LOOKAHEAD = timedelta(days=8)
PROGRAMME_BYTES_PER_SECOND = 48_000 * 2     # programme WAVs: 48 kHz mono 16-bit
SPEECH_BYTES_PER_SECOND = 24_000 * 2        # the speech cache's standard WAV: 24 kHz mono 16-bit
WORDS_PER_SECOND = 2.5                      # as the schedule's overlap estimate
FRAME_SECONDS = 8.0                         # jingles and pauses around each reading
ASRUN_MIN_FREE = 1 << 20                    # below this SQLite cannot be trusted to commit a row
RENDER_LATE = timedelta(minutes=1)          # not rendered this close to air: it will not air on time
GOOGLE_URL = "https://translate.google.com/"
GOOGLE_TIMEOUT = 3.0
ICECAST_TIMEOUT = 3.0

i18n.register({
    "health.output.ok": ("Đầu ra {name} mở được và nhận âm thanh.", "Output {name} opens and takes audio."),
    "health.output.failing": ("Đầu ra {name} không phát được: {detail}", "Output {name} cannot play: {detail}"),
    "health.output.icecast_down": ("máy chủ Icecast {server} không trả lời: khởi động icecast2 "
                                   "(`sudo systemctl start icecast2`) hoặc sửa địa chỉ trong station.outputs/zones.",
                                   "the Icecast server {server} does not answer: start icecast2 "
                                   "(`sudo systemctl start icecast2`) or fix the address in station.outputs/zones."),
    "health.output.folder": ("không ghi được vào thư mục {folder} ({detail}): sửa quyền ghi hoặc giải phóng ổ đĩa.",
                             "cannot write to {folder} ({detail}): fix its permissions or free disk space."),
    "health.disk.ok": ("Thư mục {folder} ghi được, còn trống {free}; 24 giờ tới cần khoảng {need}.",
                       "{folder} is writable with {free} free; the next 24 hours need about {need}."),
    "health.disk.low": ("Thư mục {folder} chỉ còn trống {free}, 24 giờ tới cần khoảng {need}: hãy xóa bớt tệp "
                        "hoặc chuyển state_dir sang ổ lớn hơn.",
                        "{folder} has only {free} free and the next 24 hours need about {need}: delete files "
                        "or move state_dir to a larger disk."),
    "health.disk.full": ("Thư mục {folder} không đủ chỗ (còn {free}, 24 giờ tới cần khoảng {need}): chương "
                         "trình sẽ không dựng được. Hãy giải phóng ổ đĩa ngay.",
                         "{folder} is out of space ({free} free, the next 24 hours need about {need}): "
                         "programmes cannot be rendered. Free disk space now."),
    "health.disk.unwritable": ("Không ghi được vào thư mục trạng thái {folder} ({detail}): sửa quyền ghi, "
                               "gắn lại ổ đĩa ở chế độ ghi, hoặc đổi station.state_dir.",
                               "Cannot write to the state folder {folder} ({detail}): fix its permissions, "
                               "remount the disk read-write, or change station.state_dir."),
    "health.asrun.ok": ("Nhật ký phát thanh {path} ghi được.", "The as-run log {path} is writable."),
    "health.asrun.new": ("Nhật ký phát thanh sẽ được tạo tại {path}.", "The as-run log will be created at {path}."),
    "health.asrun.failing": ("Không ghi được nhật ký phát thanh {path} ({detail}): sửa quyền ghi hoặc giải "
                             "phóng ổ đĩa, nếu không các buổi phát sẽ không được ghi lại.",
                             "Cannot write the as-run log {path} ({detail}): fix its permissions or free disk "
                             "space, or broadcasts go unrecorded."),
    "health.asrun.pending": ("Nhật ký phát thanh {path} không ghi được ({detail}): {count} dòng đang chờ trong bộ "
                             "nhớ và sổ tạm. Giải phóng ổ đĩa hoặc sửa quyền ghi; các dòng sẽ được ghi lại.",
                             "The as-run log {path} cannot be written ({detail}): {count} row(s) wait in memory "
                             "and the journal. Free disk space or fix permissions; they will be written then."),
    "health.asrun.full": ("ổ đĩa đầy", "the disk is full"),
    "health.voice.offline_only": ("Đài chỉ dùng giọng ngoại tuyến ({engines}), theo station.speech.engines.",
                                  "The station uses the offline voice only ({engines}), as station.speech.engines says."),
    "health.voice.ok": ("Giọng Google kết nối được.", "Google's voice is reachable."),
    "health.voice.unreachable": (
        "Không kết nối được giọng Google ({reason}){rested}; {count} buổi phát trong 24 giờ tới sẽ đọc bằng "
        "giọng ngoại tuyến nếu dựng bây giờ. Hãy kiểm tra kết nối Internet.",
        "Google's voice is unreachable ({reason}){rested}; {count} broadcast(s) in the next 24 hours would be "
        "spoken by the offline voice if rendered now. Check the Internet connection."),
    "health.voice.resting": (
        "Giọng Google lỗi lúc {at} ({reason}) và đang được nghỉ tới {until}; {count} buổi phát trong 24 giờ "
        "tới sẽ đọc bằng giọng ngoại tuyến nếu dựng bây giờ. Hãy kiểm tra kết nối Internet.",
        "Google's voice failed at {at} ({reason}) and is rested until {until}; {count} broadcast(s) in the "
        "next 24 hours would be spoken by the offline voice if rendered now. Check the Internet connection."),
    "health.voice.rested_since": (", được nghỉ từ {at} ({minutes} phút)", ", rested since {at} ({minutes} min)"),
    "health.voice.no_connection": ("không kết nối được: mạng hoặc DNS", "cannot connect: network or DNS"),
    "health.voice.timeout": ("không trả lời trong {seconds:g} giây", "no answer within {seconds:g} s"),
    "health.voice.none": ("Không giọng đọc nào dùng được ({reason}): cài espeak-ng (`apt-get install espeak-ng`) "
                          "và kiểm tra Internet.",
                          "No voice can speak ({reason}): install espeak-ng (`apt-get install espeak-ng`) "
                          "and check the Internet connection."),
    "health.voice.no_espeak": ("không có espeak-ng", "espeak-ng is not installed"),
    "health.schedule.ok": ("Đang phát theo {path}: {slots} khung giờ, {bulletins} bản tin.",
                           "{path} is in force: {slots} slots, {bulletins} bulletins."),
    "health.schedule.last_good": (
        "{path} có {count} lỗi nên chưa được dùng; đài phát theo bản lịch đúng gần nhất. {errors} Sửa tệp lịch "
        "(`broadcaster validate` liệt kê lỗi).",
        "{path} has {count} error(s) and is not in force; the station airs the last good copy. {errors} Fix "
        "the file (`broadcaster validate` lists the errors)."),
    "health.schedule.none": (
        "{path} có {count} lỗi và không có bản lịch đúng nào để phát: đài sẽ im lặng. {errors} Sửa tệp lịch "
        "(`broadcaster validate`).",
        "{path} has {count} error(s) and there is no last good copy: the station stays silent. {errors} Fix "
        "the file (`broadcaster validate`)."),
    "health.schedule.more": ("(và {count} lỗi khác)", "(and {count} more)"),
    "health.next.none": ("Không có buổi phát nào trong {days} ngày tới: kiểm tra days, dates, from/until và "
                         "enabled của các khung giờ.",
                         "Nothing is scheduled in the next {days} days: check the slots' days, dates, "
                         "from/until and enabled."),
    "health.next.rendered": ("Buổi phát tới: {slot} lúc {at}, chương trình đã dựng xong.",
                             "Next broadcast: {slot} at {at}, programme rendered."),
    "health.next.later": ("Buổi phát tới: {slot} lúc {at}; chương trình sẽ được dựng từ {render_at}.",
                          "Next broadcast: {slot} at {at}; its programme renders from {render_at}."),
    "health.next.rendering": ("Buổi phát tới: {slot} lúc {at}, chương trình đang được dựng.",
                              "Next broadcast: {slot} at {at}, programme being rendered."),
    "health.next.rendering_late": ("Buổi phát tới: {slot} lúc {at}, chương trình vẫn đang dựng: có thể phát trễ. "
                                   "Xem nhật ký của chương trình phát thanh (giọng đọc, máy bận).",
                                   "Next broadcast: {slot} at {at}, programme still rendering: it may air late. "
                                   "See the daemon's log (voice, a busy machine)."),
    "health.next.pending": ("Buổi phát tới: {slot} lúc {at}: đã đến giờ dựng mà chương trình chưa được dựng. "
                            "Kiểm tra chương trình phát thanh có đang chạy (`broadcaster run`).",
                            "Next broadcast: {slot} at {at}: its pre-render time has come and it is not rendered. "
                            "Check that the daemon runs (`broadcaster run`)."),
    "health.next.late": ("Buổi phát tới: {slot} lúc {at} mà chương trình chưa dựng xong: sẽ phát trễ hoặc "
                         "không phát. Xem nhật ký của chương trình phát thanh (giọng đọc, ổ đĩa).",
                         "Next broadcast: {slot} at {at} and its programme is not rendered: it will air late "
                         "or not at all. See the daemon's log (voice, disk)."),
    "health.next.failed": ("Buổi phát tới: {slot} lúc {at}: dựng chương trình bị lỗi ({error}). Sửa lỗi rồi "
                           "chạy `broadcaster render` để thử.",
                           "Next broadcast: {slot} at {at}: its render failed ({error}). Fix it, then try "
                           "`broadcaster render`."),
})


# -- outputs -----------------------------------------------------------------------------------

def output_kind(spec: str) -> str:
    """The probe table's key for an output spec: `file`, `device`, or a URL scheme (`icecast`)."""
    scheme, sep, _ = spec.partition("://")
    if sep and scheme.isalnum():
        return scheme.lower()
    return "file" if spec.startswith("file:") else "device"


def probe_file(spec: str, base: Path | None) -> None:
    """A `file:DIR` output takes audio when its folder can be created and written."""
    folder = Path(spec[len("file:"):].strip())
    if base is not None and not folder.is_absolute():
        folder = base / folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_probe(folder)
    except OSError as exc:
        raise OutputError(i18n.tr("health.output.folder", folder=folder, detail=exc.strerror or exc)) from exc


def probe_sound_device(spec: str, base: Path | None) -> None:
    """A sound card takes audio when a stream opens on it and accepts 20 ms of silence."""
    from broadcaster.output.device import probe_device

    probe_device(None if spec == "default" else int(spec) if spec.isdigit() else spec)


def probe_icecast(spec: str, base: Path | None) -> None:
    """An Icecast mount is reachable when its server answers its status page.

    The station's encoder (not this check) is the mount's source, so the mount itself may be
    missing from the server until the daemon connects; the server being down is what stops air.
    """
    from broadcaster.output.icecast import listeners
    from broadcaster.schedule.outputs import parse_icecast

    mount = parse_icecast(spec)         # the loader has checked it
    if listeners(mount, timeout=ICECAST_TIMEOUT) is None:
        raise OutputError(i18n.tr("health.output.icecast_down", server=f"{mount.host}:{mount.port}"))


OUTPUT_PROBES: dict[str, Callable[[str, Path | None], None]] = {
    "file": probe_file, "device": probe_sound_device, "icecast": probe_icecast}


def register_output_probe(kind: str, probe: Callable[[str, Path | None], None]) -> None:
    """Add the probe for a kind of output (`probe(spec, schedule_folder)` raises OutputError)."""
    OUTPUT_PROBES[kind] = probe


def station_outputs(station: Station, override: str | None = None) -> list[str]:
    """Every output the station airs on: its local output (or `override`), Icecast outputs, zone mounts."""
    from broadcaster.schedule.outputs import is_icecast

    local = [override] if override else [spec for spec in station.outputs if not is_icecast(spec)]
    return local + [spec for spec in station.outputs if is_icecast(spec)] + list(station.zones.values())


def check_output(spec: str, base: Path | None) -> Result:
    name = OUTPUT_PREFIX + spec
    probe = OUTPUT_PROBES.get(output_kind(spec), probe_sound_device)
    try:
        probe(spec, base)
    except BroadcasterError as exc:
        return Result(name, State.FAILING, i18n.tr("health.output.failing", name=spec, detail=exc))
    except Exception as exc:  # a driver surprise is a failing output, never a daemon that will not start
        log.exception("probing output %s failed unexpectedly", spec)
        return Result(name, State.FAILING, i18n.tr("health.output.failing", name=spec, detail=repr(exc)))
    return Result(name, State.OK, i18n.tr("health.output.ok", name=spec))


# -- disk and as-run log ------------------------------------------------------------------------

def _write_probe(folder: Path) -> None:
    """Create, fill and remove a small file: a read-only mount and a full disk both fail here."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".health-probe-")
    try:
        os.write(handle, b"\0" * 4096)
        os.fsync(handle)
    finally:
        os.close(handle)
        os.unlink(name)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def programme_seconds(schedule: Schedule, occ: Occurrence) -> tuple[float, float]:
    """(programme seconds, spoken seconds) of one broadcast, estimated without rendering it."""
    total = spoken = 0.0
    for bulletin_id in occ.bulletins:
        bulletin = schedule.bulletins.get(bulletin_id)
        if bulletin is None:
            continue
        if bulletin.audio is not None:
            try:
                size = bulletin.audio.stat().st_size
            except OSError:
                size = 0
            # A WAV is about 96 KB per second at broadcast quality, compressed audio about 16 KB.
            seconds = size / (PROGRAMME_BYTES_PER_SECOND if bulletin.audio.suffix.lower() == ".wav" else 16_000)
        else:
            seconds = len((bulletin.text or "").split()) / WORDS_PER_SECOND
            spoken += seconds
        total += (seconds + FRAME_SECONDS) * bulletin.repeat
    return total, spoken


def day_need(schedule: Schedule, now: datetime) -> int:
    """Bytes the next 24 hours of renders may write: programme WAVs plus new speech in the cache."""
    need = 0.0
    for occ in occurrences(schedule, now, now + DAY):
        total, spoken = programme_seconds(schedule, occ)
        need += total * PROGRAMME_BYTES_PER_SECOND + spoken * SPEECH_BYTES_PER_SECOND
    return int(need)


def _free(folder: Path) -> int:
    """Free bytes on the filesystem holding `folder` (or its nearest existing parent)."""
    path = folder
    while not path.exists() and path.parent != path:
        path = path.parent
    return shutil.disk_usage(path).free


def check_disk(schedule: Schedule, now: datetime) -> Result:
    folder = schedule.station.state_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_probe(folder)
    except OSError as exc:
        return Result("disk", State.FAILING, i18n.tr("health.disk.unwritable", folder=folder,
                                                     detail=exc.strerror or exc))
    free, need = _free(folder), day_need(schedule, now)
    values = {"folder": folder, "free": _size(free), "need": _size(need)}
    if free < need:
        return Result("disk", State.FAILING, i18n.tr("health.disk.full", **values))
    if free < 2 * need:
        return Result("disk", State.WARNING, i18n.tr("health.disk.low", **values))
    return Result("disk", State.OK, i18n.tr("health.disk.ok", **values))


def check_asrun(state_dir: Path, fault: object | None = None) -> Result:
    """The log's file (or its folder, before the first row) takes a write lock, and the disk has room.

    `fault`: the running daemon's `AsRunLog.fault` (rows waiting in memory), failing by itself.
    """
    path = log_path(state_dir)
    if fault is not None:
        return Result("asrun", State.FAILING, i18n.tr("health.asrun.pending", path=path, count=fault.pending,
                                                      detail=fault.message))
    try:
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            _write_probe(state_dir)
            return Result("asrun", State.OK, i18n.tr("health.asrun.new", path=path))
        if _free(state_dir) < ASRUN_MIN_FREE:
            raise OSError(i18n.tr("health.asrun.full"))
        _lock_for_write(path)
    except (OSError, sqlite3.Error) as exc:
        detail = getattr(exc, "strerror", None) or exc
        return Result("asrun", State.FAILING, i18n.tr("health.asrun.failing", path=path, detail=detail))
    return Result("asrun", State.OK, i18n.tr("health.asrun.ok", path=path))


def _lock_for_write(path: Path) -> None:
    """Take SQLite's write lock on the log and let go, writing nothing; a busy writer counts as writable."""
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise OSError(os.strerror(13))
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0.5, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
    finally:
        db.close()


# -- voice --------------------------------------------------------------------------------------

def google_reachable(timeout: float = GOOGLE_TIMEOUT) -> str | None:
    """None when Google's translate host answers over HTTPS, else why not (through `requests`,
    the transport gTTS itself uses)."""
    import requests

    try:
        requests.head(GOOGLE_URL, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        return i18n.tr("health.voice.timeout", seconds=timeout)
    except requests.ConnectionError:
        return i18n.tr("health.voice.no_connection")
    except requests.RequestException as exc:
        return _short(str(exc) or type(exc).__name__)
    return None


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class VoiceInspector:
    """Counts the coming broadcasts whose speech is not already in the cache in Google's voice."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self._speaker = None

    def offline_count(self, coming: Sequence[Occurrence]) -> int:
        from broadcaster.speech import speaker_for

        if self._speaker is None:
            try:
                self._speaker = speaker_for(self.schedule)
            except BroadcasterError:
                return sum(1 for occ in coming if self._texts(occ))
        count = 0
        for occ in coming:
            try:
                engines = [self._speaker.cached_engine(text) for text in self._texts(occ)]
            except BroadcasterError:
                engines = [None]
            if any(engine != GTTS for engine in engines):
                count += 1
        return count

    def _texts(self, occ: Occurrence) -> list[str]:
        bulletins = (self.schedule.bulletins.get(b) for b in occ.bulletins)
        return [b.text for b in bulletins if b is not None and b.text]


def check_voice(schedule: Schedule, now: datetime, *, reachable: Callable[[], str | None],
                inspector: VoiceInspector | None = None) -> Result:
    from broadcaster.speech.speaker import RETRY_PREFERRED_AFTER, engine_failures, speech_cache_dir

    engines = schedule.station.speech.engines
    if GTTS not in engines:
        return Result("voice", State.OK, i18n.tr("health.voice.offline_only", engines=", ".join(engines)))
    failure = engine_failures(speech_cache_dir(schedule.station.state_dir)).get(GTTS)
    problem = reachable()
    resting = failure is not None and now.timestamp() - failure[0] < RETRY_PREFERRED_AFTER
    if problem is None and not resting:
        return Result("voice", State.OK, i18n.tr("health.voice.ok"))
    offline = OFFLINE_ENGINE in engines and shutil.which("espeak-ng") is not None   # engine and program
    if not offline:
        reason = problem or failure[1]
        return Result("voice", State.FAILING,
                      i18n.tr("health.voice.none", reason=f"{_short(reason)}; {i18n.tr('health.voice.no_espeak')}"))
    coming = occurrences(schedule, now, now + DAY)
    count = (inspector or VoiceInspector(schedule)).offline_count(coming)
    tz = schedule.station.timezone
    if problem is not None:
        rested = ""
        if failure is not None:
            at = datetime.fromtimestamp(failure[0], tz)
            rested = i18n.tr("health.voice.rested_since", at=f"{at:%Y-%m-%d %H:%M}",
                             minutes=int((now - at).total_seconds() // 60))
        return Result("voice", State.WARNING,
                      i18n.tr("health.voice.unreachable", reason=problem, rested=rested, count=count))
    at = datetime.fromtimestamp(failure[0], tz)
    until = at + timedelta(seconds=RETRY_PREFERRED_AFTER)
    return Result("voice", State.WARNING, i18n.tr("health.voice.resting", at=f"{at:%H:%M}", until=f"{until:%H:%M}",
                                                  reason=_short(failure[1]), count=count))


# -- schedule and next broadcast ------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleSource:
    """Which schedule is in force: the file ("file"), the last good copy ("last-good"), or none.

    `errors` are the formatted problems (FILE:LINE:COL: message) keeping the file out; `version`
    is the sha256 of the schedule.yaml bytes in force (None when the file is not in force).
    """

    path: Path
    in_force: str
    errors: tuple[str, ...] = ()
    version: str | None = None


def file_version(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def schedule_in_force(path: Path) -> tuple[Schedule | None, ScheduleSource, list]:
    """The schedule a station started now would air, where it comes from, and the file's problems.

    The file when it validates, else its last good copy (None when there is none either).
    """
    from broadcaster.schedule import check_schedule
    from broadcaster.schedule.snapshot import load_snapshot

    path = Path(path)
    schedule, problems = check_schedule(path)
    if schedule is not None:
        return schedule, ScheduleSource(schedule.path, "file", version=file_version(path)), problems
    errors = tuple(p.format() for p in problems if p.severity == "error")
    last_good = load_snapshot(path)
    return last_good, ScheduleSource(path.absolute(), "last-good" if last_good else "none", errors), problems


def load_for_status(path: Path) -> tuple[Schedule | None, ScheduleSource]:
    """`schedule_in_force` for `status`: never raises for bad input."""
    schedule, source, _ = schedule_in_force(path)
    return schedule, source


def check_schedule_source(schedule: Schedule | None, source: ScheduleSource) -> Result:
    if source.in_force == "file" and schedule is not None:
        return Result("schedule", State.OK, i18n.tr("health.schedule.ok", path=source.path,
                                                    slots=len(schedule.slots), bulletins=len(schedule.bulletins)))
    shown = list(source.errors[:3])
    if len(source.errors) > 3:
        shown.append(i18n.tr("health.schedule.more", count=len(source.errors) - 3))
    values = {"path": source.path, "count": len(source.errors), "errors": " ".join(shown)}
    if source.in_force == "last-good" and schedule is not None:
        return Result("schedule", State.WARNING, i18n.tr("health.schedule.last_good", **values))
    return Result("schedule", State.FAILING, i18n.tr("health.schedule.none", **values))


class RenderState(enum.Enum):
    """Where the next broadcast's programme is (values as `Prerenderer.outcome` says them)."""

    RENDERED = "rendered"
    RENDERING = "rendering"       # asked for, in progress
    PENDING = "none"              # not asked for (yet)
    FAILED = "failed"


RenderLookup = Callable[[Occurrence], tuple[RenderState, str | None]]


def rendered_on_disk(schedule: Schedule) -> RenderLookup:
    """Whether a broadcast's programme file is in `<state_dir>/programmes` (no daemon to ask)."""
    from broadcaster.onair.render import RenderJob, programme_path

    folder = schedule.station.state_dir / "programmes"

    def lookup(occ: Occurrence) -> tuple[RenderState, str | None]:
        bulletins = tuple(schedule.bulletins[b] for b in occ.bulletins if b in schedule.bulletins)
        fingerprint = RenderJob(occ.key, occ.slot.name, bulletins, schedule).fingerprint()
        for offline in (False, True):
            if programme_path(folder, occ.key, fingerprint, offline=offline).exists():
                return RenderState.RENDERED, None
        return RenderState.PENDING, None

    return lookup


def next_broadcast(schedule: Schedule, now: datetime) -> Occurrence | None:
    upcoming = occurrences(schedule, now, now + NEXT_LOOKAHEAD)
    return upcoming[0] if upcoming else None


def check_next(schedule: Schedule, now: datetime, lookup: RenderLookup) -> Result:
    occ = next_broadcast(schedule, now)
    if occ is None:
        return Result("next", State.WARNING, i18n.tr("health.next.none", days=NEXT_LOOKAHEAD.days))
    state, error = lookup(occ)
    render_at = occ.start - schedule.station.prerender
    values = {"slot": occ.slot.name, "at": f"{occ.start:%Y-%m-%d %H:%M:%S}"}
    if state is RenderState.RENDERED:
        return Result("next", State.OK, i18n.tr("health.next.rendered", **values))
    if state is RenderState.FAILED:
        return Result("next", State.FAILING, i18n.tr("health.next.failed", error=_short(error or "?"), **values))
    close = occ.start - now <= RENDER_LATE
    if state is RenderState.RENDERING:      # the normal half-minute of a pre-render is not news
        return Result("next", State.WARNING if close else State.OK,
                      i18n.tr("health.next.rendering_late" if close else "health.next.rendering", **values))
    if now < render_at:
        return Result("next", State.OK, i18n.tr("health.next.later", render_at=f"{render_at:%H:%M}", **values))
    if close:
        return Result("next", State.FAILING, i18n.tr("health.next.late", **values))
    return Result("next", State.WARNING, i18n.tr("health.next.pending", **values))


# -- the monitor --------------------------------------------------------------------------------

class Monitor:
    """Runs the checks against one station and remembers their states.

    clock: the station's `now` (aware). `outputs`: output specs, each checked as `output:<spec>`.
    `render_state` answers for the next broadcast (the daemon's pre-renderer; on-disk files
    otherwise). `reachable` probes Google, `clock_check` the system clock: both injectable.
    `busy(spec)` tells when an output is on air: its probe then waits for the next run, so a
    probe never competes with a programme for the device. `asrun_fault` is the daemon's as-run
    log fault (rows it could not write yet), if any.
    """

    def __init__(self, schedule: Schedule | None, source: ScheduleSource, *, outputs: Sequence[str],
                 clock: Callable[[], datetime], tracker: StateTracker | None = None,
                 render_state: RenderLookup | None = None,
                 reachable: Callable[[], str | None] = google_reachable,
                 clock_check: Callable[[], Result] = check_clock,
                 busy: Callable[[str], bool] = lambda spec: False,
                 asrun_fault: Callable[[], object | None] = lambda: None) -> None:
        self.clock = clock
        self.asrun_fault = asrun_fault
        self.tracker = tracker or StateTracker(clock)
        self.reachable = reachable
        self.clock_check = clock_check
        self.busy = busy
        self._render_state = render_state
        self.outputs: tuple[str, ...] = ()
        self.set_schedule(schedule, source, outputs=outputs)

    def set_schedule(self, schedule: Schedule | None, source: ScheduleSource, *,
                     outputs: Sequence[str] | None = None) -> None:
        """A reload: the checks look at `schedule` from now on."""
        self.schedule = schedule
        self.source = source
        if outputs is not None:
            self.outputs = tuple(outputs)
        self._inspector = VoiceInspector(schedule) if schedule is not None else None
        self.tracker.forget([OUTPUT_PREFIX + o for o in self.outputs] + list(CHEAP))

    def render_state(self, occ: Occurrence) -> tuple[RenderState, str | None]:
        lookup = self._render_state or rendered_on_disk(self.schedule)
        return lookup(occ)

    def _one(self, name: str) -> Result | None:
        schedule, now = self.schedule, self.clock()
        if name == "schedule":
            return check_schedule_source(schedule, self.source)
        if name == "clock":
            return self.clock_check()
        if schedule is None:
            return None                 # nothing airs: the schedule check says why
        if name == "disk":
            return check_disk(schedule, now)
        if name == "asrun":
            return check_asrun(schedule.station.state_dir, self.asrun_fault())
        if name == "voice":
            return check_voice(schedule, now, reachable=self.reachable, inspector=self._inspector)
        if name == "next":
            return check_next(schedule, now, self.render_state)
        raise KeyError(name)

    def check_outputs(self) -> list[CheckStatus]:
        base = self.schedule.folder if self.schedule is not None else None
        results = [check_output(spec, base) for spec in self.outputs if not self.busy(spec)]
        return self.tracker.update(results)

    def check_cheap(self, names: Iterable[str] = CHEAP) -> list[CheckStatus]:
        results = []
        for name in names:
            try:
                result = self._one(name)
            except Exception as exc:  # a check that breaks is reported as failing, never kills the caller
                log.exception("health check %s broke", name)
                result = Result(name, State.FAILING, f"{type(exc).__name__}: {exc}")
            if result is not None:
                results.append(result)
        return self.tracker.update(results)

    def check_all(self) -> list[CheckStatus]:
        return self.check_outputs() + self.check_cheap()

    def statuses(self) -> list[CheckStatus]:
        """Every check's last status, outputs first, in the documented order."""
        order = [OUTPUT_PREFIX + o for o in self.outputs] + list(CHEAP)
        known = {s.name: s for s in self.tracker.statuses()}
        return [known[name] for name in order if name in known]

    def next_json(self) -> dict | None:
        if self.schedule is None:
            return None
        occ = next_broadcast(self.schedule, self.clock())
        if occ is None:
            return None
        state, _ = self.render_state(occ)
        return {"key": occ.key, "slot": occ.slot.name, "start": occ.start.isoformat(),
                "bulletins": list(occ.bulletins), "rendered": state is RenderState.RENDERED}

    def report(self, on_air: dict | None = None) -> dict:
        """The `status` reply: {"state", "checks", "on_air", "next"} (JSON-ready)."""
        statuses = self.statuses()
        return {"state": overall(statuses).label, "checks": [s.to_json() for s in statuses],
                "on_air": on_air, "next": self.next_json()}
