"""Is this as-run log file sound? Size, header and SQLite's own check, before anything trusts it.

Where it sits: `AsRunLog` calls it when it opens the log at start-up. In: the log's path. Out:
None for a sound (or absent) file, else a short reason; `move_aside()` renames a damaged log
(and its -wal/-shm) out of the way with a time stamp so a fresh log can start and a person can
still look at the old one.

Why it exists: SQLite happily opens a 0-byte file as an empty database, so a truncated log
would look like "nothing aired yet" and the daemon would air the morning bulletin a second time.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm")


def inspect(path: Path) -> str | None:
    """Why the log at `path` cannot be trusted, or None (an absent file is fine: a new log starts)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None         # no log yet (or no state folder): opening it says what is wrong
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size == 0:
        return "empty (0 bytes): truncated"
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if len(header) < 100 or not header.startswith(HEADER):
        return "not an SQLite file (damaged header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "damaged header (page size)"
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is only valid when its version stamp matches the change counter.
    if header[24:28] == header[92:96] and pages and st.st_size < pages * page_size:
        return f"truncated ({st.st_size} of {pages * page_size} bytes)"
    if st.st_size % page_size:
        return f"truncated ({st.st_size} bytes is not a whole number of {page_size}-byte pages)"
    return None


def integrity(db: sqlite3.Connection) -> str | None:
    """SQLite's quick_check on an open log: None when it says ok, else its first complaint."""
    try:
        rows = db.execute("PRAGMA quick_check").fetchmany(3)
    except sqlite3.DatabaseError as exc:
        return f"damaged ({exc})"
    if rows == [("ok",)]:
        return None
    return "damaged (" + "; ".join(str(r[0]) for r in rows)[:300] + ")"


def move_aside(path: Path, now: datetime) -> Path:
    """Rename a damaged log to `<name>.damaged-<YYYYmmddTHHMMSS>` (with its side files); returns it."""
    path = Path(path)
    target = path.with_name(f"{path.name}.damaged-{now:%Y%m%dT%H%M%S}")
    number = 2
    while target.exists():
        target = path.with_name(f"{path.name}.damaged-{now:%Y%m%dT%H%M%S}-{number}")
        number += 1
    os.replace(path, target)
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target
