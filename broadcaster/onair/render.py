"""Pre-rendering: occurrences -> programme WAVs, ahead of air, in worker processes.

In: `RenderJob`s (bulletins + the schedule they come from) with the time they must be ready by.
Out: a `Future[RenderResult]` per job. Air time never waits on gTTS or the network: each
occurrence is rendered `station.prerender` ahead; a failed render is logged and retried, and the
last try speaks with the offline engine only (eSpeak NG).

Rendering runs in separate processes (`RenderWorker`), not threads: pydub/ffmpeg work in the
daemon's own process raised APScheduler's start jitter from ~1 ms to 15-40 ms (measured).
Two workers: one works through the pre-render backlog, the other only takes urgent jobs
(emergencies, desk replays, catch-up after a restart) so they never queue behind it; the
urgent one is started (and its imports done) as soon as the backlog is rendered, not at the
first emergency.

The renderer is any picklable callable `render(job, out_path) -> RenderResult`; the daemon uses
`programme_renderer` (ProgrammeBuilder + speaker_for), tests pass a fast tone renderer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster import i18n, wav
from broadcaster.constants import OFFLINE_ENGINE
from broadcaster.errors import OnAirError
from broadcaster.output.source import Source
from broadcaster.schedule.model import Bulletin, Priority, Schedule

log = logging.getLogger(__name__)

URGENT_GTTS_TIMEOUT = 4.0     # seconds Google gets for an emergency before the offline voice speaks

i18n.register({
    "onair.render_failed": ("Không dựng được chương trình {key}: {error}",
                            "Could not render programme {key}: {error}"),
    "onair.render_timeout": ("Dựng chương trình quá {seconds} giây, đã dừng",
                             "Rendering took longer than {seconds} s and was stopped"),
    "onair.render_stopped": ("Bộ dựng chương trình đã dừng", "The render worker was stopped"),
})


@dataclass(frozen=True)
class RenderJob:
    """What to render: the bulletins of one airing, and the schedule whose station settings apply."""

    key: str
    title: str
    bulletins: tuple[Bulletin, ...]
    schedule: Schedule
    offline_only: bool = False
    speech_from: Path | None = None     # a state folder whose speech cache is read, never written
    scratch: Path | None = None         # where the renderer's working files go (None: the system's)

    def fingerprint(self) -> str:
        """Changes whenever the sound would: texts, audio files, jingles, voice and level settings."""
        station = self.schedule.station
        files = [b.audio for b in self.bulletins if b.audio] + sorted(station.jingles.values())
        stats = []
        for path in files:
            try:
                st = path.stat()
                stats.append((str(path), st.st_mtime_ns, st.st_size))
            except OSError:
                stats.append((str(path), None, None))
        material = repr((
            [(b.id, b.title, b.text, str(b.audio), b.priority, b.repeat, b.intro, b.outro)
             for b in self.bulletins],
            sorted((k, str(v)) for k, v in station.jingles.items()), stats,
            station.loudness, station.voicing, station.speech, station.programme,
            str(station.pronunciations), self.offline_only, self.title,
        ))
        return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class RenderResult:
    path: Path | None                   # the programme WAV; None for a programme aired from its parts
    duration: float                     # seconds (for one aired from its parts: of the parts known ahead)
    engine: str                         # speech engine(s) that spoke, "+"-joined
    fallback_reason: str | None = None  # why the preferred engine did not speak
    parts: Callable[[], Source] | None = None   # opens the parts as one source, for each try on air

    def airs(self) -> Path | Source:
        """What the output plays: the rendered file, or a fresh source of the parts."""
        return self.parts() if self.parts is not None else self.path


Renderer = Callable[[RenderJob, Path], RenderResult]


def urgent_speech(schedule: Schedule) -> Schedule:
    """The schedule with gTTS allowed one short try: a warning must not wait out retries and backoff.

    Timeouts and retries are not part of the speech cache key, so renders stay shared.
    """
    speech = schedule.station.speech
    speech = dataclasses.replace(speech, gtts_retries=0, gtts_timeout=min(speech.gtts_timeout, URGENT_GTTS_TIMEOUT))
    return dataclasses.replace(schedule, station=dataclasses.replace(schedule.station, speech=speech))


def programme_renderer(job: RenderJob, out: Path) -> RenderResult:
    """The real renderer: the programme stage with the station's speaker (offline-only when asked)."""
    from broadcaster.programme import ProgrammeBuilder
    from broadcaster.speech import speaker_for

    schedule = job.schedule
    if any(b.priority is Priority.EMERGENCY for b in job.bulletins):
        schedule = urgent_speech(schedule)
    read_from = [job.speech_from] if job.speech_from is not None else []
    speaker = speaker_for(schedule, engines=[OFFLINE_ENGINE] if job.offline_only else None, read_from=read_from)
    programme = ProgrammeBuilder(schedule, speaker, scratch=job.scratch).render(job.bulletins, out, title=job.title)
    reasons = "; ".join(r for r in programme.fallback_reasons if r) or None
    if job.offline_only and reasons is None:
        reasons = "offline retry"
    return RenderResult(Path(programme.path), float(programme.duration),
                        "+".join(programme.engines) or "audio", reasons)


