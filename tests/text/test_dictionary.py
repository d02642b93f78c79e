"""Station pronunciation dictionaries: good entries load, every problem at its line and column."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from broadcaster.text import Normalizer, load_dictionary


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc-ten.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def where(problems):
    return [(p.line, p.column, p.key) for p in problems]


def test_good_dictionary_loads_and_overrides(tmp_path):
    path = write(tmp_path, """\
        # Tên riêng và chữ viết tắt của xã
        VQ: Vinh Quang
        "TU":   thành   ủy
        Hợp tác xã Đông Hải: hợp tác xã Đông Hải
        """)
    entries, problems = load_dictionary(path)
    assert problems == []
    assert entries == {"VQ": "Vinh Quang", "TU": "thành ủy", "Hợp tác xã Đông Hải": "hợp tác xã Đông Hải"}
    assert Normalizer(entries).normalize("UBND xã VQ theo 03-NQ/TU") == (
        "ủy ban nhân dân xã Vinh Quang theo không ba gạch nghị quyết trên thành ủy")


def test_every_problem_is_reported_at_its_place(tmp_path):
    path = write(tmp_path, """\
        VQ: Vinh Quang
        2023: hai không hai ba
        TL: yes
        HTX:
        AB: "  "
        VQ: Vinh Quang lần hai
        CD: [c, d]
        EF: Ê ép
        """)
    entries, problems = load_dictionary(path)
    assert where(problems) == [
        (2, 1, "dictionary.key_not_text"),
        (3, 5, "dictionary.value_not_text"),
        (4, 1, "dictionary.value_empty"),
        (5, 5, "dictionary.value_empty"),
        (6, 1, "dictionary.duplicate"),
        (7, 5, "dictionary.value_not_text"),
    ]
    assert problems[4].params == {"key": "VQ", "first_line": 1}
    assert entries == {"VQ": "Vinh Quang", "EF": "Ê ép"}


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    path = write(tmp_path, """\
        VQ: Vinh Quang
        TL: "thừa lệnh
        KT: ký thay
        """)
    entries, problems = load_dictionary(path)
    assert entries == {}
    assert len(problems) == 1 and problems[0].key == "dictionary.syntax"
    assert problems[0].line >= 2
    assert problems[0].format().startswith(f"{path}:{problems[0].line}:{problems[0].column}: lỗi: ")


def test_not_a_mapping(tmp_path):
    _, problems = load_dictionary(write(tmp_path, "- VQ\n- TL\n"))
    assert where(problems) == [(1, 1, "dictionary.not_mapping")]


def test_empty_file_is_an_empty_dictionary(tmp_path):
    assert load_dictionary(write(tmp_path, "# chưa có mục nào\n")) == ({}, [])


def test_missing_file(tmp_path):
    entries, problems = load_dictionary(tmp_path / "khong-co.yaml")
    assert entries == {} and where(problems) == [(1, 1, "dictionary.not_found")]


def test_unsafe_yaml_tags_are_not_executed(tmp_path):
    path = write(tmp_path, "VQ: !!python/object/apply:os.system ['true']\n")
    entries, problems = load_dictionary(path)
    assert entries == {}
    assert where(problems) == [(1, 5, "dictionary.value_not_text")]


@pytest.mark.parametrize("language, text", [
    ("vi", "'VQ' được ghi hai lần (lần đầu ở dòng 1)"),
    ("en", "'VQ' is listed twice (first at line 1)"),
])
def test_messages_in_both_languages(tmp_path, language, text):
    from broadcaster import i18n
    _, (problem,) = load_dictionary(write(tmp_path, "VQ: a\nVQ: b\n"))
    i18n.set_language(language)
    try:
        assert problem.message == text
    finally:
        i18n.set_language(None)


def test_text_stage_stands_without_the_schedule_stage():
    """The schedule imports the normalizer at the top; the normalizer must not need the schedule back."""
    probe = "import sys, broadcaster.text; print(sorted(m for m in sys.modules if m.startswith('broadcaster.schedule')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
