"""`broadcaster user ...` and `station.desk` through the real CLI entry point."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from broadcaster.cli import main
from broadcaster.desk.accounts import Accounts
from broadcaster.schedule import check_schedule


def run(argv, monkeypatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_user_add_list_passwd_token(station, monkeypatch, capsys):
    schedule = ["--schedule", str(station.path)]
    assert run(["user", "add", "an", "--role", "quan-tri", *schedule], monkeypatch, "mat-khau-dai\n") == 0
    assert "an (quan-tri)" in capsys.readouterr().out
    assert run(["user", "add", "an", "--role", "xem", *schedule], monkeypatch, "mat-khau-dai\n") == 1
    assert "an" in capsys.readouterr().err
    assert run(["user", "add", "binh", "--role", "bien-tap", *schedule], monkeypatch, "ngan\n") == 1
    assert "8" in capsys.readouterr().err
    assert run(["user", "passwd", "an", *schedule], monkeypatch, "mat-khau-moi\n") == 0
    assert run(["user", "token", "an", *schedule], monkeypatch) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert run(["user", "list", *schedule], monkeypatch) == 0
    listing = capsys.readouterr().out
    assert "an" in listing and "quan-tri" in listing
    accounts = Accounts(station.state)
    assert accounts.token_user(token).name == "an"
    assert accounts.login("an", "mat-khau-moi", "test")[0].user.role == "quan-tri"
    accounts.close()



def test_user_role_and_delete_keep_the_last_admin(station, monkeypatch, capsys):
    schedule = ["--schedule", str(station.path)]
    run(["user", "add", "an", "--role", "quan-tri", *schedule], monkeypatch, "mat-khau-dai\n")
    run(["user", "add", "binh", "--role", "xem", *schedule], monkeypatch, "mat-khau-dai\n")
    capsys.readouterr()
    assert run(["user", "role", "an", "xem", *schedule], monkeypatch) == 1
    assert "cuối cùng" in capsys.readouterr().err
    assert run(["user", "delete", "an", *schedule], monkeypatch) == 1
    assert run(["user", "role", "binh", "quan-tri", *schedule], monkeypatch) == 0
    assert run(["user", "delete", "an", *schedule], monkeypatch) == 0
    assert "an" in capsys.readouterr().out
    accounts = Accounts(station.state)
    assert [(u["name"], u["role"]) for u in accounts.users()] == [("binh", "quan-tri")]
    assert [(a["user"], a["action"], a["target"]) for a in accounts.audit_trail()][:2] == [
        ("console", "user.delete", "an"), ("console", "user.role", "binh")]
    accounts.close()


def test_first_admin_hint_names_the_exact_command(station):
    from broadcaster.cli.desk import first_admin_hint

    hint = first_admin_hint(station.state, station.path)
    command = hint.split("  ", 1)[1]
    assert command.endswith(f"broadcaster user add admin --role quan-tri --schedule {station.path}")
    program = command.split(" user add")[0]
    assert program == "broadcaster" or Path(program).is_file()      # runnable as printed
    Accounts(station.state).add("an", "quan-tri", "mat-khau-dai")
    assert first_admin_hint(station.state, station.path) is None


@pytest.mark.parametrize("value, listen", [
    ("false", None), ("true", "127.0.0.1:8080"), ("{listen: '0.0.0.0:9000'}", "0.0.0.0:9000"),
    ("{listen: '[::1]:8081'}", "[::1]:8081"),
])
def test_station_desk_setting(station, value, listen):
    text = station.path.read_text(encoding="utf-8").replace("  timezone:", f"  desk: {value}\n  timezone:")
    station.path.write_text(text, encoding="utf-8")
    schedule, problems = check_schedule(station.path)
    assert schedule.station.desk_listen == listen


def test_station_desk_listen_must_be_host_port(station):
    text = station.path.read_text(encoding="utf-8").replace("  timezone:", "  desk: {listen: 'localhost'}\n  timezone:")
    station.path.write_text(text, encoding="utf-8")
    _, problems = check_schedule(station.path)
    assert [(p.key, p.line) for p in problems if p.severity == "error"] == [("desk.listen_invalid", 4)]
