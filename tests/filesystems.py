"""Real disk faults for tests: a small tmpfs that a test fills up or remounts read-only.

Mounting needs root (the test machines run the suite as root); the mount is removed by the
fixture's teardown whatever the test did, lazily if a file is still open on it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallDisk:
    """A tmpfs of `size` mounted at `path`: `fill()` takes every free byte, `free()` gives them back."""

    def __init__(self, path: Path, size: str = "1m") -> None:
        self.path = path
        self.size = size
        self._filler = path / ".filler"

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(self.path)],
                       check=True, capture_output=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True)

    def fill(self) -> None:
        """Write zeros until the disk says ENOSPC (the last partial block too)."""
        descriptor = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 16, 4096, 512, 1):
                try:
                    while True:
                        os.write(descriptor, b"\0" * size)
                except OSError:
                    continue
        finally:
            os.close(descriptor)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)

    def read_only(self, on: bool = True) -> None:
        subprocess.run(["mount", "-o", f"remount,{'ro' if on else 'rw'}", str(self.path)],
                       check=True, capture_output=True)


def _mounted(tmp_path: Path, size: str) -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = SmallDisk(tmp_path / "disk", size)
    disk.mount()
    try:
        yield disk
    finally:
        disk.unmount()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    yield from _mounted(tmp_path, "1m")


@pytest.fixture
def roomy_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """4 MB: above the as-run health check's 1 MB floor, so only a real write fault fails that check."""
    yield from _mounted(tmp_path, "4m")
