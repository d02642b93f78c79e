"""The control channel: the desk talks to the running daemon over a local Unix socket.

In: one JSON object per line from `broadcaster play` / `broadcaster emergency` (client side:
`send_request`). Out: one JSON object per line back, `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`. The socket lives at `<state_dir>/control.sock`, is created under
a restrictive umask so it is 0600 from its first instant (only the daemon's own user can
reach it), and is never a network address: whoever can write to it can put a voice on every
loudspeaker of the commune.

Whether a daemon runs is decided by a lock, never by whether the socket answers: the daemon
holds an exclusive `flock` on `<state_dir>/daemon.pid` for its whole life (the kernel drops it
when the process dies, even by kill -9), so a daemon busy for a moment is never taken for a
dead one and the desk never plays on top of it. When the state folder refuses writes (a
read-only disk), the lock and the socket move to a private folder in the temporary directory
named after the state folder; clients look in both places.

The server cannot be starved or killed: one thread multiplexes every connection (`selectors`),
each connection has `READ_DEADLINE` seconds to send its line and at most `MAX_CONNECTIONS` are
open at once (more are told "busy" and closed); a complete line is answered on a small pool of
threads, and anything a request raises (bad JSON, a RecursionError from deeply nested JSON, a
handler bug) goes back to the client as an error.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import selectors
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broadcaster import i18n
from broadcaster.errors import OnAirError

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
LOCK_NAME = "daemon.pid"
MAX_REQUEST = 64 * 1024
MAX_REPLY = 16 * 1024 * 1024  # a reply a client reads at most (the as-run rows a full disk held back for weeks)
MAX_CONNECTIONS = 64          # open at once; idle ones are dropped after READ_DEADLINE
READ_DEADLINE = 3.0           # seconds a client has to send its request line
REPLY_DEADLINE = 5.0          # seconds a client has to take its reply
HANDLERS = 4                  # requests answered at once (each only validates and queues)
_MAX_PATH = 107               # sun_path is 108 bytes with its terminating NUL on Linux

i18n.register({
    "onair.socket_too_long": ("Đường dẫn socket điều khiển quá dài ({path}); hãy chọn state_dir ngắn hơn.",
                              "The control socket path is too long ({path}); choose a shorter state_dir."),
    "onair.already_running": ("Chương trình phát thanh đã chạy (socket {path} đang trả lời).",
                              "The station daemon is already running ({path} answers)."),
    "onair.already_locked": ("Chương trình phát thanh đã chạy (tiến trình {pid}, khóa {path}).",
                             "The station daemon is already running (process {pid}, lock {path})."),
    "onair.no_lock": ("Không tạo được tệp khóa của chương trình phát thanh ở {paths}: {detail}",
                      "Cannot create the station daemon's lock file in {paths}: {detail}"),
    "onair.no_daemon": ("Chương trình phát thanh không chạy (không kết nối được {path}).",
                        "The station daemon is not running (cannot connect to {path})."),
    "onair.daemon_silent": (
        "Chương trình phát thanh đang chạy (tiến trình {pid}) nhưng không trả lời qua {path} sau {seconds:g} "
        "giây; không phát trực tiếp để khỏi phát chồng lên đài. Xem nhật ký của chương trình.",
        "The station daemon is running (process {pid}) but did not answer on {path} within {seconds:g} s; "
        "not playing directly, which would air on top of it. Check the daemon's log."),
    "onair.socket_failed": ("Không mở được socket điều khiển {path}: {detail}",
                            "Cannot open the control socket {path}: {detail}"),
    "onair.busy": ("Chương trình phát thanh đang bận (quá nhiều kết nối); thử lại.",
                   "The station daemon is busy (too many connections); try again."),
    "onair.bad_request": ("Yêu cầu không hợp lệ: {detail}", "Invalid request: {detail}"),
    "onair.bad_reply": ("Trả lời không hợp lệ từ chương trình phát thanh: {detail}",
                        "Invalid reply from the station daemon: {detail}"),
})


def socket_path(state_dir: Path) -> Path:
    return Path(state_dir) / SOCKET_NAME


def runtime_folders(state_dir: Path) -> list[Path]:
    """Where a daemon's lock and socket may be: the state folder, else a private temporary folder."""
    digest = hashlib.sha256(str(Path(state_dir).absolute()).encode()).hexdigest()[:12]
    return [Path(state_dir), Path(tempfile.gettempdir()) / f"broadcaster-{os.getuid()}-{digest}"]


def _lock_holder(path: Path) -> int | None:
    """The pid holding the lock at `path` (-1 if unknown), or None when nobody holds it."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(descriptor, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else -1
        except OSError:
            return None
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None
    finally:
        os.close(descriptor)


def running_daemon(state_dir: Path) -> tuple[int, Path] | None:
    """(pid, control socket path) of the daemon holding this state folder's lock, or None."""
    for folder in runtime_folders(state_dir):
        pid = _lock_holder(folder / LOCK_NAME)
        if pid is not None:
            return pid, folder / SOCKET_NAME
    return None


