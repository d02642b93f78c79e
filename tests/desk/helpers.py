"""Helpers for tests that run the desk and the daemon as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import free_port, wait_for  # noqa: F401  (free_port: the desk tests import it from here)


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def desk_child(pid: int) -> int | None:
    """The `broadcaster desk` child of a `broadcaster run` process (it has render workers too)."""
    for child in children(pid):
        try:
            arguments = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"desk" in arguments:
            return child
    return None


def process_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return process_state(pid) not in ("Z", "gone")


@contextmanager
def serving(arguments: list[str], listen: str, log_path: Path, timeout: float = 40.0) -> Iterator[str]:
    """Run a `broadcaster` command that serves the desk on `listen`; yields its base URL once it
    answers, and stops it (SIGTERM, then kill) whatever happens."""
    from broadcaster.desk.supervisor import answers

    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "broadcaster", *arguments], stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: answers(listen) or process.poll() is not None, timeout=timeout)
            assert process.poll() is None, log_path.read_text(errors="replace")
            yield f"http://{listen}"
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, and kill after 10 s if it has not ended."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
