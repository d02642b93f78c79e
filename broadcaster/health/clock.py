"""Is the station PC's clock right? "On time to the millisecond" means nothing if it is minutes off.

In: the text of `timedatectl show` (systemd's view of NTP: systemd-timesyncd or chrony both set
the kernel's synchronised flag it reports), whether timesyncd has synchronised since boot, and
the kernel's offset from `adjtimex` when it knows one. Out: the `clock` check's `Result`.

`clock_result()` takes the text, not the command, so tests feed captured `timedatectl show`
output through exactly the parser the station uses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import shutil
import subprocess
from pathlib import Path

from broadcaster import i18n
from broadcaster.health.base import Result, State

log = logging.getLogger(__name__)

NAME = "clock"
# systemd-timesyncd touches this file at its first synchronisation; /run is emptied at every
# boot, so it says "synchronised at least once since boot" (chrony does not write it).
SYNCED_SINCE_BOOT = Path("/run/systemd/timesync/synchronized")
TIMEOUT = 5.0

i18n.register({
    "health.clock.ok": ("Đồng hồ máy đã đồng bộ giờ chuẩn qua mạng (NTP){offset}.",
                        "The clock is synchronised over the network (NTP){offset}."),
    "health.clock.offset": (", lệch {ms:.1f} ms", ", offset {ms:.1f} ms"),
    "health.clock.lost": (
        "Đồng hồ máy đã mất đồng bộ NTP (từng đồng bộ từ khi khởi động), có thể đang trôi giờ: "
        "kiểm tra mạng và máy chủ NTP (`timedatectl timesync-status`).",
        "The clock lost NTP synchronisation (it was synchronised since boot) and may drift: check "
        "the network and the NTP server (`timedatectl timesync-status`)."),
    "health.clock.never": (
        "Đồng hồ máy chưa từng đồng bộ giờ chuẩn từ khi khởi động: buổi phát có thể lệch giờ. "
        "Bật NTP bằng `sudo timedatectl set-ntp true` và kiểm tra kết nối mạng.",
        "The clock has never been synchronised since boot: broadcasts may air at the wrong time. "
        "Turn NTP on with `sudo timedatectl set-ntp true` and check the network."),
    "health.clock.ntp_off": (
        "Đồng hồ máy không đồng bộ và NTP đang tắt: bật bằng `sudo timedatectl set-ntp true`.",
        "The clock is not synchronised and NTP is off: turn it on with `sudo timedatectl set-ntp true`."),
    "health.clock.unknown": (
        "Không biết đồng hồ có đồng bộ không ({detail}): kiểm tra giờ máy bằng tay, hoặc chạy trên máy "
        "có systemd (`timedatectl`).",
        "Cannot tell whether the clock is synchronised ({detail}): check the time by hand, or run on a "
        "machine with systemd (`timedatectl`)."),
    "health.clock.no_timedatectl": ("không có lệnh timedatectl", "no timedatectl command"),
})


def parse_timedatectl(text: str) -> dict[str, str]:
    """`timedatectl show` output (KEY=value lines) as a dict; lines without `=` are ignored."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip()
    return values


def _yes(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("yes", "true", "1")


def clock_result(show_text: str | None, *, synced_since_boot: bool, offset: float | None = None,
                 unknown_detail: str = "") -> Result:
    """The `clock` check from `timedatectl show` text (None when it could not be run).

    `offset`: the kernel's estimate in seconds, shown when the clock is synchronised.
    """
    values = parse_timedatectl(show_text) if show_text is not None else {}
    synchronized = _yes(values.get("NTPSynchronized"))
    if synchronized is None:
        detail = unknown_detail or i18n.tr("health.clock.no_timedatectl")
        return Result(NAME, State.WARNING, i18n.tr("health.clock.unknown", detail=detail))
    if synchronized:
        shown = "" if offset is None else i18n.tr("health.clock.offset", ms=offset * 1000)
        return Result(NAME, State.OK, i18n.tr("health.clock.ok", offset=shown))
    if synced_since_boot:
        return Result(NAME, State.WARNING, i18n.tr("health.clock.lost"))
    if _yes(values.get("NTP")) is False:
        return Result(NAME, State.FAILING, i18n.tr("health.clock.ntp_off"))
    return Result(NAME, State.FAILING, i18n.tr("health.clock.never"))


def read_timedatectl() -> tuple[str | None, str]:
    """(stdout of `timedatectl show`, why not) — None when there is no answer (no systemd: a container)."""
    binary = shutil.which("timedatectl")
    if binary is None:
        return None, i18n.tr("health.clock.no_timedatectl")
    try:
        done = subprocess.run([binary, "show"], capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, lines[-1] if lines else f"timedatectl show: exit {done.returncode}"
    return done.stdout.decode("utf-8", "replace"), ""


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """Linux `struct timex` (adjtimex(2)); only `offset` and `status` are read."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
                ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
                ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long),
                ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int), ("_padding", ctypes.c_int * 11)]


_STA_UNSYNC = 0x0040
_STA_NANO = 0x2000
_TIME_ERROR = 5


def kernel_offset() -> float | None:
    """The kernel's current clock offset in seconds (adjtimex, read-only), None when unsynchronised."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        timex = _Timex()            # modes = 0: read only, no privilege needed
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0 or state == _TIME_ERROR or timex.status & _STA_UNSYNC:
        return None
    return timex.offset / (1e9 if timex.status & _STA_NANO else 1e6)


def check_clock() -> Result:
    """The `clock` check on this machine."""
    text, why = read_timedatectl()
    return clock_result(text, synced_since_boot=SYNCED_SINCE_BOOT.exists(),
                        offset=kernel_offset() if text is not None else None, unknown_detail=why)