def daemon_running(state_dir: Path) -> bool:
    """Whether a station daemon runs for `state_dir` (it holds the lock), however busy it is."""
    return running_daemon(state_dir) is not None


class DaemonLock:
    """The daemon's lock: an exclusive flock on `daemon.pid` (with the pid in it), held until release.

    `acquire()` raises OnAirError when another daemon holds it, and returns the folder where the
    lock (and so the control socket) lives: the state folder, or the fallback when that refuses writes.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.folder: Path | None = None
        self._descriptor: int | None = None

    def acquire(self, patience: float = 1.0) -> Path:
        running = running_daemon(self.state_dir)
        if running is not None:
            raise OnAirError(i18n.tr("onair.already_locked", pid=running[0], path=running[1].parent / LOCK_NAME))
        problems = []
        for folder in runtime_folders(self.state_dir):
            path = folder / LOCK_NAME
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as exc:
                problems.append(f"{folder}: {exc.strerror or exc}")
                continue
            deadline = time.monotonic() + patience
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    # A client may hold a shared lock for an instant while it checks: wait that out.
                    if time.monotonic() > deadline:
                        os.close(descriptor)
                        raise OnAirError(i18n.tr("onair.already_locked", pid=_lock_holder(path), path=path)) from None
                    time.sleep(0.02)
            try:
                os.ftruncate(descriptor, 0)
                os.write(descriptor, f"{os.getpid()}\n".encode())
            except OSError as exc:
                log.warning("cannot write the pid into %s: %s", path, exc)
            self._descriptor, self.folder = descriptor, folder
            if folder != self.state_dir:
                log.warning("the state folder %s refuses writes: lock and control socket are in %s",
                            self.state_dir, folder)
            return folder
        raise OnAirError(i18n.tr("onair.no_lock", paths=", ".join(str(f) for f in runtime_folders(self.state_dir)),
                                 detail="; ".join(problems)))

    def release(self) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None


def _connect(path: Path, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def daemon_answers(path: Path) -> bool:
    """Whether something listens on the socket `path` (a leftover file from a crash does not count).

    Only for refusing to bind over a live socket: whether a daemon *runs* is `daemon_running`.
    """
    if not path.exists():
        return False
    try:
        _connect(path, 1.0).close()
    except OSError:
        return False
    return True


def send_request(path: Path, request: dict, *, timeout: float = 30.0) -> dict:
    """Send one request to the daemon and return its reply; OnAirError when nobody answers."""
    try:
        sock = _connect(path, timeout)
    except OSError as exc:
        raise OnAirError(i18n.tr("onair.no_daemon", path=path)) from exc
    try:
        with sock, sock.makefile("rwb") as stream:
            stream.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            stream.flush()
            line = stream.readline(MAX_REPLY)
    except OSError as exc:
        raise OnAirError(i18n.tr("onair.no_daemon", path=path)) from exc
    try:
        reply = json.loads(line)
    except ValueError as exc:
        raise OnAirError(i18n.tr("onair.bad_reply", detail=repr(line[:200]))) from exc
    if not isinstance(reply, dict):
        raise OnAirError(i18n.tr("onair.bad_reply", detail=repr(reply)[:200]))
    return reply


def ask_daemon(state_dir: Path, request: dict, *, patience: float = 30.0) -> dict | None:
    """Send `request` to the daemon that runs for `state_dir`; None when no daemon runs.

    A running daemon that is busy (all connections taken, or not listening yet) is asked again
    until `patience` runs out, then OnAirError: the caller must never fall back to playing itself.
    """
    deadline = time.monotonic() + patience
    while True:
        running = running_daemon(state_dir)
        if running is None:
            return None
        pid, path = running
        try:
            reply = send_request(path, request, timeout=max(1.0, deadline - time.monotonic()))
        except OnAirError:
            reply = None
        if reply is not None and not reply.get("busy"):
            return reply
        if time.monotonic() >= deadline:
            raise OnAirError(i18n.tr("onair.daemon_silent", pid=pid, path=path, seconds=patience))
        time.sleep(0.2)


class _Connection:
    __slots__ = ("sock", "buffer", "deadline")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.deadline = deadline


class ControlServer:
    """Accepts connections on the Unix socket and answers each JSON line with `handler(request)`.

    The handler returns a dict; an `OnAirError` it raises goes back as `{"ok": false, "error": ...}`,
    and so does any other exception (logged with its traceback).
    """

    def __init__(self, path: Path, handler: Callable[[dict], dict], *,
                 max_connections: int = MAX_CONNECTIONS, read_deadline: float = READ_DEADLINE) -> None:
        self.path = Path(path)
        self.handler = handler
        self.max_connections = max_connections
        self.read_deadline = read_deadline
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=HANDLERS, thread_name_prefix="control-request")
        self._open = 0                    # connections accepted and not yet closed
        self._count_lock = threading.Lock()

    def start(self) -> None:
        if len(os.fsencode(self.path)) > _MAX_PATH:
            raise OnAirError(i18n.tr("onair.socket_too_long", path=self.path))
        if self.path.exists() or self.path.is_symlink():
            if daemon_answers(self.path):
                raise OnAirError(i18n.tr("onair.already_running", path=self.path))
            self.path.unlink()      # left behind by a crash
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)       # the socket is born 0600: no window where others could connect
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise OnAirError(i18n.tr("onair.socket_failed", path=self.path, detail=exc.strerror or exc)) from exc
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self._thread.start()
        log.info("control socket listening at %s", self.path)

    @property
    def open_connections(self) -> int:
        with self._count_lock:
            return self._open

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._sock, selectors.EVENT_READ)
        waiting: dict[socket.socket, _Connection] = {}
        try:
            while not self._stop.is_set():
                try:
                    self._round(selector, waiting)
                except Exception:   # the control thread must outlive anything one round meets
                    log.exception("control socket: unexpected error (still serving)")
                    time.sleep(0.05)
        finally:
            for connection in waiting.values():
                self._close(connection.sock)
            selector.close()

    def _round(self, selector: selectors.BaseSelector, waiting: dict[socket.socket, _Connection]) -> None:
        for key, _ in selector.select(timeout=0.2):
            if key.fileobj is self._sock:
                self._accept(selector, waiting)
            else:
                self._read(selector, waiting, waiting[key.fileobj])
        now = time.monotonic()
        for connection in [c for c in waiting.values() if c.deadline <= now]:
            # An idle or slow client: dropped quietly, its place goes to the next one.
            log.debug("control connection dropped: nothing sent within %.1f s", self.read_deadline)
            self._forget(selector, waiting, connection)
            self._close(connection.sock)

    def _accept(self, selector: selectors.BaseSelector, waiting: dict[socket.socket, _Connection]) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    log.warning("control socket: out of file descriptors; dropping idle connections")
                    for connection in list(waiting.values())[: max(1, len(waiting) // 2)]:
                        self._forget(selector, waiting, connection)
                        self._close(connection.sock)
                return
            with self._count_lock:
                full = self._open >= self.max_connections
                if not full:
                    self._open += 1
            if full:
                self._refuse(conn)
                continue
            conn.setblocking(False)
            connection = _Connection(conn, time.monotonic() + self.read_deadline)
            waiting[conn] = connection
            selector.register(conn, selectors.EVENT_READ)

    def _refuse(self, conn: socket.socket) -> None:
        try:
            conn.setblocking(False)
            conn.send(json.dumps({"ok": False, "busy": True, "error": i18n.tr("onair.busy")},
                                 ensure_ascii=False).encode() + b"\n")
        except OSError:
            pass
        finally:
            conn.close()

    def _read(self, selector: selectors.BaseSelector, waiting: dict[socket.socket, _Connection],
              connection: _Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:                # closed without a request: a liveness probe or a client that gave up
            self._forget(selector, waiting, connection)
            self._close(connection.sock)
            return
        connection.buffer += data
        end = connection.buffer.find(b"\n")
        if end < 0 and len(connection.buffer) <= MAX_REQUEST:
            return
        self._forget(selector, waiting, connection)
        line = bytes(connection.buffer[:end]) if 0 <= end <= MAX_REQUEST else None
        self._pool.submit(self._answer, connection.sock, line)

    @staticmethod
    def _forget(selector: selectors.BaseSelector, waiting: dict[socket.socket, _Connection],
                connection: _Connection) -> None:
        waiting.pop(connection.sock, None)
        try:
            selector.unregister(connection.sock)
        except (KeyError, ValueError):
            pass

    def _close(self, conn: socket.socket) -> None:
        try:
            conn.close()
        finally:
            with self._count_lock:
                self._open -= 1

    def reply_to(self, line: bytes | None) -> dict:
        """The reply to one request line (None: longer than MAX_REQUEST); never raises."""
        if line is None:
            return {"ok": False, "error": i18n.tr("onair.bad_request", detail=f"longer than {MAX_REQUEST} bytes")}
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("expected a JSON object")
        except (ValueError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else exc
            return {"ok": False, "error": i18n.tr("onair.bad_request", detail=detail)}
        try:
            return {"ok": True, **self.handler(request)}
        except OnAirError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # the daemon keeps serving; the client gets the reason
            log.exception("control request %.200r failed", request)
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

    def _answer(self, conn: socket.socket, line: bytes | None) -> None:
        try:
            reply = self.reply_to(line)
            data = json.dumps(reply, ensure_ascii=False, default=str).encode() + b"\n"
            conn.settimeout(REPLY_DEADLINE)
            conn.sendall(data)
        except OSError as exc:      # the client left before its reply: nothing anyone must act on
            log.debug("control client left before its reply: %s", exc)
        except Exception:           # a worker must never die silently with the connection open
            log.exception("control reply failed")
        finally:
            self._close(conn)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
