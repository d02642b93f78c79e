"""The as-run log (nhật ký phát thanh) in SQLite and its exports; see `broadcaster.asrun.log`."""

from broadcaster.asrun.log import FILE_NAME, AsRunLog, AsRunRow, Status, iso, log_path

__all__ = ["FILE_NAME", "AsRunLog", "AsRunRow", "Status", "iso", "log_path"]
