"""A station's pronunciation dictionary: YAML `written form: reading` -> overrides for `Normalizer`.

Named by `station.pronunciations` in schedule.yaml and validated with it. In: a path. Out: the
entries and every problem found, each at its line and column (from PyYAML's node marks), so the
operator fixes the file in one pass. Station entries win over the default tables.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from broadcaster import i18n
from broadcaster.problems import Problem
from broadcaster.sourcefile import DICTIONARY_LIMIT
from broadcaster.yamlsource import YamlMessages, compose_file, node_location

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"

i18n.register({
    "dictionary.not_found": ("không tìm thấy tệp từ điển phát âm", "pronunciation dictionary not found"),
    "dictionary.unreadable": ("không đọc được tệp từ điển phát âm: {detail}",
                              "cannot read the pronunciation dictionary: {detail}"),
    "dictionary.syntax": ("lỗi cú pháp YAML trong từ điển phát âm: {detail}",
                          "YAML syntax error in the pronunciation dictionary: {detail}"),
    "dictionary.not_mapping": ("từ điển phát âm phải có dạng 'chữ viết: cách đọc', mỗi dòng một mục",
                               "the pronunciation dictionary must be 'written form: reading', one entry a line"),
    "dictionary.key_not_text": ("chữ viết '{key}' phải là chữ (đặt trong ngoặc kép nếu là số hoặc yes/no)",
                                "written form '{key}' must be text (quote it if it is a number or yes/no)"),
    "dictionary.key_empty": ("chữ viết không được để trống", "the written form must not be empty"),
    "dictionary.value_not_text": ("cách đọc của '{key}' phải là chữ (đặt trong ngoặc kép nếu là số hoặc yes/no)",
                                  "the reading of '{key}' must be text (quote it if it is a number or yes/no)"),
    "dictionary.value_empty": ("cách đọc của '{key}' đang để trống", "the reading of '{key}' is empty"),
    "dictionary.duplicate": ("'{key}' được ghi hai lần (lần đầu ở dòng {first_line})",
                             "'{key}' is listed twice (first at line {first_line})"),
})


_MESSAGES = YamlMessages(not_found="dictionary.not_found", unreadable="dictionary.unreadable",
                         syntax="dictionary.syntax")


def _at(path: Path, node: yaml.Node, message: str, **params: object) -> Problem:
    return Problem.at(node_location(path, node), message, params)


def load_dictionary(path: Path) -> tuple[dict[str, str], list[Problem]]:
    """The entries of a pronunciation dictionary and every problem found in it.

    Entries with a problem are left out; the others are returned, so a caller that only
    warns can still use the good ones.
    """
    path = Path(path)
    root, problems = compose_file(path, _MESSAGES, DICTIONARY_LIMIT)
    if problems:
        return {}, problems
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == _NULL):
        return {}, []
    if not isinstance(root, yaml.MappingNode):
        return {}, [_at(path, root, "dictionary.not_mapping")]

    entries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "..."
            problems.append(_at(path, key_node, "dictionary.key_not_text", key=shown))
            continue
        key = key_node.value.strip()
        if not key:
            problems.append(_at(path, key_node, "dictionary.key_empty"))
            continue
        if key in first_line:
            problems.append(_at(path, key_node, "dictionary.duplicate", key=key, first_line=first_line[key]))
            continue
        first_line[key] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag == _NULL:
            problems.append(_at(path, key_node, "dictionary.value_empty", key=key))
            continue
        if not isinstance(value_node, yaml.ScalarNode) or value_node.tag != _STR:
            problems.append(_at(path, value_node, "dictionary.value_not_text", key=key))
            continue
        reading = " ".join(value_node.value.split())
        if not reading:
            problems.append(_at(path, value_node, "dictionary.value_empty", key=key))
            continue
        entries[key] = reading
    return entries, problems
