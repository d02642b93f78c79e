"""The desk as `broadcaster run` keeps it: a separate process, restarted when it dies or hangs."""

from __future__ import annotations

import os
import signal

from broadcaster.desk.supervisor import DeskSupervisor, answers
from tests.desk.helpers import alive
from tests.helpers import free_port, wait_for


def test_a_killed_or_hung_desk_is_restarted(station, accounts):
    listen = f"127.0.0.1:{free_port()}"
    supervisor = DeskSupervisor(station.path, listen, probe_interval=0.3, hang_after=2.0)
    supervisor.start()
    try:
        wait_for(lambda: answers(listen), timeout=30)
        first = supervisor.process.pid
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: supervisor.process.pid != first and supervisor.answered, timeout=30)
        second = supervisor.process.pid
        os.kill(second, signal.SIGSTOP)            # hung: alive, silent
        wait_for(lambda: supervisor.process.pid != second and answers(listen), timeout=30)
        assert not alive(second) and supervisor.restarts == 2
    finally:
        supervisor.stop()
    assert supervisor.process.poll() is not None


def test_desk_start_up_lines_name_the_first_admin_command_and_a_public_address(station):
    """No account yet and a non-loopback address: both are said at start-up, one line each."""
    import subprocess
    import sys

    port = free_port()
    log = station.folder / "desk.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "broadcaster", "--lang", "en", "desk", "--schedule",
                                    str(station.path), "--listen", f"0.0.0.0:{port}"], stdout=out, stderr=out)
    try:
        wait_for(lambda: answers(f"127.0.0.1:{port}"), timeout=30)
    finally:
        process.terminate()
        process.wait(10)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("No desk account yet: create the first administrator with  ") and
               line.endswith(f"broadcaster user add admin --role quan-tri --schedule {station.path}") for line in lines)
    assert any(line.startswith(f"NOTE: the desk listens on 0.0.0.0:{port}, not only this machine") for line in lines)