def _worker_main(conn, log_level: int) -> None:
    """The worker process: receive (renderer, job, out), send back ("ok", result) or ("error", text)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the daemon decides when workers stop
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s [render] %(name)s: %(message)s")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        renderer, job, out = message
        if job is None:                 # warm-up: unpickling the renderer imported what it needs
            conn.send(("ok", None))
            continue
        try:
            result = renderer(job, out)
        except Exception as exc:  # every failure goes back to the daemon as text; the worker lives on
            conn.send(("error", f"{exc}" or type(exc).__name__))
        else:
            conn.send(("ok", result))


class RenderWorker:
    """One render process, started on first use, restarted after a crash or a timeout."""

    def __init__(self, renderer: Renderer, *, name: str, timeout: float = 600.0) -> None:
        self.renderer = renderer
        self.name = name
        self.timeout = timeout
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process that runs threads and PortAudio
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._closed = False

    def _ensure(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, logging.getLogger().getEffectiveLevel()),
                                    name=f"broadcaster-render-{self.name}", daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        log.debug("render worker %s started (pid %s)", self.name, process.pid)

    def warm(self) -> None:
        """Start the process and import the renderer's modules now, so the first job does not wait.

        A cold worker (spawn + imports) took about a second, more on a loaded machine: an
        emergency raised during a short programme then aired after it instead of cutting in.
        """
        try:
            self.render(None, None)
        except OnAirError as exc:
            if not self._closed:
                log.warning("render worker %s could not start ahead: %s", self.name, exc)

    def render(self, job: RenderJob | None, out: Path | None) -> RenderResult | None:
        """Blocking: render `job` into `out` in the worker process; raises OnAirError on failure."""
        with self._lock:
            if self._closed:
                raise OnAirError(i18n.tr("onair.render_stopped"))
            try:
                self._ensure()
            except OSError as exc:      # no process could be started (memory, process limit)
                raise OnAirError(i18n.tr("onair.render_stopped")) from exc
            conn = self._conn
        try:
            conn.send((self.renderer, job, out))
            if not conn.poll(self.timeout):
                self._kill()
                raise OnAirError(i18n.tr("onair.render_timeout", seconds=int(self.timeout)))
            status, value = conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._kill()
            raise OnAirError(i18n.tr("onair.render_stopped")) from exc
        if status != "ok":
            raise OnAirError(value)
        return value

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.is_alive():
            process.kill()
            process.join(2)

    def close(self) -> None:
        """Stop the worker now (a render in progress is abandoned)."""
        self._closed = True
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(1)
            if process.is_alive():
                process.kill()
                process.join(1)
        if self._conn is not None:
            self._conn.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DISK_ERRORS = ("No space left", "Read-only file system", "Disk quota exceeded", "database or disk is full")
MEMORY_SPELL = 60.0     # seconds renders stay in memory after the disk refused one, before trying it again
# A render in memory needs its output (48 kHz 16-bit: 96,000 B/s) and its elements decoded to
# float32 (192,000 B/s) at once. The length is estimated on the safe side: a slow reader, a
# minute of jingles and pauses per bulletin, a recording at the lowest speech bit rate.
RENDER_BYTES_PER_SECOND = 288_000
WORDS_PER_SECOND = 2.0
FRAMING_SECONDS = 60.0
RECORDING_BYTES_PER_SECOND = 2_000      # 16 kbit/s; a WAV recording's length is read from its header
MEMORY_RESERVE = 64 * 1024 * 1024       # left free in memory besides the render, at least
MEMORY_RESERVE_SHARE = 0.1              # ...and at least this share of the memory folder's filesystem

i18n.register({
    "onair.no_room_in_memory": (
        "không đủ chỗ trong bộ nhớ để dựng ({need} MB cần, {free} MB trống ở {folder})",
        "no room to render in memory ({need} MB needed, {free} MB free in {folder})"),
})


class NoRoom(OnAirError):
    """The disk refuses the render and memory cannot hold it: the programme airs straight from its parts."""


def estimated_bytes(job: RenderJob) -> int:
    """What rendering `job` takes in its folder at most, from the texts' words and the recordings' sizes."""
    seconds = 0.0
    for bulletin in job.bulletins:
        reading = len((bulletin.text or "").split()) / WORDS_PER_SECOND
        if bulletin.audio is not None:
            reading += _recording_seconds(Path(bulletin.audio))
        seconds += reading * max(bulletin.repeat, 1) + FRAMING_SECONDS
    return int(seconds * RENDER_BYTES_PER_SECOND)


def _recording_seconds(path: Path) -> float:
    seconds = wav.seconds(path)
    if seconds > 0:
        return seconds
    try:                # not a WAV (MP3, Opus...): bounded by its size at the lowest speech bit rate
        return path.stat().st_size / RECORDING_BYTES_PER_SECOND
    except OSError:
        return 0.0


def room_in(folder: Path) -> int:
    """Bytes a render may take in `folder`'s filesystem, the reserve kept free."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    stat = os.statvfs(probe)
    reserve = max(MEMORY_RESERVE, int(stat.f_blocks * stat.f_frsize * MEMORY_RESERVE_SHARE))
    return stat.f_bavail * stat.f_frsize - reserve


