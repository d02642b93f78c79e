"""Time and peak memory of one `broadcaster` command in its own process (tests and benchmarks).

The command reports its own peak resident memory (VmHWM at exit): the ru_maxrss that wait4
gives for a forked child also counts the parent's memory from before exec, so a 150 MB pytest
would hide what `validate` itself used.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PEAK_WRAPPER = (
    "import atexit, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status:\n"
    "        sys.stderr.write('VmHWM ' + next(l for l in status if l.startswith('VmHWM:')).split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "from broadcaster.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n")


def run_measured(args: list[str], cwd: Path, timeout: float = 60.0) -> tuple[int, str, float, int]:
    """Run `broadcaster ARGS`: (exit status, its stderr, seconds, its own peak RSS in KB).

    `timeout` is the harness's bound: a command that hangs is killed and fails the caller.
    """
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *args], capture_output=True, cwd=cwd,
                            timeout=timeout)
    seconds = time.monotonic() - started
    lines = result.stderr.decode("utf-8", "replace").splitlines()
    peaks = [int(line.split()[1]) for line in lines if line.startswith("VmHWM ")]
    output = "\n".join(line for line in lines if not line.startswith("VmHWM "))
    return result.returncode, output, seconds, peaks[-1] if peaks else -1
