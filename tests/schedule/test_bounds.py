"""Hostile input to the schedule loader and everything it reads: each is an error at its line and
column in a short message, and `validate` finishes with bounded time and memory (the harness
enforces both: a subprocess timeout and its peak RSS from wait4)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from broadcaster.schedule import check_schedule
from broadcaster.sourcefile import TEXT_LIMIT
from broadcaster.text import load_dictionary
from tests.measure import run_measured
from tests.schedule.conftest import BASE

BOMB_LEVELS = 24      # 9 ** 24 nodes if expanded; about 600 bytes of YAML


def alias_bomb() -> str:
    """A "billion laughs" flow sequence: each level lists the previous one nine times."""
    levels = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"&a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, BOMB_LEVELS)]
    return "[" + ", ".join(levels) + "]"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


pytestmark = pytest.mark.usefixtures("english")


def errors(path: Path) -> list[str]:
    schedule, problems = check_schedule(path)
    assert schedule is None
    lines = [p.format() for p in problems if p.severity == "error"]
    assert all(len(line) < 600 for line in lines), [len(line) for line in lines]
    return lines


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text)


def test_alias_bomb_as_a_mapping_key_is_an_error_at_its_line(write_schedule):
    path = write_schedule(BASE.replace("bulletins:", f"bulletins:\n  ? {alias_bomb()}\n  : x"))
    (problem,) = errors(path)
    assert problem.startswith(f"{path}:{line_of(path, '? [')}:")
    assert problem.endswith("error: aliases (*name) expand to more than 100000 nodes")


def test_a_key_must_be_a_scalar(write_schedule):
    path = write_schedule(BASE.replace("bulletins:", "bulletins:\n  ? [a, b]\n  : x"))
    assert errors(path) == [f"{path}:{line_of(path, '? [')}:5: error: a key must be a single value (text or a "
                            "number), not a list or a mapping"]


def test_alias_bomb_as_a_value_is_an_error_at_the_alias(write_schedule):
    path = write_schedule(BASE.replace("    text: Xin chào bà con.", f"    text: {alias_bomb()}"))
    (problem,) = errors(path)
    assert f"{path}:{line_of(path, '&a0')}:" in problem and "aliases (*name) expand to more than 100000" in problem


def test_nesting_thousands_deep_is_an_error_not_a_recursion_error(write_schedule):
    path = write_schedule(BASE.replace("    text: Xin chào bà con.", f"    text: {nested(5000)}"))
    line = line_of(path, "[[[")
    assert errors(path) == [f"{path}:{line}:72: error: nested more than 64 levels deep"]


def test_a_schedule_that_is_a_symlink_to_dev_zero_or_a_fifo(station_dir):
    path = station_dir / "schedule.yaml"
    path.symlink_to("/dev/zero")
    assert errors(path) == [f"{path}:1:1: error: 'schedule.yaml' is a device, not a regular file"]
    path.unlink()
    os.mkfifo(path)
    assert errors(path) == [f"{path}:1:1: error: 'schedule.yaml' is a FIFO, not a regular file"]


def test_a_schedule_over_the_size_limit(station_dir):
    path = station_dir / "schedule.yaml"
    path.write_text(BASE + "#" * (3 * 1024 * 1024), encoding="utf-8")
    (problem,) = errors(path)
    assert problem.startswith(f"{path}:1:1: error: file 'schedule.yaml' is too large (")


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p), "'bulletins/b.txt' is a FIFO, not a regular file"),
    (lambda p: p.mkdir(), "'bulletins/b.txt' is a folder, not a regular file"),
    (lambda p: p.write_text("x" * (TEXT_LIMIT + 1)), f"file 'bulletins/b.txt' is too large ({TEXT_LIMIT + 1} bytes; "
                                                      f"at most {TEXT_LIMIT})"),
], ids=["fifo", "folder", "too-large"])
def test_a_text_file_that_cannot_be_read_is_an_error_at_the_referencing_line(write_schedule, station_dir, make,
                                                                             message):
    text = station_dir / "bulletins" / "b.txt"
    text.unlink()
    make(text)
    path = write_schedule(BASE)
    assert errors(path) == [f"{path}:{line_of(path, 'text_file')}:16: error: {message}"]


def test_a_text_file_linked_to_dev_zero_is_refused(write_schedule, station_dir):
    text = station_dir / "bulletins" / "b.txt"
    text.unlink()
    text.symlink_to("/dev/zero")
    path = write_schedule(BASE)
    (problem,) = errors(path)
    assert problem.startswith(f"{path}:{line_of(path, 'text_file')}:16: error: file 'bulletins/b.txt' is outside")


def test_a_fifo_pronunciation_dictionary_is_an_error_at_the_referencing_line(write_schedule, station_dir):
    os.mkfifo(station_dir / "tu-dien.yaml")
    path = write_schedule(BASE.replace("station:\n", "station:\n  pronunciations: tu-dien.yaml\n"))
    assert errors(path) == [f"{path}:2:19: error: 'tu-dien.yaml' is a FIFO, not a regular file"]


@pytest.mark.parametrize("content, message", [
    (f"? {alias_bomb()}\n: x\n", "1:246: error: aliases (*name) expand to more than 100000 nodes"),
    ("? [VQ]\n: Vinh Quang\n", "1:3: error: a key must be a single value"),
    (f"VQ: {nested(3000)}\n", "1:68: error: nested more than 64 levels deep"),
], ids=["alias-bomb-key", "list-key", "deep"])
def test_the_dictionary_has_the_same_bounds(tmp_path, content, message):
    path = tmp_path / "tu-dien.yaml"
    path.write_text(content, encoding="utf-8")
    entries, problems = load_dictionary(path)
    assert entries == {} and len(problems) == 1
    assert problems[0].format().startswith(f"{path}:{message}")


def test_the_reading_check_stops_at_its_budget_and_says_where(write_schedule, station_dir, monkeypatch):
    from broadcaster.schedule import loader

    monkeypatch.setattr(loader, "TEXT_CHECK_BUDGET", 0.0)     # as if the texts took longer than any budget
    (station_dir / "bulletins" / "b.txt").write_text("1-" * 20_000, encoding="utf-8")
    path = write_schedule(BASE)
    schedule, problems = check_schedule(path)
    assert schedule is not None
    (budget,) = [p for p in problems if p.key == "text.check_budget"]
    assert budget.format() == (f"{path}:{line_of(path, 'tin-a:')}:3: warning: reading checks stopped after 0 s "
                               "(at bulletin 'tin-a'): a text is very long or unusual; look at this bulletin")


WORST = {
    "alias-bomb-key": lambda d: (d / "schedule.yaml").write_text(
        BASE.replace("bulletins:", f"bulletins:\n  ? {alias_bomb()}\n  : x"), encoding="utf-8"),
    "alias-bomb-value": lambda d: (d / "schedule.yaml").write_text(
        BASE.replace("    text: Xin chào bà con.", f"    text: {alias_bomb()}"), encoding="utf-8"),
    "nested-5000": lambda d: (d / "schedule.yaml").write_text(
        BASE.replace("    text: Xin chào bà con.", f"    text: {nested(5000)}"), encoding="utf-8"),
    "dev-zero": lambda d: (d / "schedule.yaml").symlink_to("/dev/zero"),
    "fifo": lambda d: os.mkfifo(d / "schedule.yaml"),
    "pathological-text": lambda d: ((d / "bulletins" / "b.txt").write_text("1-" * 20_000, encoding="utf-8"),
                                    (d / "schedule.yaml").write_text(BASE, encoding="utf-8")),
}


@pytest.mark.parametrize("name", list(WORST))
def test_validate_of_the_worst_inputs_is_quick_and_small(station_dir, name):
    WORST[name](station_dir)
    code, output, _, peak_kb = run_measured(
        ["--lang", "en", "validate", "--schedule", str(station_dir / "schedule.yaml")], Path(__file__).resolve().parents[2])
    assert code in (0, 1), output
    assert peak_kb < 200 * 1024, f"peak RSS {peak_kb // 1024} MB"
    assert "Traceback" not in output and "internal error" not in output
    assert all(len(line) < 600 for line in output.splitlines())


def test_the_version_is_the_hash_of_the_bytes_composed_even_when_an_edit_lands_meanwhile(write_schedule,
                                                                                       monkeypatch):
    """The desk reads the version to tell whether the station took an edit: it must describe the
    schedule in force, so the file is read once (a second read could see the next save)."""
    from broadcaster import yamlsource

    path = write_schedule(BASE)
    original = path.read_bytes()
    compose = yamlsource._BoundedLoader.get_single_node

    def compose_while_the_desk_saves(loader):
        path.write_text(BASE.replace("Xin chào bà con.", "Bản sửa mới."), encoding="utf-8")
        return compose(loader)

    monkeypatch.setattr(yamlsource._BoundedLoader, "get_single_node", compose_while_the_desk_saves)
    schedule, problems = check_schedule(path)
    assert schedule is not None and schedule.bulletins["tin-a"].text == "Xin chào bà con."
    assert schedule.version == hashlib.sha256(original).hexdigest()
