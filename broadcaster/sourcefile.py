"""Operator files read with bounds: regular files only, under a size limit, with a bounded read.

Everything the station reads because schedule.yaml says so (the schedule itself, bulletin text
files, the pronunciation dictionary, the secrets file) comes through here. A symlink to /dev/zero would otherwise
be read until memory runs out, and a FIFO would make `validate` wait forever for a writer; the
file is opened without blocking and checked with fstat on the descriptor actually read, so
nothing can be swapped in between the check and the read.

The limits are generous for the job: a year of a commune's schedule is a few tens of KB, a
bulletin a few KB, a dictionary a few hundred entries.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

SCHEDULE_LIMIT = 2 * 1024 * 1024       # schedule.yaml
TEXT_LIMIT = 256 * 1024                 # one bulletin's text file (~40,000 Vietnamese words)
DICTIONARY_LIMIT = 1024 * 1024          # the pronunciation dictionary
SECRETS_LIMIT = 64 * 1024               # the streaming secrets file


class SourceError(Exception):
    """Why a file cannot be read: a message key (`file.*`) and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; raises SourceError or OSError."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)   # a FIFO opens at once
    try:
        st = os.fstat(descriptor)
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("file.not_regular", kind=_kind(st.st_mode))
        if st.st_size > limit:
            raise SourceError("file.too_large", size=st.st_size, limit=limit)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(descriptor, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:                     # grew while being read
            raise SourceError("file.too_large", size=total, limit=limit)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_text(path: Path, limit: int) -> str:
    """`read_bytes` decoded as UTF-8 (a BOM is dropped); raises SourceError, OSError, UnicodeDecodeError."""
    return read_bytes(path, limit).decode("utf-8-sig")


def regular_file_problem(path: Path) -> SourceError | None:
    """Why `path` (which exists) is no regular file, without opening it; None when it is one."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else SourceError("file.not_regular", kind=_kind(mode))
