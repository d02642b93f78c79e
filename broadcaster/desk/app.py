"""The desk's FastAPI application: who is asking, may they, and how refusals look.

Where it sits: `broadcaster desk` serves `create_app(...)` with uvicorn; `pages` and `api`
attach their routes. Authentication is a signed session cookie (pages and the browser's own
API calls) or `Authorization: Bearer <token>` (scripts). State-changing requests made with a
session need the session's CSRF token (form field `csrf` or header `X-CSRF-Token`); Bearer
requests cannot be forged by another site, so they need none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from broadcaster import i18n
from broadcaster.desk.accounts import Accounts, Session, User, same
from broadcaster.desk.service import Actor, Desk
from broadcaster.desk.store import DeskError

HERE = Path(__file__).parent
COOKIE = "desk_session"
LOGIN_COOKIE = "desk_login"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user, and the CSRF token when they came with a session."""

    user: User
    csrf: str | None
    address: str

    @property
    def actor(self) -> Actor:
        return Actor(self.user, self.address)


class NeedLogin(Exception):
    """Raised by page routes without a session: answered by a redirect to /login."""


def _secret(state_dir: Path) -> bytes:
    """The cookie-signing key, made once per station and readable by the station user only."""
    path = Path(state_dir) / "desk-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def sign(secret: bytes, value: str) -> str:
    mac = hmac.new(secret, value.encode(), hashlib.sha256).digest()
    return value + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def unsign(secret: bytes, signed: str) -> str | None:
    value, _, _ = signed.rpartition(".")
    return value if value and same(sign(secret, value), signed) else None


def address(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_app(schedule_path: Path, state_dir: Path, *, accounts: Accounts | None = None,
               upload_limit: int = 50 * 1024 * 1024) -> FastAPI:
    from broadcaster.desk import api, pages

    accounts = accounts or Accounts(state_dir)
    desk = Desk(schedule_path, state_dir, accounts, upload_limit=upload_limit)
    threading.Thread(target=desk.prepare, name="desk-prepare", daemon=True).start()
    app = FastAPI(title="broadcaster desk", version="1", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.desk = desk
    app.state.secret = _secret(state_dir)
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.globals.update(t=i18n.tr, lang=i18n.language)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(DeskError)
    async def refused(request: Request, exc: DeskError):
        if request.url.path.startswith("/api/") or request.headers.get("HX-Request"):
            return JSONResponse({"error": str(exc), "problems": exc.problems}, status_code=exc.status)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"message": str(exc), "problems": exc.problems, "principal": None},
            status_code=exc.status)

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin):
        return RedirectResponse("/login", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _principal(request: Request) -> Principal | None:
    app = request.app
    accounts: Accounts = app.state.desk.accounts
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = accounts.token_user(header[7:].strip())
        return Principal(user, None, address(request)) if user else None
    cookie = request.cookies.get(COOKIE)
    if cookie:
        session_id = unsign(app.state.secret, cookie)
        session: Session | None = accounts.session(session_id) if session_id else None
        if session is not None:
            return Principal(session.user, session.csrf, address(request))
    return None


async def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS or principal.csrf is None:
        return
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        token = (await request.form()).get("csrf")
    if not token or not same(str(token), principal.csrf):
        raise DeskError(403, i18n.tr("desk.csrf"))


def require(role: str, *, page: bool = False):
    """A dependency: the caller, who must be logged in with at least `role` (and a valid CSRF token)."""

    async def dependency(request: Request) -> Principal:
        principal = _principal(request)
        if principal is None:
            if page:
                raise NeedLogin()
            raise DeskError(401, i18n.tr("desk.unauthenticated"))
        await _check_csrf(request, principal)
        if not principal.user.may(role):
            request.app.state.desk.accounts.audit(principal.user.name, principal.address, request.method,
                                                  request.url.path, "refused 403", role)
            raise DeskError(403, i18n.tr("desk.forbidden", role=principal.user.role))
        return principal

    return Depends(dependency)


def desk_of(request: Request) -> Desk:
    return request.app.state.desk
