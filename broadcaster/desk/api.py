"""The desk's HTTP API under /api/: the same operations and rules as the pages, JSON in and out.

Bulletins and slots use exactly schedule.yaml's keys. Reads answer with an `ETag` (the version
of the files read); changes to an existing item need it back in `If-Match`, so a script never
overwrites an edit it has not seen. Refusals answer 4xx with `{"error": ..., "problems": [...]}`,
the problems being the loader's (file, line, column, field, message).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from broadcaster import i18n
from broadcaster.desk.app import Principal, desk_of, require
from broadcaster.desk.store import DeskError

router = APIRouter(prefix="/api", tags=["desk"])


def _expected(request: Request) -> str:
    value = request.headers.get("if-match")
    if not value:
        raise DeskError(428, i18n.tr("desk.version_required"))
    return value.strip().removeprefix("W/").strip('"')


def _tagged(body, version: str, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": f'"{version}"'})


def _saved(saved, body: dict | None = None, status: int = 200) -> JSONResponse:
    return _tagged({**(body or {}), "version": saved.version, "warnings": saved.warnings}, saved.version, status)


def _collection(plural: str, kind: str, key: str, *, search: bool = False) -> None:
    """GET/POST /api/<plural> and GET/PUT/DELETE /api/<plural>/{item}, alike for bulletins, slots and
    campaigns: `Desk.<plural>()`, `.<kind>(item)`, `.save_<kind>(...)` and `.delete_<kind>(...)`;
    `key` is the body's naming key (`id` or `name`)."""

    def listing(request: Request, who: Principal = require("xem")):
        items, version = getattr(desk_of(request), plural)()
        return _tagged(items, version)

    def searching(request: Request, q: str = "", who: Principal = require("xem")):
        items, version = getattr(desk_of(request), plural)(q)
        return _tagged(items, version)

    def create(request: Request, body: dict = Body(...), who: Principal = require("bien-tap")):
        name = body.get(key)
        if not isinstance(name, str):
            raise DeskError(400, i18n.tr("desk.bad_name", kind=kind, value=name))
        saved = getattr(desk_of(request), f"save_{kind}")(who.actor, name, body, None, create=True)
        return _saved(saved, {key: name}, 201)

    def read(request: Request, item: str, who: Principal = require("xem")):
        found, version = getattr(desk_of(request), kind)(item)
        return _tagged(found, version)

    def replace(request: Request, item: str, body: dict = Body(...), who: Principal = require("bien-tap")):
        """A full replacement: keys absent from the body are removed. Needs `If-Match`."""
        saved = getattr(desk_of(request), f"save_{kind}")(who.actor, item, body, _expected(request), create=False)
        return _saved(saved, {key: body.get(key, item)})

    def remove(request: Request, item: str, who: Principal = require("bien-tap")):
        """Needs `If-Match`."""
        return _saved(getattr(desk_of(request), f"delete_{kind}")(who.actor, item, _expected(request)))

    for path, endpoint, method, status, summary in (
            (f"/{plural}", searching if search else listing, "GET", 200,
             f"List {plural}" + (" (`q` searches)" if search else "")),
            (f"/{plural}", create, "POST", 201, f"Create a {kind}"),
            (f"/{plural}/{{item}}", read, "GET", 200, f"Read a {kind}"),
            (f"/{plural}/{{item}}", replace, "PUT", 200, f"Replace a {kind}"),
            (f"/{plural}/{{item}}", remove, "DELETE", 200, f"Delete a {kind}")):
        router.add_api_route(path, endpoint, methods=[method], status_code=status,
                             name=f"{endpoint.__name__}_{kind}", summary=summary)


_collection("bulletins", "bulletin", "id", search=True)
_collection("slots", "slot", "name")
_collection("campaigns", "campaign", "id")


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: Principal = require("xem")) -> dict:
    return request.app.openapi()


