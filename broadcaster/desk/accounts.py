"""Desk accounts, sessions, API tokens, log-in throttling and the audit trail, in one SQLite file.

Where it sits: beside the desk's routes (who may do what) and the `broadcaster user` commands.
The file is `<state_dir>/desk.sqlite3` (WAL). Passwords are argon2 hashes; session ids and API
tokens are random and stored only as sha256 hashes, so a copy of the file opens no door.
Roles: `quan-tri` (admin: users, settings, everything below), `bien-tap` (editor: bulletins,
slots, play, emergency), `xem` (viewer: read only).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from broadcaster import i18n
from broadcaster.desk import messages as _messages  # noqa: F401  (registers the catalogue)
from broadcaster.desk.store import DeskError

FILE_NAME = "desk.sqlite3"
ROLES = ("quan-tri", "bien-tap", "xem")
RANK = {"xem": 1, "bien-tap": 2, "quan-tri": 3}
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8
SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=5)
MAX_FAILURES = 5               # per account and per address within the window

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    password TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (who TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_who ON failures(who, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, address TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
"""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this user's role includes `role` (admin > editor > viewer)."""
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: float


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    """Thread-safe access to desk.sqlite3; `clock` returns epoch seconds (injected in tests)."""

    def __init__(self, state_dir: Path, *, clock: Callable[[], float] | None = None) -> None:
        import time

        self.path = Path(state_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock or time.time
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self.path.chmod(0o600)
        # Cheap enough for a log-in a second on a 2-core box, still argon2id.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- users ---------------------------------------------------------------------------------
    def count(self) -> int:
        return self._query("SELECT COUNT(*) FROM users")[0][0]

    def users(self) -> list[dict]:
        rows = self._query("SELECT u.name, u.role, u.created, COUNT(t.id) FROM users u "
                           "LEFT JOIN tokens t ON t.user_id = u.id GROUP BY u.id ORDER BY u.name")
        return [{"name": n, "role": r, "created": c, "tokens": t} for n, r, c, t in rows]

    def user(self, name: str) -> User | None:
        rows = self._query("SELECT id, name, role FROM users WHERE name = ?", (name,))
        return User(*rows[0]) if rows else None

    def add(self, name: str, role: str, password: str) -> User:
        if not USER_NAME.match(name or ""):
            raise _refused(400, "name", i18n.tr("desk.bad_user", name=name))
        if role not in ROLES:
            raise _refused(400, "role", i18n.tr("desk.bad_role", role=role))
        self._check_password(password)
        try:
            self._query("INSERT INTO users (name, role, password, created) VALUES (?, ?, ?, ?)",
                        (name, role, self._hasher.hash(password), self._now_iso()))
        except sqlite3.IntegrityError:
            raise _refused(409, "name", i18n.tr("desk.user_exists", name=name)) from None
        return self.user(name)

    def set_password(self, name: str, password: str) -> None:
        self._check_password(password)
        user = self._need(name)
        self._query("UPDATE users SET password = ? WHERE id = ?", (self._hasher.hash(password), user.id))
        self._query("DELETE FROM sessions WHERE user_id = ?", (user.id,))

    def set_role(self, name: str, role: str) -> User:
        """Change a user's role; the last admin cannot be demoted (no one could manage the desk)."""
        if role not in ROLES:
            raise _refused(400, "role", i18n.tr("desk.bad_role", role=role))
        with self._lock:
            user = self._locked_user(name)
            if user.role == "quan-tri" and role != "quan-tri":
                self._keep_an_admin(user)
            self._db.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))
        return User(user.id, user.name, role)

    def delete(self, name: str) -> User:
        """Remove a user with their sessions and API tokens; never the last admin."""
        with self._lock:
            user = self._locked_user(name)
            if user.role == "quan-tri":
                self._keep_an_admin(user)
            self._db.execute("DELETE FROM users WHERE id = ?", (user.id,))   # sessions, tokens: cascade
        return user

    def _locked_user(self, name: str) -> User:
        rows = self._db.execute("SELECT id, name, role FROM users WHERE name = ?", (name,)).fetchall()
        if not rows:
            raise DeskError(404, i18n.tr("desk.no_user", name=name))
        return User(*rows[0])

    def _keep_an_admin(self, user: User) -> None:
        """Called with the lock held, so two requests cannot each remove one of the last two admins."""
        admins = self._db.execute("SELECT COUNT(*) FROM users WHERE role = 'quan-tri' AND id != ?",
                                  (user.id,)).fetchone()[0]
        if not admins:
            raise _refused(409, "role", i18n.tr("desk.last_admin", name=user.name))

    def _need(self, name: str) -> User:
        user = self.user(name)
        if user is None:
            raise DeskError(404, i18n.tr("desk.no_user", name=name))
        return user

    @staticmethod
    def _check_password(password: str) -> None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise _refused(400, "password", i18n.tr("desk.short_password", length=MIN_PASSWORD))

    # -- log-in --------------------------------------------------------------------------------
    def login(self, name: str, password: str, address: str) -> tuple[Session, str]:
        """A new session and its id (for the cookie), or DeskError 401 (wrong) / 429 (too many failures)."""
        now = self.clock()
        keys = (f"user:{name}", f"addr:{address}")
        since = now - FAILURE_WINDOW.total_seconds()
        self._query("DELETE FROM failures WHERE at < ?", (since,))
        for key in keys:
            rows = self._query("SELECT COUNT(*), MIN(at) FROM failures WHERE who = ? AND at >= ?", (key, since))
            if rows[0][0] >= MAX_FAILURES:
                wait = int(rows[0][1] + FAILURE_WINDOW.total_seconds() - now) + 1
                raise DeskError(429, i18n.tr("desk.rate_limited", seconds=wait))
        found = self._query("SELECT id, name, role, password FROM users WHERE name = ?", (name,))
        ok = False
        if found:
            try:
                ok = self._hasher.verify(found[0][3], password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            self._hasher.hash(password or "x")     # same cost whether or not the name exists
        if not ok:
            for key in keys:
                self._query("INSERT INTO failures (who, at) VALUES (?, ?)", (key, now))
            raise DeskError(401, i18n.tr("desk.login_failed"))
        self._query("DELETE FROM failures WHERE who = ?", (keys[0],))
        user = User(found[0][0], found[0][1], found[0][2])
        return self._new_session(user)

    def _new_session(self, user: User) -> tuple[Session, str]:
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = self.clock() + SESSION_LIFETIME.total_seconds()
        self._query("DELETE FROM sessions WHERE expires < ?", (self.clock(),))
        self._query("INSERT INTO sessions (hash, user_id, csrf, expires) VALUES (?, ?, ?, ?)",
                    (_hash(session_id), user.id, csrf, expires))
        return Session(user, csrf, expires), session_id

    def session(self, session_id: str) -> Session | None:
        rows = self._query("SELECT u.id, u.name, u.role, s.csrf, s.expires FROM sessions s "
                           "JOIN users u ON u.id = s.user_id WHERE s.hash = ?", (_hash(session_id),))
        if not rows or rows[0][4] < self.clock():
            return None
        uid, name, role, csrf, expires = rows[0]
        return Session(User(uid, name, role), csrf, expires)

    def logout(self, session_id: str) -> None:
        self._query("DELETE FROM sessions WHERE hash = ?", (_hash(session_id),))

    # -- API tokens ----------------------------------------------------------------------------
    def new_token(self, name: str) -> str:
        """A new API token for `name`; only its hash is kept, so this is the one time it is seen."""
        user = self._need(name)
        token = "bdk_" + secrets.token_urlsafe(32)
        self._query("INSERT INTO tokens (user_id, hash, created) VALUES (?, ?, ?)",
                    (user.id, _hash(token), self._now_iso()))
        return token

    def tokens(self, name: str) -> list[dict]:
        """A user's API tokens: their number and when they were made (the tokens themselves are gone)."""
        user = self._need(name)
        rows = self._query("SELECT id, created FROM tokens WHERE user_id = ? ORDER BY id", (user.id,))
        return [{"id": token_id, "created": created} for token_id, created in rows]

    def revoke_token(self, name: str, token_id: int) -> None:
        user = self._need(name)
        with self._lock:
            gone = self._db.execute("DELETE FROM tokens WHERE id = ? AND user_id = ?", (token_id, user.id)).rowcount
        if not gone:
            raise DeskError(404, i18n.tr("desk.not_found", kind="token", name=token_id))

    def token_user(self, token: str) -> User | None:
        rows = self._query("SELECT u.id, u.name, u.role FROM tokens t JOIN users u ON u.id = t.user_id "
                           "WHERE t.hash = ?", (_hash(token),))
        return User(*rows[0]) if rows else None

    # -- audit trail ---------------------------------------------------------------------------
    def audit(self, user: str, address: str, action: str, target: str, outcome: str, detail: str = "") -> None:
        self._query("INSERT INTO audit (at, user, address, action, target, outcome, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (self._now_iso(), user, address, action, target, outcome, detail[:2000]))

    def audit_trail(self, limit: int = 200) -> list[dict]:
        rows = self._query("SELECT at, user, address, action, target, outcome, detail FROM audit "
                           "ORDER BY id DESC LIMIT ?", (limit,))
        keys = ("at", "user", "address", "action", "target", "outcome", "detail")
        return [dict(zip(keys, row)) for row in rows]

    def _now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), timezone.utc).isoformat(timespec="seconds")


def _refused(status: int, field: str, message: str) -> DeskError:
    """A refusal that names the form field it is about (pages show it there, the API lists it)."""
    return DeskError(status, message, [{"field": field, "message": message}])


def same(a: str, b: str) -> bool:
    """Constant-time comparison for CSRF tokens and cookie signatures."""
    return hmac.compare_digest(a.encode(), b.encode())
