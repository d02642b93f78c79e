"""A problem found in an operator's file, printed as `FILE:LINE:COL: message`, and where it stands.

Every stage that reads an operator's file (the schedule, the pronunciation dictionary) reports
through these two types, so they live outside any one stage and each imports them at the top.
Problems carry a message key and parameters rather than text, so the same problem prints in
Vietnamese or English (`broadcaster.i18n`) and tests can assert the key.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from pathlib import Path

from broadcaster import i18n

ERROR = "error"
WARNING = "warning"
MAX_QUOTE = 200      # characters of an operator's value quoted in a message; a key can be megabytes

i18n.register({
    "severity.error": ("lỗi", "error"),
    "severity.warning": ("cảnh báo", "warning"),
})


@dataclass(frozen=True)
class Location:
    """Where a value stands in an operator's file (1-based line and column)."""

    path: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int                      # 1-based
    column: int                    # 1-based
    key: str                       # message key in the i18n catalogue
    params: dict = field(default_factory=dict, compare=False)
    severity: str = ERROR

    @classmethod
    def at(cls, where: Location, key: str, params: dict | None = None, severity: str = ERROR) -> "Problem":
        return cls(where.path, where.line, where.column, key, dict(params or {}), severity)

    @property
    def message(self) -> str:
        return i18n.tr(self.key, **{name: _bounded(value) for name, value in self.params.items()})

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {i18n.tr('severity.' + self.severity)}: {self.message}"


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = MAX_QUOTE


def _bounded(value: object) -> object:
    """A parameter as a message may quote it: long text cut with an ellipsis, containers abridged."""
    if isinstance(value, (list, tuple, dict, set)):
        return _REPR.repr(value)
    if isinstance(value, str) and len(value) > MAX_QUOTE:
        return value[:MAX_QUOTE] + "…"
    return value