@router.get("/status")
def status(request: Request, who: Principal = require("xem")) -> dict:
    """What is on air, what comes next, the station's health, and whether it has taken the last edit."""
    return desk_of(request).status()


@router.get("/agenda")
def agenda(request: Request, days: int = 1, who: Principal = require("xem")) -> list[dict]:
    return desk_of(request).agenda(days=max(1, min(days, 31)))


@router.post("/bulletins/{bulletin_id}/audio", status_code=201)
def upload_audio(request: Request, bulletin_id: str, file: UploadFile, who: Principal = require("bien-tap")):
    """Store a recording (MP3/WAV/M4A/OGG) and make the bulletin an `audio:` bulletin (new or existing)."""
    desk = desk_of(request)
    relative = desk.upload(who.actor, bulletin_id, file.file, file.filename or "")
    exists = any(b["id"] == bulletin_id for b in desk.bulletins()[0])
    fields = {"title": bulletin_id, "audio": relative}
    if exists:
        current, version = desk.bulletin(bulletin_id)
        fields = {k: v for k, v in current.items() if k not in ("text", "text_file", "audio")} | fields
        fields["title"] = current.get("title", bulletin_id)
        saved = desk.save_bulletin(who.actor, bulletin_id, fields, request.headers.get("if-match", version)
                                   .strip('"'), create=False)
    else:
        saved = desk.save_bulletin(who.actor, bulletin_id, fields, None, create=True)
    return _saved(saved, {"id": bulletin_id, "audio": relative}, 201)


@router.post("/play")
def play(request: Request, body: dict = Body(...), who: Principal = require("bien-tap")) -> dict:
    """Air a bulletin or slot now, by its level (`{"target": ID_OR_SLOT}`)."""
    return desk_of(request).play(who.actor, body.get("target"))


@router.post("/stop")
def stop(request: Request, who: Principal = require("bien-tap")) -> dict:
    return desk_of(request).stop(who.actor)


@router.post("/emergency")
def emergency(request: Request, body: dict = Body(...), who: Principal = require("bien-tap")) -> dict:
    """Cut in at once with `{"text": ...}` or `{"bulletin": ID}` (optional `"title"`)."""
    return desk_of(request).emergency(who.actor, body.get("text"), body.get("bulletin"), body.get("title"))


@router.get("/history")
def history(request: Request, who: Principal = require("xem"), format: str = "json", slot: str = "",
            status: str = "", limit: int | None = None, offset: int = 0):
    """The as-run log; `?from=YYYY-MM-DD&to=YYYY-MM-DD`, `format=json|csv|xlsx`.

    JSON is newest first, every row of the range unless `limit` (and `offset`) page it; CSV and
    XLSX are oldest first with every row, CSV streamed as it is read.
    """
    first, last = request.query_params.get("from"), request.query_params.get("to")
    name = f"nhat-ky-{first or 'dau'}-{last or date.today().isoformat()}"
    desk = desk_of(request)
    if format == "csv":
        chunks = desk.export_csv(first, last, slot, status)
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "xlsx":
        path = desk.export_xlsx(first, last, slot, status)
        return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            filename=f"{name}.xlsx", background=BackgroundTask(path.unlink, missing_ok=True))
    if limit is not None:
        limit = max(1, min(limit, 100_000))
    return JSONResponse(desk.history(first, last, slot, status, limit=limit, offset=offset))


@router.get("/audit")
def audit(request: Request, limit: int = 200, who: Principal = require("quan-tri")) -> list[dict]:
    return desk_of(request).accounts.audit_trail(max(1, min(limit, 5000)))


@router.get("/versions")
def versions(request: Request, who: Principal = require("xem")) -> list[dict]:
    return desk_of(request).versions()


@router.post("/versions/{version_id}/restore")
def restore(request: Request, version_id: str, who: Principal = require("bien-tap")):
    return _saved(desk_of(request).restore(who.actor, version_id, _expected(request)))


