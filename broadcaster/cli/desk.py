"""`desk` and `user`: serve the operator desk, and manage its accounts from the console.

`broadcaster desk` serves the pages and the /api/ (uvicorn) on `station.desk.listen`;
`broadcaster run` starts the same command as a supervised child process. `user add/list/passwd/
token` work on `<state_dir>/desk.sqlite3` directly, so the first administrator can be made
before anything listens.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
from pathlib import Path

import click
from rich.table import Table

from broadcaster import i18n
from broadcaster.cli.app import cli, console, schedule_option, setup_logging
from broadcaster.desk import messages as _messages  # noqa: F401  (registers the catalogue)
from broadcaster.desk.accounts import ROLES
from broadcaster.schedule import DEFAULT_DESK_LISTEN, Schedule
from broadcaster.schedule.loader import parse_listen



def station_of(schedule_path: Path) -> Schedule:
    """The schedule for its station settings: the file, or the last good copy while it has errors."""
    from broadcaster.cli.onair import schedule_to_air

    return schedule_to_air(schedule_path)


def first_admin_hint(state_dir: Path, schedule_path: Path) -> str | None:
    """One line with the exact command that creates the first administrator, when nobody can log in."""
    from broadcaster.desk.accounts import Accounts

    accounts = Accounts(state_dir)
    try:
        if accounts.count():
            return None
    finally:
        accounts.close()
    command = f"{program()} user add admin --role quan-tri --schedule {shlex.quote(str(schedule_path.absolute()))}"
    return i18n.tr("desk.cli.first_admin", command=command)


def program() -> str:
    """How to run this very broadcaster from a shell: `broadcaster` when that is what PATH finds,
    else the venv's script by its path (scripts/run does not put .venv/bin on PATH)."""
    script = Path(sys.executable).parent / "broadcaster"
    if shutil.which("broadcaster") == str(script):
        return "broadcaster"
    return shlex.quote(str(script)) if script.exists() else f"{shlex.quote(sys.executable)} -m broadcaster"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command("desk")
@schedule_option
@click.option("--listen", default=None, metavar="HOST:PORT",
              help=f"Address to serve on; overrides station.desk.listen (default {DEFAULT_DESK_LISTEN}).")
@click.option("--exit-with", "parent", type=int, default=None, hidden=True,
              help="Exit when this process (the supervising daemon) is gone.")
@click.pass_obj
def desk_command(obj, schedule_path: Path, listen: str | None, parent: int | None) -> int:
    """Serve the operator desk (web pages and the HTTP API) for this station."""
    import uvicorn

    from broadcaster.desk.app import create_app

    setup_logging(logging.INFO, obj.verbose)
    schedule = station_of(schedule_path)
    listen = listen or schedule.station.desk_listen or DEFAULT_DESK_LISTEN
    host, port = parse_listen(listen)
    state_dir = schedule.station.state_dir
    hint = first_admin_hint(state_dir, schedule_path)
    if hint:
        click.echo(hint, err=True)
    if not is_loopback(host):
        click.echo(i18n.tr("desk.cli.public", listen=listen), err=True)
    click.echo(i18n.tr("desk.cli.listening", listen=listen), err=True)
    if parent is not None:
        _exit_with(parent)
    app = create_app(schedule_path, state_dir)
    # limit_concurrency: a flood is answered 503 instead of piling up threads and memory.
    uvicorn.run(app, host=host, port=port, log_level="warning", limit_concurrency=64,
                timeout_keep_alive=5, access_log=False)
    return 0


def _exit_with(parent: int) -> None:
    """A desk whose daemon was killed (kill -9, power loss of the process) must not linger holding
    the port: the restarted daemon starts its own."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-daemon", daemon=True).start()


@cli.group("user")
def user_group() -> None:
    """Desk accounts: add, list, change a password or a role, delete, make an API token."""


def _accounts(schedule_path: Path):
    from broadcaster.desk.accounts import Accounts

    return Accounts(station_of(schedule_path).station.state_dir)


def _read_password(confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(i18n.tr("desk.cli.password"), hide_input=True, confirmation_prompt=confirm)


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="quan-tri (admin), bien-tap (editor), xem (viewer).")
@schedule_option
def user_add(name: str, role: str, schedule_path: Path) -> int:
    """Add a desk user; the password is read from stdin (or asked twice at a terminal)."""
    accounts = _accounts(schedule_path)
    accounts.add(name, role, _read_password(True))
    accounts.audit("console", "local", "user.add", name, "ok", role)
    click.echo(i18n.tr("desk.cli.user_added", name=name, role=role))
    return 0


@user_group.command("list")
@schedule_option
def user_list(schedule_path: Path) -> int:
    """List desk users and their roles."""
    users = _accounts(schedule_path).users()
    if not users:
        click.echo(i18n.tr("desk.cli.no_users"))
        return 0
    table = Table()
    for column in ("name", "role", "created", "tokens"):
        table.add_column(i18n.tr(f"desk.cli.col.{column}"))
    for user in users:
        table.add_row(user["name"], user["role"], user["created"], str(user["tokens"]))
    console().print(table)
    return 0


@user_group.command("passwd")
@click.argument("name")
@schedule_option
def user_passwd(name: str, schedule_path: Path) -> int:
    """Set a user's password (from stdin, or asked twice); their open sessions end."""
    password = _read_password(True)
    return _console_change(schedule_path, "user.passwd", name, lambda a: a.set_password(name, password),
                           i18n.tr("desk.cli.password_set", name=name))


def _console_change(schedule_path: Path, action: str, name: str, do, done: str, detail: str = "") -> int:
    """One account change from the console: done, audited as the console's, said."""
    accounts = _accounts(schedule_path)
    do(accounts)
    accounts.audit("console", "local", action, name, "ok", detail)
    click.echo(done)
    return 0


@user_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@schedule_option
def user_role(name: str, role: str, schedule_path: Path) -> int:
    """Change a user's role (the last admin cannot be demoted)."""
    return _console_change(schedule_path, "user.role", name, lambda a: a.set_role(name, role),
                           i18n.tr("desk.cli.role_set", name=name, role=role), role)


@user_group.command("delete")
@click.argument("name")
@schedule_option
def user_delete(name: str, schedule_path: Path) -> int:
    """Delete a user with their sessions and API tokens (never the last admin)."""
    return _console_change(schedule_path, "user.delete", name, lambda a: a.delete(name),
                           i18n.tr("desk.cli.user_deleted", name=name))


@user_group.command("token")
@click.argument("name")
@schedule_option
def user_token(name: str, schedule_path: Path) -> int:
    """Print a new API token for NAME (shown once; only its hash is kept)."""
    accounts = _accounts(schedule_path)
    token = accounts.new_token(name)
    accounts.audit("console", "local", "user.token", name, "ok")
    click.echo(i18n.tr("desk.cli.token", name=name), err=True)
    click.echo(token)
    return 0
