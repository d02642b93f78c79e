"""The as-run journal: rows the SQLite log could not take yet, kept on any disk that still writes.

Where it sits: under `AsRunLog`, only while the log cannot be written (disk full, read-only
state folder, a log being replaced). In: row changes as JSON lines. Out: the same changes back
at the next start, so a row accepted while the disk was full survives a power cut too.

The journal is small (rows, not audio) and bounded (`MAX_BYTES`); it lives in the first folder
that accepts a write: the state folder, then `$XDG_RUNTIME_DIR`, `/dev/shm`, `/var/tmp`, the
temporary folder. Outside the state folder its file name carries a hash of the log's path, so
two stations on one machine never read each other's journal. Those folders are shared with every
user of the machine and the name is predictable: a journal file owned by anyone but this
process's user, the state folder's owner or root is neither written nor read (another user's
file of forged rows would otherwise enter the log, and an aired row there keeps a slot from
airing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MAX_BYTES = 4 * 1024 * 1024     # ~10,000 rows: weeks of a commune schedule with the disk full
STATE_NAME = "asrun-journal.jsonl"


def default_folders(state_dir: Path) -> list[Path]:
    """Where a journal may go, best first (the state folder, then memory-backed and temporary disks)."""
    folders = [Path(state_dir)]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        folders.append(Path(runtime))
    folders += [Path("/dev/shm"), Path("/var/tmp"), Path(tempfile.gettempdir())]
    unique: list[Path] = []
    for folder in folders:
        if folder not in unique:
            unique.append(folder)
    return unique


def _trusted(log_path: Path) -> set[int]:
    """This process's user, root, and the owner of the log's folder (the station's user, when root
    or an admin runs `history`)."""
    owners = {os.geteuid(), 0}
    try:
        owners.add(log_path.parent.stat().st_uid)
    except OSError:
        pass
    return owners


def journal_name(log_path: Path, folder: Path) -> str:
    if folder == Path(log_path).parent:
        return STATE_NAME
    digest = hashlib.sha256(str(Path(log_path).absolute()).encode()).hexdigest()[:16]
    return f"broadcaster-asrun-{digest}.jsonl"


class Journal:
    """Append-only JSON lines for one as-run log, in the first folder that takes the write."""

    def __init__(self, log_path: Path, folders: list[Path], *, owners: set[int] | None = None) -> None:
        self.log_path = Path(log_path)
        self.folders = [Path(f) for f in folders]
        self.owners = _trusted(self.log_path) if owners is None else owners   # whose journal files count
        self.path: Path | None = None      # where the last append went
        self.full = False                  # MAX_BYTES reached: later changes stay in memory only

    def candidates(self) -> list[Path]:
        return [folder / journal_name(self.log_path, folder) for folder in self.folders]

    def _ours(self, path: Path, *, say: bool = True) -> bool:
        """A regular file (not a link) of a trusted owner."""
        try:
            status = path.lstat()
        except OSError:
            return False
        if not stat.S_ISREG(status.st_mode):
            return False
        if status.st_uid not in self.owners:
            if say:
                log.warning("as-run journal %s belongs to another user (uid %s): ignored", path, status.st_uid)
            return False
        return True

    def waiting(self) -> bool:
        """Whether a journal of this log holds changes (the log has not taken them yet)."""
        return any(self._ours(path, say=False) and path.stat().st_size > 0 for path in self.candidates())

    def append(self, change: dict) -> Path | None:
        """Write one change durably; returns the file, or None when no disk took it."""
        line = (json.dumps(change, ensure_ascii=False) + "\n").encode()
        for path in ([self.path] if self.path else []) + self.candidates():
            if os.path.lexists(path) and not self._ours(path):
                continue
            try:
                if path.exists() and path.stat().st_size + len(line) > MAX_BYTES:
                    self.full = True
                    return None
                descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                try:
                    if os.fstat(descriptor).st_uid not in self.owners:      # made between the look and the open
                        continue
                    os.write(descriptor, line)
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
            except OSError:
                continue
            self.path = path
            return path
        return None

    def read(self) -> list[dict]:
        """Every change left in any of this log's journals, oldest file first; torn lines skipped."""
        changes: list[dict] = []
        found = [p for p in self.candidates() if self._ours(p)]
        for path in sorted(found, key=lambda p: p.stat().st_mtime_ns):
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_BYTES + 1)
            except OSError as exc:
                log.warning("as-run journal %s unreadable: %s", path, exc)
                continue
            for raw in data.splitlines():
                try:
                    change = json.loads(raw)
                except ValueError:
                    continue        # the last line of a journal cut by a power failure
                if isinstance(change, dict):
                    changes.append(change)
        return changes

    def clear(self) -> None:
        """Remove every journal of this log (its changes are in the log now); never another user's file."""
        for path in self.candidates():
            if not self._ours(path, say=False):
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove the as-run journal %s: %s", path, exc)
        self.path = None
        self.full = False
