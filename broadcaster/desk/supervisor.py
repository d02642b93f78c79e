"""Runs the desk beside the daemon as a separate, supervised process.

Where it sits: `broadcaster run` starts one `DeskSupervisor` after the station is on air. The
desk is `python -m broadcaster desk` in its own process and session: a crash, a hang or a flood
of requests there costs the daemon nothing but this thread's occasional poll. The supervisor
restarts a desk that exits (backing off up to 30 s while it keeps failing, e.g. a port in use)
and kills and restarts one that answered `/healthz` once but then not for `hang_after` seconds
(stopped with SIGSTOP, deadlocked), or never answered within a minute of starting. It never touches the station's own threads.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from broadcaster import i18n
from broadcaster.desk import messages as _messages  # noqa: F401  (registers the catalogue)
from broadcaster.schedule.loader import parse_listen

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0          # seconds up before the restart back-off starts again from 1 s
STARTUP_GRACE = 60.0          # a desk that has not answered yet may take this long to start (a loaded box)


def probe_address(listen: str) -> tuple[str, int]:
    """Where to reach a desk listening on `listen` from this machine."""
    host, port = parse_listen(listen)
    if host == "0.0.0.0":
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, port


def answers(listen: str, timeout: float = 2.0) -> bool:
    host, port = probe_address(listen)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class DeskSupervisor:
    def __init__(self, schedule_path: Path, listen: str, *, lang: str | None = None,
                 probe_interval: float = 5.0, hang_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.schedule_path = Path(schedule_path)
        self.listen = listen
        self.command = [sys.executable, "-m", "broadcaster", *(["--lang", lang] if lang else []),
                        "desk", "--schedule", str(self.schedule_path), "--listen", listen,
                        "--exit-with", str(os.getpid())]
        self.probe_interval = probe_interval
        self.hang_after = hang_after
        self.clock = clock
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="desk-supervisor", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        # Its own session: a terminal's Ctrl-C or a signal to the daemon's group does not reach it;
        # `stop()` ends it explicitly.
        self.process = subprocess.Popen(self.command, start_new_session=True, stdin=subprocess.DEVNULL)
        self._started = self._last_answer = self.clock()
        self.answered = False
        log.info("desk started (pid %s) on %s", self.process.pid, self.listen)

    def _watch(self) -> None:
        backoff = 1.0
        next_probe = self.clock() + self.probe_interval
        while not self._stop.wait(0.25):
            code = self.process.poll()
            if code is not None:
                if self.clock() - self._started > HEALTHY_AFTER:
                    backoff = 1.0
                log.warning("%s", i18n.tr("desk.supervisor.restart", code=code, delay=backoff))
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, MAX_BACKOFF)
                self.restarts += 1
                self._spawn()
                next_probe = self.clock() + self.probe_interval
                continue
            if self.clock() < next_probe:
                continue
            next_probe = self.clock() + self.probe_interval
            if answers(self.listen):
                self._last_answer = self.clock()
                self.answered = True
            elif self.clock() - self._last_answer > (self.hang_after if self.answered
                                                     else max(self.hang_after, STARTUP_GRACE)):
                log.warning("%s", i18n.tr("desk.supervisor.hung", seconds=self.clock() - self._last_answer))
                self._kill()      # the next turn sees it gone and restarts it

    def _kill(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGCONT)      # a stopped desk cannot act on SIGTERM
            process.terminate()
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
        except ProcessLookupError:
            pass
