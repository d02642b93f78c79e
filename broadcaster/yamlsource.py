"""An operator's YAML file -> its root node (PyYAML, safe loader only), or the problem that stopped it.

Shared by the schedule loader and the pronunciation dictionary: both walk composed nodes rather
than loaded values, so every value keeps the line and column an operator needs to find it. Each
caller names its own message keys, so a missing dictionary and a missing schedule read differently.

Bounded, whatever the file holds: it is read through `broadcaster.sourcefile` (regular files
under a size limit); nesting deeper than `MAX_DEPTH` stops composing before Python's recursion
limit would; aliases may expand to at most `MAX_EXPANDED` nodes in all (a 600-byte "billion
laughs" bomb would otherwise build gigabytes); mapping keys must be plain scalars (a sequence
used as a key is how such a bomb gets printed). Each breach is a problem at its line and column.

Fast: libyaml (PyYAML's C parser) scans and parses, and only the composing, where the bounds
live, runs in Python: a 500-bulletin schedule composes in about 30 ms instead of 300, which every
validation, daemon reload and desk save pays. Anything libyaml refuses is read again by PyYAML's
own Python parser, so every error reads exactly as it always has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml._yaml import CParser
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from broadcaster import i18n
from broadcaster.problems import Location, Problem
from broadcaster.sourcefile import SourceError, read_bytes

MAX_DEPTH = 64              # nested collections; a schedule needs about 5
MAX_EXPANDED = 100_000      # nodes after every alias is expanded; a big schedule has a few thousand

i18n.register({
    "file.not_regular": ("'{value}' là {kind}, không phải tệp thường", "'{value}' is a {kind}, not a regular file"),
    "file.too_large": ("tệp '{value}' quá lớn ({size} byte; tối đa {limit} byte)",
                       "file '{value}' is too large ({size} bytes; at most {limit})"),
    "yaml.too_deep": ("lồng nhau quá {limit} tầng", "nested more than {limit} levels deep"),
    "yaml.too_many_aliases": ("các bí danh (*tên) mở rộng quá {limit} phần tử",
                              "aliases (*name) expand to more than {limit} nodes"),
    "yaml.key_not_scalar": ("khóa phải là một giá trị đơn (chữ hoặc số), không phải danh sách hay bảng",
                            "a key must be a single value (text or a number), not a list or a mapping"),
})


class _Breach(yaml.YAMLError):
    """A bound was crossed at `mark`: the message key and its parameters."""

    def __init__(self, key: str, mark, **params: object) -> None:
        super().__init__(key)
        self.key, self.mark, self.params = key, mark, params


class _Bounds:
    """PyYAML's composer with a depth limit, an alias-expansion budget and scalar-only keys."""

    _depth = 0
    _expanded = 0
    _sizes: dict[int, int]

    def _start(self) -> None:
        self._depth = 0
        self._expanded = 0
        self._sizes = {}

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._expanded += self._size(node)
            if self._expanded > MAX_EXPANDED:
                raise _Breach("yaml.too_many_aliases", mark, limit=MAX_EXPANDED)
            return node
        if self._depth >= MAX_DEPTH:
            raise _Breach("yaml.too_deep", self.peek_event().start_mark, limit=MAX_DEPTH)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._expanded += 1
        return node

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise _Breach("yaml.key_not_scalar", key.start_mark)
        return node

    def _size(self, node: yaml.Node) -> int:
        """How many nodes `node` stands for with its aliases expanded (memoized, no recursion)."""
        stack = [(node, False)]
        while stack:
            current, children_done = stack.pop()
            if id(current) in self._sizes:
                continue
            children = [] if isinstance(current, yaml.ScalarNode) else (
                [n for pair in current.value for n in pair] if isinstance(current, yaml.MappingNode)
                else list(current.value))
            if children_done:
                total = 1 + sum(self._sizes[id(c)] for c in children)
                self._sizes[id(current)] = min(total, MAX_EXPANDED + 1)
                continue
            stack.append((current, True))
            stack.extend((c, False) for c in children if id(c) not in self._sizes)
        return self._sizes[id(node)]


class _BoundedLoader(_Bounds, yaml.SafeLoader):
    """The pure-Python reader: its error messages are the ones operators see."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._start()


class _FastLoader(_Bounds, Composer, CParser, SafeConstructor, Resolver):
    """libyaml's events composed by PyYAML's Python composer (listed first, so its methods win over
    the C parser's own composer), with the same bounds."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._start()
        self._buffer = stream + "\0"      # what the Python reader's marks carry

    def compose_scalar_node(self, anchor):
        node = super().compose_scalar_node(anchor)
        if node.style == "":        # libyaml's word for a plain scalar; the Python parser's is None
            node.style = None
        elif node.style == "|":     # the loader finds a literal block's indent in its mark's buffer
            mark = node.start_mark
            node.start_mark = yaml.Mark(mark.name, mark.index, mark.line, mark.column, self._buffer, mark.index)
        return node


def _compose(source: str) -> yaml.Node | None:
    """The root node of `source`; raises what the pure-Python reader raises for a refused file."""
    loader = _FastLoader(source)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        pass                        # read again below, for the error exactly as operators know it
    finally:
        loader.dispose()
    loader = _BoundedLoader(source)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


@dataclass(frozen=True)
class YamlMessages:
    """The message keys a caller reports with: each takes `{detail}` except `not_found`."""

    not_found: str
    unreadable: str
    syntax: str


def node_location(path: Path, node: yaml.Node) -> Location:
    """Where a node starts, 1-based, as an operator counts lines and columns."""
    return Location(path, node.start_mark.line + 1, node.start_mark.column + 1)


def compose_text(source: str) -> yaml.Node | None:
    """`yaml.compose` with this module's bounds; raises yaml.YAMLError (a breach has `.mark`)."""
    return _compose(source)


def compose_file(path: Path, messages: YamlMessages, limit: int) -> tuple[yaml.Node | None, list[Problem]]:
    """The file's root node (None for an empty file), or the problem that prevented reading it.

    `limit` is the largest size accepted, in bytes (see `broadcaster.sourcefile`).
    """
    data, problems = read_file(path, messages, limit)
    if data is None:
        return None, problems
    return compose_bytes(path, data, messages)


def read_file(path: Path, messages: YamlMessages, limit: int) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes through the bounded read, or the problem that prevented reading them.

    For a caller that needs the very bytes it composes (the schedule's version is their hash):
    reading the file a second time could see another edit, or a file swapped for /dev/zero.
    """
    try:
        return read_bytes(path, limit), []
    except FileNotFoundError:
        return None, [Problem(path, 1, 1, messages.not_found)]
    except SourceError as exc:
        return None, [Problem(path, 1, 1, exc.key, {"value": path.name, **exc.params})]
    except OSError as exc:
        return None, [Problem(path, 1, 1, messages.unreadable, {"detail": str(exc)})]


def compose_bytes(path: Path, data: bytes, messages: YamlMessages) -> tuple[yaml.Node | None, list[Problem]]:
    """`data` (read from `path`, UTF-8 with or without a BOM) composed with this module's bounds."""
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, 1, 1, messages.unreadable, {"detail": str(exc)})]
    try:
        return _compose(source), []
    except _Breach as exc:
        return None, [Problem(path, exc.mark.line + 1, exc.mark.column + 1, exc.key, exc.params)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(filter(None, [exc.context, exc.problem]))
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(path, line, column, messages.syntax, {"detail": detail})]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, messages.syntax, {"detail": str(exc)})]
