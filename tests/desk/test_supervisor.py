"""The desk as `broadcaster run` keeps it: a separate process, restarted when it dies or hangs."""

from __future__ import annotations

import os
import signal

from broadcaster.desk.supervisor import DeskSupervisor, answers
from tests.desk.helpers import alive, free_port, wait_until


def test_a_killed_or_hung_desk_is_restarted(station, accounts):
    listen = f"127.0.0.1:{free_port()}"
    supervisor = DeskSupervisor(station.path, listen, probe_interval=0.3, hang_after=2.0)
    supervisor.start()
    try:
        wait_until(lambda: answers(listen), timeout=30)
        first = supervisor.process.pid
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: supervisor.process.pid != first and supervisor.answered, timeout=30)
        second = supervisor.process.pid
        os.kill(second, signal.SIGSTOP)            # hung: alive, silent
        wait_until(lambda: supervisor.process.pid != second and answers(listen), timeout=30)
        assert not alive(second) and supervisor.restarts == 2
    finally:
        supervisor.stop()
    assert supervisor.process.poll() is not None