@router.post("/spoken")
def spoken(request: Request, body: dict = Body(...), who: Principal = require("xem")) -> dict:
    """The spoken form of `{"text": ...}` and every token the normalizer is unsure of."""
    return desk_of(request).spoken(str(body.get("text") or ""))


@router.post("/preview")
def preview(request: Request, body: dict = Body(...), who: Principal = require("bien-tap")) -> dict:
    """Render a bulletin (saved or as edited) exactly as it will air; returns the WAV's address."""
    path = desk_of(request).preview(who.actor, body)
    return {"url": f"/api/preview/{path.name}"}


@router.get("/preview/{name}")
def preview_file(request: Request, name: str, who: Principal = require("xem")):
    return FileResponse(desk_of(request).preview_file(name), media_type="audio/wav")


@router.get("/station")
def get_station(request: Request, who: Principal = require("quan-tri")):
    """The `station:` block of schedule.yaml, with its ETag."""
    item, version = desk_of(request).station()
    return _tagged(item, version)


@router.put("/station")
def put_station(request: Request, body: dict = Body(...), who: Principal = require("quan-tri")):
    """Replace the editable station settings (name, loudness, voicing, speech, programme, catch_up,
    prerender, air_hours, relay_gap, relay_notice, stream); the others may only be sent unchanged."""
    return _saved(desk_of(request).save_station(who.actor, body, _expected(request)))


@router.get("/users")
def users(request: Request, who: Principal = require("quan-tri")) -> list[dict]:
    """Every account: name, role, when it was made and how many API tokens it has."""
    return desk_of(request).accounts.users()


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


@router.post("/users", status_code=201)
def add_user(request: Request, body: dict = Body(...), who: Principal = require("quan-tri")) -> dict:
    """Create an account `{"name", "role", "password"}` (password at least 8 characters)."""
    user = desk_of(request).add_user(who.actor, _text(body, "name"), _text(body, "role"), _text(body, "password"))
    return {"name": user.name, "role": user.role}


@router.put("/users/{name}/role")
def set_role(request: Request, name: str, body: dict = Body(...), who: Principal = require("quan-tri")) -> dict:
    """Change a role `{"role": "quan-tri"|"bien-tap"|"xem"}`; the last admin cannot be demoted (409)."""
    user = desk_of(request).set_role(who.actor, name, _text(body, "role"))
    return {"name": user.name, "role": user.role}


@router.put("/users/{name}/password")
def set_password(request: Request, name: str, body: dict = Body(...), who: Principal = require("quan-tri")) -> dict:
    """Reset a password `{"password": ...}`; that user's open sessions end."""
    desk_of(request).set_password(who.actor, name, _text(body, "password"))
    return {"name": name}


@router.delete("/users/{name}")
def delete_user(request: Request, name: str, who: Principal = require("quan-tri")) -> dict:
    """Remove an account with its sessions and API tokens; the last admin cannot be removed (409)."""
    user = desk_of(request).delete_user(who.actor, name)
    return {"name": user.name}


@router.get("/users/{name}/tokens")
def tokens(request: Request, name: str, who: Principal = require("xem")) -> list[dict]:
    """A user's API tokens (number and creation time; the tokens themselves are not kept). Own or admin."""
    return desk_of(request).tokens(who.actor, name)


@router.post("/users/{name}/token", status_code=201)
def new_token(request: Request, name: str, who: Principal = require("xem")) -> dict:
    """A new API token (shown once). Admins may make one for anyone, others only for themselves."""
    return {"name": name, "token": desk_of(request).new_token(who.actor, name)}


@router.delete("/users/{name}/tokens/{token_id}")
def revoke_token(request: Request, name: str, token_id: int, who: Principal = require("xem")) -> dict:
    """Revoke one API token: scripts using it are refused from the next request. Own or admin."""
    desk_of(request).revoke_token(who.actor, name, token_id)
    return {"name": name, "revoked": token_id}
