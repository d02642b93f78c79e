"""An operator's YAML file -> its root node (PyYAML, safe loader only), or the problem that stopped it.

Shared by the schedule loader and the pronunciation dictionary: both walk composed nodes rather
than loaded values, so every value keeps the line and column an operator needs to find it. Each
caller names its own message keys, so a missing dictionary and a missing schedule read differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from broadcaster.problems import Location, Problem


@dataclass(frozen=True)
class YamlMessages:
    """The message keys a caller reports with: each takes `{detail}` except `not_found`."""

    not_found: str
    unreadable: str
    syntax: str


def node_location(path: Path, node: yaml.Node) -> Location:
    """Where a node starts, 1-based, as an operator counts lines and columns."""
    return Location(path, node.start_mark.line + 1, node.start_mark.column + 1)


def compose_file(path: Path, messages: YamlMessages) -> tuple[yaml.Node | None, list[Problem]]:
    """The file's root node (None for an empty file), or the problem that prevented reading it."""
    try:
        source = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, [Problem(path, 1, 1, messages.not_found)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, 1, 1, messages.unreadable, {"detail": str(exc)})]
    try:
        return yaml.compose(source, Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(filter(None, [exc.context, exc.problem]))
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(path, line, column, messages.syntax, {"detail": detail})]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, messages.syntax, {"detail": str(exc)})]