def memory_folder(folder: Path) -> Path:
    """A private folder in memory (/dev/shm, else the temporary folder) for renders the disk refuses.

    Made now, mode 0700. Its name is predictable and /dev/shm is everyone's: a folder of that
    name this user does not own, or others may write in, or a link, could be another user's, who
    could swap the WAVs or plant cached speech that airs on every loudspeaker. Then a new folder
    with a random name is made instead (or, if memory refuses that, one under `folder`, on the
    disk that refuses renders: those then air from their parts).
    """
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else \
        Path(tempfile.gettempdir())
    digest = hashlib.sha256(str(Path(folder).absolute()).encode()).hexdigest()[:12]
    path = base / f"broadcaster-{os.getuid()}-{digest}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return path                 # memory refuses it too: nothing will be rendered there
    try:
        status = path.lstat()
    except OSError:
        return path
    if stat.S_ISDIR(status.st_mode) and status.st_uid == os.geteuid() and not status.st_mode & 0o077:
        return path
    log.error("%s is not this user's private folder (another user may have made it): renders in memory go "
              "to a new folder", path)
    try:
        return Path(tempfile.mkdtemp(prefix=f"broadcaster-{os.getuid()}-", dir=base))
    except OSError:
        return Path(folder) / ".memory"


def _writable(folder: Path) -> bool:
    """Whether a file can be created in `folder` (a read-only disk refuses even an empty one)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            return True
    except OSError:
        return False


def programme_path(folder: Path, key: str, fingerprint: str, *, offline: bool = False) -> Path:
    """Where the render of `key` with `fingerprint` goes, so `status` can tell whether it is ready."""
    name = _UNSAFE.sub("_", key)[:80]
    return folder / f"{name}-{fingerprint[:12]}{'-offline' if offline else ''}.wav"


def _settle(future: Future, *, result: RenderResult | None = None, error: Exception | None = None) -> None:
    """Complete `future` unless it was cancelled meanwhile (a reload or shutdown dropped it)."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


