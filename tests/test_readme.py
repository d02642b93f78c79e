"""The README's commands and schedule reference stay true to the code."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from broadcaster.cli import main
from broadcaster.schedule import check_schedule

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_two_setup_commands_open_the_readme():
    first_block = code_blocks("sh")[0]
    assert [line.split()[0] for line in first_block.strip().splitlines()] == ["scripts/run", "scripts/test"]
    for script in ("scripts/run", "scripts/test", ".ci/run"):
        path = ROOT / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", str(path)], check=True)
    assert "scripts/test" in (ROOT / ".ci/run").read_text()


def readme_commands() -> list[list[str]]:
    commands = []
    for block in code_blocks("sh")[1:]:
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("broadcaster "):
                commands.append(shlex.split(line)[1:])
    return commands


SAFE = {"validate", "agenda", "normalize", "history", "devices"}


@pytest.mark.parametrize("args", [c for c in readme_commands() if c[0] in SAFE], ids=" ".join)
def test_readme_command_runs(args, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(ROOT)
    if args[0] == "normalize":
        monkeypatch.setattr(sys, "stdin", open(ROOT / "bulletins/cchc-2023/01-mo-dau.txt", encoding="utf-8"))
    assert main(args) == 0, capsys.readouterr().err


def test_schedule_reference_example_validates(tmp_path):
    block = next(b for b in code_blocks("yaml") if b.startswith("station:"))
    document = yaml.safe_load(block)
    for jingle in document["station"]["jingles"].values():
        (tmp_path / jingle).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / jingle).write_bytes(b"RIFF")
    (tmp_path / document["station"]["pronunciations"]).write_text("VQ: Vinh Quang\n", encoding="utf-8")
    (tmp_path / "schedule.yaml").write_text(block, encoding="utf-8")
    schedule, problems = check_schedule(tmp_path / "schedule.yaml")
    assert [p.format() for p in problems if p.severity == "error"] == []
    assert schedule.bulletins["cchc-2023"].repeat == 2
