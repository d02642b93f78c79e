"""Helpers every test folder may import: polling a condition with a deadline, a free loopback port.

Ports: the kernel picks a free one for a socket bound to port 0; the test's server binds it a
moment later. Parallel workers each ask the kernel, so two never get the same port at once.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, step: float = 0.05):
    """Poll until `predicate()` is truthy (returns it) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s: {predicate}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