@dataclass(eq=False)
class _Task:
    job: RenderJob
    fingerprint: str
    deadline: datetime
    urgent: bool
    future: Future
    seq: int
    not_before: float = 0.0             # time.monotonic() before which the task waits (retry backoff)
    online_failures: list[str] = field(default_factory=list)


class Prerenderer:
    """Renders jobs ahead of their deadline, keeps finished renders that did not change, retries failures.

    `request()` returns the same future for the same key and fingerprint, so a schedule reload
    keeps everything already rendered that the edit did not touch.
    """

    def __init__(self, renderer: Renderer, folder: Path, *, clock: Callable[[], datetime],
                 retry_delay: timedelta = timedelta(seconds=30), online_tries: int = 2,
                 timeout: float = 600.0, memory: Path | None = None,
                 on_rendered: Callable[[RenderResult, float], None] | None = None) -> None:
        self.folder = folder
        self.memory = memory or memory_folder(folder)   # where renders go while the disk refuses them
        self._memory_until = 0.0                         # time.monotonic() until which renders go there
        self.on_rendered = on_rendered    # observer of each finished render and its seconds (metrics)
        self.clock = clock
        self.retry_delay = retry_delay
        self.online_tries = online_tries
        self._workers = {False: RenderWorker(renderer, name="ahead", timeout=timeout),
                         True: RenderWorker(renderer, name="urgent", timeout=timeout)}
        self._tasks: dict[str, _Task] = {}
        self._pending: dict[bool, list[_Task]] = {False: [], True: []}
        self._cond = threading.Condition()
        self._seq = 0
        self._running = 0              # renders in a worker right now
        self._stopping = False
        self._threads = [threading.Thread(target=self._loop, args=(urgent,), daemon=True,
                                          name=f"prerender-{'urgent' if urgent else 'ahead'}")
                         for urgent in (False, True)]
        folder.mkdir(parents=True, exist_ok=True)
        self._sweep(timedelta(days=1))
        for thread in self._threads:
            thread.start()

    def _sweep(self, age: timedelta) -> None:
        """Delete programme files older than `age`: left by a crash or a kill, never needed again."""
        cutoff = time.time() - age.total_seconds()
        for path in self.folder.glob("*.wav"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError as exc:
                log.warning("cannot remove old programme %s: %s", path, exc)

    def request(self, job: RenderJob, *, deadline: datetime, urgent: bool = False) -> Future:
        fingerprint = job.fingerprint()
        with self._cond:
            task = self._tasks.get(job.key)
            if task is not None and task.fingerprint == fingerprint and not self._failed(task):
                if urgent and not task.urgent and not task.future.done() and task in self._pending[False]:
                    self._pending[False].remove(task)
                    task.urgent = True
                    self._pending[True].append(task)
                    self._cond.notify_all()
                return task.future
            if task is not None and not task.future.done():
                task.future.cancel()
                for queue in self._pending.values():
                    if task in queue:
                        queue.remove(task)
            self._seq += 1
            task = _Task(job, fingerprint, deadline, urgent, Future(), self._seq)
            self._tasks[job.key] = task
            self._pending[urgent].append(task)
            self._cond.notify_all()
            return task.future

    def busy(self) -> bool:
        """Whether a programme is being rendered or is due to be: background speech work waits."""
        with self._cond:
            now = time.monotonic()
            return self._running > 0 or any(t.not_before <= now for queue in self._pending.values() for t in queue)

    @staticmethod
    def _failed(task: _Task) -> bool:
        return task.future.done() and (task.future.cancelled() or task.future.exception() is not None)

    def outcome(self, key: str) -> tuple[str, str | None]:
        """("rendered" | "rendering" | "failed" | "none", the error of a render that failed for good)."""
        with self._cond:
            task = self._tasks.get(key)
        if task is None or task.future.cancelled():
            return "none", None
        if not task.future.done():
            return "rendering", None
        error = task.future.exception()
        return ("failed", str(error)) if error is not None else ("rendered", None)

    def keep_only(self, keys: set[str]) -> None:
        """Forget renders for keys no longer wanted (a reload removed them); delete their files."""
        with self._cond:
            for key in [k for k in self._tasks if k not in keys]:
                self._drop(key)

    def discard(self, key: str) -> None:
        """Forget one render once it has aired for good, and delete its file."""
        with self._cond:
            self._drop(key)

    def _drop(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is None:
            return
        for queue in self._pending.values():
            if task in queue:
                queue.remove(task)
        if not task.future.done():
            task.future.cancel()
        elif not self._failed(task):
            task.future.result().path.unlink(missing_ok=True)

    def _disk_refused(self, error: str) -> bool:
        """Whether a render failed because the disk refused the write; renders go to memory for a while."""
        if not any(marker in error for marker in _DISK_ERRORS):
            return False
        if time.monotonic() >= self._memory_until:
            log.error("the disk refuses renders (%s): programmes are rendered in memory (%s) for %.0f s",
                      error, self.memory, MEMORY_SPELL)
        self._memory_until = time.monotonic() + MEMORY_SPELL
        return True

    def _placed(self, job: RenderJob, out: Path) -> tuple[RenderJob, Path]:
        """The job and output path, moved to the memory folder while the disk refuses writes.

        In memory, new speech goes to a speech cache there, but the speech already cached on
        the disk is read (reading works on a full or read-only disk): a bulletin Google spoke
        yesterday airs in Google's voice. Raises `NoRoom` when the estimated render would not
        leave the memory folder its reserve (`estimated_bytes`, `room_in`).
        """
        if time.monotonic() < self._memory_until or not _writable(self.folder):
            if time.monotonic() >= self._memory_until:
                log.error("programmes folder %s refuses writes: rendering in memory (%s)", self.folder, self.memory)
                self._memory_until = time.monotonic() + MEMORY_SPELL
            need, room = estimated_bytes(job), room_in(self.memory)
            if need > room:
                raise NoRoom(i18n.tr("onair.no_room_in_memory", need=need >> 20, free=max(room, 0) >> 20,
                                     folder=self.memory))
            station = job.schedule.station
            job = dataclasses.replace(
                job, schedule=dataclasses.replace(job.schedule, station=dataclasses.replace(
                    station, state_dir=self.memory / "state")),
                speech_from=job.speech_from or station.state_dir, scratch=self.memory / "scratch")
            (self.memory / "programmes").mkdir(parents=True, exist_ok=True)
            out = self.memory / "programmes" / out.name
        return job, out

    def _out_path(self, task: _Task, offline: bool) -> Path:
        return programme_path(self.folder, task.job.key, task.fingerprint, offline=offline)

    def _next(self, urgent: bool) -> _Task | None:
        """Wait for the most pressing runnable task of this worker's queue (None when stopping)."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                runnable = [t for t in self._pending[urgent] if t.not_before <= now]
                if runnable:
                    task = min(runnable, key=lambda t: (t.deadline, t.seq))
                    self._pending[urgent].remove(task)
                    return task
                waits = [t.not_before - now for t in self._pending[urgent]]
                self._cond.wait(timeout=min(waits, default=1.0))
            return None

    def _loop(self, urgent: bool) -> None:
        worker = self._workers[urgent]
        if urgent:
            self._warm_when_idle(worker)
        while True:
            task = self._next(urgent)
            if task is None:
                return
            if task.future.done():
                continue
            offline = (len(task.online_failures) >= self.online_tries
                       or (task.online_failures and self._no_time_left(task)))
            job = task.job if not offline else RenderJob(task.job.key, task.job.title, task.job.bulletins,
                                                         task.job.schedule, offline_only=True)
            started = time.monotonic()
            with self._cond:
                self._running += 1
            try:
                job, out = self._placed(job, self._out_path(task, offline))
                result = worker.render(job, out)
            except Exception as exc:  # any failure fails this render, never the thread: its queue would stall
                if self._stopping:
                    task.future.cancel()
                    return
                if not isinstance(exc, OnAirError):
                    log.exception("render of %s failed unexpectedly", task.job.key)
                if isinstance(exc, NoRoom):      # no retry would find room: it airs from its parts
                    log.error("%s", i18n.tr("onair.render_failed", key=task.job.key, error=exc))
                    _settle(task.future, error=exc)
                    continue
                if self._disk_refused(str(exc)) and out.parent != self.memory / "programmes":
                    with self._cond:          # the same try again at once, in memory: not the voice's fault
                        self._pending[task.urgent].append(task)
                    continue
                self._failure(task, str(exc) or repr(exc), offline)
                continue
            finally:
                with self._cond:
                    self._running -= 1
            took = time.monotonic() - started
            log.info("rendered %s in %.1f s: %.1f s of audio, engine %s%s", task.job.key,
                     took, result.duration, result.engine,
                     f" (fallback: {result.fallback_reason})" if result.fallback_reason else "")
            if offline and task.online_failures:
                reason = "; ".join(task.online_failures)
                result = RenderResult(result.path, result.duration, result.engine,
                                      f"{reason}; {result.fallback_reason}" if result.fallback_reason
                                      and result.fallback_reason != "offline retry" else reason)
            if self.on_rendered is not None:
                try:
                    self.on_rendered(result, took)
                except Exception:  # an observer must never stall this worker's queue
                    log.exception("render observer failed")
            with self._cond:
                current = self._tasks.get(task.job.key) is task
            if current:
                _settle(task.future, result=result)

    def _warm_when_idle(self, worker: RenderWorker) -> None:
        """Start the urgent worker ahead of the first emergency, once the backlog is rendered.

        Not at once: at start-up the first slots' renders have the cores first (the planner asks
        for them within moments of the start). An urgent job that comes before then starts the
        worker itself, as before.
        """
        first_plan = time.monotonic() + 2.0
        with self._cond:
            while not self._stopping and not self._pending[True] and (
                    (self._seq == 0 and time.monotonic() < first_plan) or self._running
                    or any(t.not_before <= time.monotonic() for t in self._pending[False])):
                self._cond.wait(timeout=0.2)
            if self._stopping or self._pending[True]:
                return
        worker.warm()           # an emergency must not wait for a process to start

    def _no_time_left(self, task: _Task) -> bool:
        return task.deadline - self.clock() <= 2 * self.retry_delay

    def _failure(self, task: _Task, error: str, offline: bool) -> None:
        log.error("%s", i18n.tr("onair.render_failed", key=task.job.key, error=error))
        if offline:
            reasons = "; ".join(task.online_failures + [error])
            _settle(task.future, error=OnAirError(i18n.tr("onair.render_failed", key=task.job.key, error=reasons)))
            return
        task.online_failures.append(error)
        with self._cond:
            if len(task.online_failures) < self.online_tries and not self._no_time_left(task):
                task.not_before = time.monotonic() + self.retry_delay.total_seconds()
                log.warning("retrying %s in %.0f s", task.job.key, self.retry_delay.total_seconds())
            else:
                log.warning("retrying %s with the offline voice", task.job.key)
            self._pending[task.urgent].append(task)
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            for task in self._tasks.values():
                if not task.future.done():
                    task.future.cancel()
            self._cond.notify_all()
        for worker in self._workers.values():
            worker.close()
        for thread in self._threads:
            thread.join(timeout=2)
        shutil.rmtree(self.memory, ignore_errors=True)     # renders kept in memory are not needed any more
