"""The control channel: the desk talks to the running daemon over a local Unix socket.

In: one JSON object per line from `broadcaster play` / `broadcaster emergency` (client side:
`send_request`). Out: one JSON object per line back, `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`. The socket lives at `<state_dir>/control.sock`, is created under
a restrictive umask so it is 0600 from its first instant (only the daemon's own user can
reach it), and is never a network address: whoever can write to it can put a voice on every
loudspeaker of the commune.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from broadcaster import i18n
from broadcaster.errors import OnAirError

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
MAX_REQUEST = 64 * 1024
_MAX_PATH = 107          # sun_path is 108 bytes with its terminating NUL on Linux

i18n.register({
    "onair.socket_too_long": ("Đường dẫn socket điều khiển quá dài ({path}); hãy chọn state_dir ngắn hơn.",
                              "The control socket path is too long ({path}); choose a shorter state_dir."),
    "onair.already_running": ("Chương trình phát thanh đã chạy (socket {path} đang trả lời).",
                              "The station daemon is already running ({path} answers)."),
    "onair.no_daemon": ("Chương trình phát thanh không chạy (không kết nối được {path}).",
                        "The station daemon is not running (cannot connect to {path})."),
    "onair.bad_request": ("Yêu cầu không hợp lệ: {detail}", "Invalid request: {detail}"),
    "onair.bad_reply": ("Trả lời không hợp lệ từ chương trình phát thanh: {detail}",
                        "Invalid reply from the station daemon: {detail}"),
})


def socket_path(state_dir: Path) -> Path:
    return Path(state_dir) / SOCKET_NAME


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
    """Whether a daemon is listening on `path` (a leftover socket file from a crash does not count)."""
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
    with sock, sock.makefile("rwb") as stream:
        try:
            stream.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            stream.flush()
            line = stream.readline(MAX_REQUEST)
        except OSError as exc:
            raise OnAirError(i18n.tr("onair.no_daemon", path=path)) from exc
    try:
        reply = json.loads(line)
    except ValueError as exc:
        raise OnAirError(i18n.tr("onair.bad_reply", detail=repr(line[:200]))) from exc
    if not isinstance(reply, dict):
        raise OnAirError(i18n.tr("onair.bad_reply", detail=repr(reply)[:200]))
    return reply


class ControlServer:
    """Accepts connections on the Unix socket and answers each JSON line with `handler(request)`.

    The handler returns a dict; an `OnAirError` it raises goes back as `{"ok": false, "error": ...}`.
    Requests are handled one at a time: each only validates and queues, so they are quick.
    """

    def __init__(self, path: Path, handler: Callable[[dict], dict]) -> None:
        self.path = Path(path)
        self.handler = handler
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)

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
            raise OnAirError(i18n.tr("onair.bad_request", detail=exc)) from exc
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        self._thread.start()
        log.info("control socket listening at %s", self.path)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            with conn:
                conn.settimeout(5.0)
                try:
                    self._answer(conn)
                except OSError as exc:
                    log.warning("control connection failed: %s", exc)

    def _answer(self, conn: socket.socket) -> None:
        with conn.makefile("rwb") as stream:
            line = stream.readline(MAX_REQUEST)
            if not line.strip():
                return                  # a liveness probe (`daemon_answers`): connected, said nothing
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("expected a JSON object")
            except ValueError as exc:
                reply = {"ok": False, "error": i18n.tr("onair.bad_request", detail=exc)}
            else:
                try:
                    reply = {"ok": True, **self.handler(request)}
                except OnAirError as exc:
                    reply = {"ok": False, "error": str(exc)}
                except Exception as exc:  # the daemon keeps serving; the client gets the reason
                    log.exception("control request %r failed", request)
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            stream.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
