"""The desk's pages: server-rendered Jinja2, usable without JavaScript; htmx adds the live parts.

Each route parses a form, checks the role, calls one `Desk` method and renders a template. A
refused save re-renders the form with each problem beside its field and, for a stale edit, the
current content from disk. Form values are turned into schedule.yaml's keys here; defaults the
file did not spell out stay unspelled, so saving an untouched form changes no byte.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from broadcaster import i18n
from broadcaster.desk.accounts import ROLES
from broadcaster.desk.app import COOKIE, LOGIN_COOKIE, Principal, address, desk_of, require, sign
from broadcaster.desk.history import STATUSES
from broadcaster.desk.service import HISTORY_PAGE, LEVELS
from broadcaster.desk.store import DeskError

router = APIRouter(include_in_schema=False)
WEEKDAYS = ("t2", "t3", "t4", "t5", "t6", "t7", "cn")
SPLIT = re.compile(r"[,;\s]+")
BULLETIN_FORM = ("id", "title", "text", "text_file", "audio", "priority", "repeat", "intro", "outro", "relay",
                 "duration")
SLOT_FORM = ("name", "at", "days", "dates", "from", "until", "except", "enabled", "play", "zones", "lunar",
             "lunar_months")


def render(request: Request, template: str, principal: Principal | None, code: int = 200, **context):
    return request.app.state.templates.TemplateResponse(
        request, template, {"principal": principal, "levels": LEVELS, **context}, status_code=code)


def _list(value: str) -> list[str]:
    return [v for v in SPLIT.split(value or "") if v]


def _keep_unshown(original: dict, fields: dict, shown: tuple[str, ...]) -> dict:
    """Keys the form has no field for (zones, lunar dates, relays...) stay as the file has them."""
    return {**{k: v for k, v in original.items() if k not in shown}, **fields}


def _unless_default(original: dict, key: str, value, default):
    """`value`, or None (key left out) when it is the default and the file did not spell it."""
    return None if value == default and key not in original else value


# -- log-in -------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request):
    import secrets

    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, csrf=token)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
async def login(request: Request):
    form = await request.form()
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or form.get("csrf") != expected:
        raise DeskError(403, i18n.tr("desk.csrf"))
    desk = desk_of(request)
    name = str(form.get("name") or "")
    try:
        session, session_id = desk.accounts.login(name, str(form.get("password") or ""), address(request))
    except DeskError as exc:
        desk.accounts.audit(name, address(request), "login", name, f"refused {exc.status}")
        return render(request, "login.html", None, exc.status, csrf=expected, error=str(exc), name=name)
    desk.accounts.audit(name, address(request), "login", name, "ok")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, sign(request.app.state.secret, session_id), httponly=True, samesite="strict",
                        max_age=int(session.expires - desk.accounts.clock()),
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: Principal = require("xem", page=True)):
    from broadcaster.desk.app import unsign

    session_id = unsign(request.app.state.secret, request.cookies.get(COOKIE, ""))
    if session_id:
        desk_of(request).accounts.logout(session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# -- now ----------------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def now_page(request: Request, who: Principal = require("xem", page=True)):
    return render(request, "now.html", who, status=desk_of(request).status(), agenda=desk_of(request).agenda())


@router.get("/live", response_class=HTMLResponse)
def live(request: Request, who: Principal = require("xem", page=True)):
    return render(request, "live.html", who, status=desk_of(request).status(), agenda=desk_of(request).agenda())


# -- bulletins ----------------------------------------------------------------------------------
@router.get("/bulletins", response_class=HTMLResponse)
def bulletins_page(request: Request, q: str = "", who: Principal = require("xem", page=True)):
    items, _ = desk_of(request).bulletins(q)
    return render(request, "bulletins.html", who, bulletins=items, q=q)


def _jingles(request: Request) -> list[str]:
    schedule, _ = desk_of(request).schedule()
    return sorted(schedule.station.jingles) if schedule else []


@router.get("/bulletins/new", response_class=HTMLResponse)
def new_bulletin(request: Request, who: Principal = require("bien-tap", page=True)):
    return render(request, "bulletin.html", who, bulletin={"id": "", "text": ""}, version="", create=True,
                  jingles=_jingles(request), problems=[])


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def bulletin_page(request: Request, bulletin_id: str, who: Principal = require("xem", page=True)):
    item, version = desk_of(request).bulletin(bulletin_id)
    return render(request, "bulletin.html", who, bulletin=item, version=version, create=False,
                  jingles=_jingles(request), problems=[], saved=request.query_params.get("saved"))


def _bulletin_fields(form, original: dict) -> dict:
    fields = {"id": str(form.get("id") or "").strip(), "title": str(form.get("title") or "").strip() or None}
    text = str(form.get("text") or "").replace("\r\n", "\n")
    relay = str(form.get("relay") or "").strip()
    if text.strip():
        fields["text"] = text
    elif original.get("audio") and not relay:
        fields["audio"] = original["audio"]
    fields["relay"] = relay or None
    fields["duration"] = str(form.get("duration") or "").strip() or None
    fields["priority"] = _unless_default(original, "priority", str(form.get("priority") or "normal"), "normal")
    repeat = str(form.get("repeat") or "1").strip()
    repeat_value = int(repeat) if repeat.isdigit() else repeat
    fields["repeat"] = _unless_default(original, "repeat", repeat_value, 1)
    for key in ("intro", "outro"):
        fields[key] = str(form.get(key) or "") or None
    return _keep_unshown(original, fields, BULLETIN_FORM)


@router.post("/bulletins/save", response_class=HTMLResponse)
async def save_bulletin(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk = desk_of(request)
    create = form.get("create") == "1"
    original = {} if create else desk.bulletin(str(form.get("original_id") or ""))[0]
    fields = _bulletin_fields(form, original)
    bulletin_id = fields["id"]
    version = str(form.get("version") or "") or None
    try:
        upload = form.get("audio_file")
        if upload is not None and getattr(upload, "filename", ""):
            fields.pop("text", None)
            fields["audio"] = desk.upload(who.actor, bulletin_id, upload.file, upload.filename)
        saved = desk.save_bulletin(who.actor, bulletin_id, fields, version, create=create)
    except DeskError as exc:
        current, current_version = ({**fields}, version)
        if exc.status == 409 and not create:
            current, current_version = desk.bulletin(bulletin_id)   # show what is on disk now
        return render(request, "bulletin.html", who, exc.status, bulletin={**current, "id": bulletin_id},
                      version=current_version or "", create=create, jingles=_jingles(request),
                      problems=exc.problems, error=str(exc))
    return RedirectResponse(f"/bulletins/{quote(bulletin_id)}?saved=1", status_code=303)


@router.post("/bulletins/{bulletin_id}/delete")
async def delete_bulletin(request: Request, bulletin_id: str, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk_of(request).delete_bulletin(who.actor, bulletin_id, str(form.get("version") or ""))
    return RedirectResponse("/bulletins", status_code=303)


@router.post("/spoken", response_class=HTMLResponse)
async def spoken(request: Request, who: Principal = require("xem", page=True)):
    text = str((await request.form()).get("text") or "").replace("\r\n", "\n")
    result = desk_of(request).spoken(text)
    return render(request, "spoken.html", who, lines=_marked(text, result["findings"]), **result)


def _marked(text: str, findings: list[dict]) -> list[list[tuple[str, str | None]]]:
    """Each source line cut into (piece, reason-or-None), so the template marks unsure tokens."""
    lines = []
    by_line: dict[int, list[dict]] = {}
    for finding in findings:
        by_line.setdefault(finding["line"], []).append(finding)
    for number, line in enumerate(text.split("\n"), start=1):
        pieces, at = [], 0
        for finding in sorted(by_line.get(number, []), key=lambda f: f["column"]):
            start = finding["column"] - 1
            if start < at:
                continue
            end = start + len(finding["token"])
            pieces += [(line[at:start], None), (line[start:end], finding["reason"])]
            at = end
        pieces.append((line[at:], None))
        lines.append(pieces)
    return lines


@router.post("/listen", response_class=HTMLResponse)
async def listen(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    original = {}
    if form.get("original_id"):
        original = desk_of(request).bulletin(str(form.get("original_id")))[0]
    try:
        path = desk_of(request).preview(who.actor, _bulletin_fields(form, original))
    except DeskError as exc:
        return render(request, "listen.html", who, error=str(exc))
    return render(request, "listen.html", who, url=f"/api/preview/{path.name}")


# -- slots --------------------------------------------------------------------------------------
@router.get("/slots", response_class=HTMLResponse)
def slots_page(request: Request, who: Principal = require("xem", page=True)):
    items, _ = desk_of(request).slots()
    return render(request, "slots.html", who, slots=items)


def _zones(request: Request) -> list[str]:
    """The hamlet zones `station.zones` declares, as the file names them (valid or not yet)."""
    document, _ = desk_of(request).document()
    station = document.get("station") if isinstance(document, dict) else None
    zones = station.get("zones") if isinstance(station, dict) else None
    return [str(z) for z in zones] if isinstance(zones, dict) else []


def _slot_form(request: Request, who, slot: dict, version: str, create: bool, code: int = 200, **extra):
    bulletins, _ = desk_of(request).bulletins()
    campaigns, _ = desk_of(request).campaigns()
    plays = set(map(str, slot.get("play") or [])) if isinstance(slot.get("play"), list) else {str(slot.get("play"))}
    counted = [c["id"] for c in campaigns if plays & set(map(str, c.get("bulletins") or []))]
    return render(request, "slot.html", who, code, slot=slot, version=version, create=create,
                  weekdays=WEEKDAYS, bulletin_ids=[b["id"] for b in bulletins], zones=_zones(request),
                  campaigns=counted, problems=extra.pop("problems", []), **extra)


def _numbers(value: str) -> list:
    """`1, 15` -> [1, 15]; what is not a whole number stays text, for the loader to name."""
    return [int(v) if v.isdigit() else v for v in _list(value)]


def _as_written(original, chosen: list) -> list:
    """The file's own list when the form chose the same items, so an untouched field keeps its bytes."""
    if isinstance(original, list) and sorted(map(str, original)) == sorted(map(str, chosen)):
        return list(original)
    return chosen


@router.get("/slots/new", response_class=HTMLResponse)
def new_slot(request: Request, who: Principal = require("bien-tap", page=True)):
    return _slot_form(request, who, {"name": "", "play": []}, "", True)


@router.get("/slots/edit", response_class=HTMLResponse)
def slot_page(request: Request, name: str, who: Principal = require("xem", page=True)):
    item, version = desk_of(request).slot(name)
    return _slot_form(request, who, item, version, False, saved=request.query_params.get("saved"))


def _slot_fields(form, original: dict) -> dict:
    at = _list(str(form.get("at") or ""))
    days = [d for d in WEEKDAYS if form.get(f"day_{d}")]
    original_days = original.get("days")
    if original_days and set(map(str, original_days)) == set(days) and len(days) == len(original_days):
        days = list(original_days)         # same days as written (t2 or mon): keep the file's spelling
    fields = {
        "name": str(form.get("name") or "").strip(),
        "at": (at[0] if len(at) == 1 and not isinstance(original.get("at"), list) else at) or None,
        "days": days or None,
        "dates": _list(str(form.get("dates") or "")) or None,
        "from": str(form.get("from") or "").strip() or None,
        "until": str(form.get("until") or "").strip() or None,
        "except": _list(str(form.get("except") or "")) or None,
        "enabled": _unless_default(original, "enabled", bool(form.get("enabled")), True),
        "play": [str(v) for v in form.getlist("play") if str(v).strip()] or _list(str(form.get("play_text") or "")),
        "zones": _as_written(original.get("zones"), [str(v) for v in form.getlist("zones") if str(v).strip()]) or None,
        "lunar": _numbers(str(form.get("lunar") or "")) or None,
        "lunar_months": _numbers(str(form.get("lunar_months") or "")) or None,
    }
    return _keep_unshown(original, {k: v for k, v in fields.items() if v is not None}, SLOT_FORM)


@router.post("/slots/save", response_class=HTMLResponse)
async def save_slot(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk = desk_of(request)
    create = form.get("create") == "1"
    original_name = str(form.get("original_name") or "")
    original = {} if create else desk.slot(original_name)[0]
    fields = _slot_fields(form, original)
    version = str(form.get("version") or "") or None
    try:
        desk.save_slot(who.actor, fields["name"] if create else original_name, fields, version, create=create)
    except DeskError as exc:
        current, current_version = fields, version
        if exc.status == 409 and not create:
            current, current_version = desk.slot(original_name)
        return _slot_form(request, who, current, current_version or "", create, exc.status,
                          problems=exc.problems, error=str(exc), original_name=original_name)
    return RedirectResponse(f"/slots/edit?name={quote(fields['name'])}&saved=1", status_code=303)


@router.post("/slots/delete")
async def delete_slot(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk_of(request).delete_slot(who.actor, str(form.get("name") or ""), str(form.get("version") or ""))
    return RedirectResponse("/slots", status_code=303)


# -- campaigns ----------------------------------------------------------------------------------
@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, who: Principal = require("xem", page=True)):
    items, _ = desk_of(request).campaigns()
    return render(request, "campaigns.html", who, campaigns=items)


def _campaign_form(request: Request, who, campaign: dict, version: str, create: bool, code: int = 200, **extra):
    from broadcaster.schedule.campaigns import PERIODS, TARGET_UNITS

    bulletins, _ = desk_of(request).bulletins()
    target = campaign.get("target") if isinstance(campaign.get("target"), dict) else {}
    unit = next((u for u in TARGET_UNITS if u in target), TARGET_UNITS[0])
    return render(request, "campaign.html", who, code, campaign=campaign, version=version, create=create,
                  bulletin_ids=[b["id"] for b in bulletins], units=TARGET_UNITS, periods=PERIODS,
                  target_unit=unit, target_amount=target.get(unit, ""), target_per=target.get("per", ""),
                  problems=extra.pop("problems", []), **extra)


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign(request: Request, who: Principal = require("bien-tap", page=True)):
    return _campaign_form(request, who, {"id": "", "bulletins": []}, "", True)


@router.get("/campaigns/edit", response_class=HTMLResponse)
def campaign_page(request: Request, id: str, who: Principal = require("xem", page=True)):
    item, version = desk_of(request).campaign(id)
    return _campaign_form(request, who, item, version, False, saved=request.query_params.get("saved"))


def _campaign_fields(form, original: dict) -> dict:
    amount = str(form.get("target_amount") or "").strip()
    fields = {
        "id": str(form.get("id") or "").strip(),
        "title": str(form.get("title") or "").strip() or None,
        "plan": str(form.get("plan") or "").strip() or None,
        "from": str(form.get("from") or "").strip() or None,
        "until": str(form.get("until") or "").strip() or None,
        # None chosen is sent as an empty list, so the loader's problem stands beside this field.
        "bulletins": _as_written(original.get("bulletins"), [str(v) for v in form.getlist("bulletins")]),
        "target": {str(form.get("target_unit") or "broadcasts"): _number(amount),
                   "per": str(form.get("target_per") or "")} if amount else None,
        "make_up": _unless_default(original, "make_up", bool(form.get("make_up")), False),
    }
    return {k: v for k, v in fields.items() if v is not None}


@router.post("/campaigns/save", response_class=HTMLResponse)
async def save_campaign(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk = desk_of(request)
    create = form.get("create") == "1"
    original_id = str(form.get("original_id") or "")
    original = {} if create else desk.campaign(original_id)[0]
    fields = _campaign_fields(form, original)
    campaign_id = fields["id"] if create else original_id
    version = str(form.get("version") or "") or None
    try:
        desk.save_campaign(who.actor, campaign_id, {**fields, "id": campaign_id}, version, create=create)
    except DeskError as exc:
        current, current_version = fields, version
        if exc.status == 409 and not create:
            current, current_version = desk.campaign(original_id)      # what is on disk now
        return _campaign_form(request, who, current, current_version or "", create, exc.status,
                              problems=exc.problems, error=str(exc))
    return RedirectResponse(f"/campaigns/edit?id={quote(campaign_id)}&saved=1", status_code=303)


@router.post("/campaigns/delete")
async def delete_campaign(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk_of(request).delete_campaign(who.actor, str(form.get("id") or ""), str(form.get("version") or ""))
    return RedirectResponse("/campaigns", status_code=303)


# -- play now / emergency -----------------------------------------------------------------------
@router.get("/onair", response_class=HTMLResponse)
def onair_page(request: Request, who: Principal = require("xem", page=True)):
    bulletins, _ = desk_of(request).bulletins()
    slots, _ = desk_of(request).slots()
    return render(request, "onair.html", who, bulletins=bulletins, slots=slots)


@router.post("/onair", response_class=HTMLResponse)
async def onair_action(request: Request, who: Principal = require("bien-tap", page=True)):
    """First post: the confirmation step. Second post (confirm=1): the request goes to the station."""
    form = await request.form()
    action = str(form.get("action") or "")
    values = {k: str(form.get(k) or "") for k in ("target", "text", "bulletin")}
    if form.get("confirm") != "1":
        return render(request, "confirm.html", who, action=action, **values)
    desk = desk_of(request)
    if action == "play":
        reply = desk.play(who.actor, values["target"])
    elif action == "stop":
        reply = desk.stop(who.actor)
    else:
        reply = desk.emergency(who.actor, values["text"], values["bulletin"])
    bulletins, _ = desk.bulletins()
    slots, _ = desk.slots()
    return render(request, "onair.html", who, bulletins=bulletins, slots=slots,
                  sent=str(reply.get("message") or reply.get("key") or "ok"))


# -- as-run log ---------------------------------------------------------------------------------
@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request, who: Principal = require("xem", page=True), slot: str = "", status: str = "",
                 page: int = 1):
    first = request.query_params.get("from") or None
    last = request.query_params.get("to") or None
    if first is None and last is None:         # the last week, not the station's whole life
        today = desk_of(request).today()
        first, last = (today - timedelta(days=6)).isoformat(), today.isoformat()
    page = max(1, page)
    # One row more than a page: whether an older page exists, without counting the range.
    rows = desk_of(request).history(first, last, slot, status, limit=HISTORY_PAGE + 1,
                                    offset=(page - 1) * HISTORY_PAGE)
    slots, _ = desk_of(request).slots()
    return render(request, "history.html", who, rows=rows[:HISTORY_PAGE], more=len(rows) > HISTORY_PAGE,
                  page=page, first=first or "", last=last or "", slot=slot, status=status,
                  slot_names=[s.get("name") for s in slots], statuses=STATUSES)


# -- station settings (admins) ------------------------------------------------------------------
# Each editable `station:` key the form shows, by group, with how its text is read: numbers accept a
# decimal comma (0,6), lists are comma-separated. The default is shown as the field's placeholder.
SETTINGS = (
    ("general", (("name", "text"),)),
    ("sound", (("loudness", "number"), ("voicing", "choice"))),
    ("speech", (("speech.engines", "list"), ("speech.gtts_timeout", "number"), ("speech.gtts_retries", "number"),
                ("speech.espeak_voice", "text"), ("speech.espeak_speed", "number"), ("speech.ahead", "number"))),
    ("programme", (("programme.repeat_bridge", "text"), ("programme.pause_after_jingle", "number"),
                   ("programme.pause_between_readings", "number"), ("programme.pause_between_bulletins", "number"),
                   ("programme.pause_before_jingle", "number"))),
    ("timing", (("catch_up", "number"), ("prerender", "number"), ("air_hours", "list"))),
    ("relay", (("relay_gap", "number"), ("relay_notice", "long"))),
    ("stream", (("stream.format", "choice"), ("stream.bitrate", "number"))),
)


def _setting_defaults() -> tuple[dict, dict]:
    """Each field's default (its placeholder) and the choices of the choice fields."""
    from broadcaster.constants import ENGINE_NAMES, VOICINGS
    from broadcaster.schedule.model import ProgrammeSettings, SpeechSettings, Station, StreamSettings
    from broadcaster.schedule.outputs import STREAM_FORMATS

    defaults: dict[str, str] = {}
    station = Station(name="", timezone=None, state_dir=None)
    for key in ("loudness", "voicing", "relay_gap", "relay_notice"):
        defaults[key] = str(getattr(station, key))
    defaults.update(catch_up=str(int(station.catch_up.total_seconds() // 60)),
                    prerender=str(int(station.prerender.total_seconds() // 60)), air_hours="05:00-21:30")
    for group, settings in (("speech", SpeechSettings()), ("programme", ProgrammeSettings()),
                            ("stream", StreamSettings())):
        for key, value in vars(settings).items():
            defaults[f"{group}.{key}"] = ", ".join(value) if isinstance(value, tuple) else str(value)
    return defaults, {"voicing": VOICINGS, "stream.format": STREAM_FORMATS, "speech.engines": ENGINE_NAMES}


def _number(text: str):
    """A number typed by an officer (`-16`, `0,6`); anything else goes on as text for the loader to name."""
    cleaned = text.strip().replace(",", ".")
    for kind in (int, float):
        try:
            return kind(cleaned)
        except ValueError:
            pass
    return text.strip()


def _station_fields(form) -> dict:
    fields: dict = {}
    for _, settings in SETTINGS:
        for name, kind in settings:
            raw = str(form.get(name) or "").replace("\r\n", "\n")
            if kind == "list":
                value = [v.strip() for v in re.split(r"[,;\n]+", raw) if v.strip()] or None
            elif kind == "number":
                value = _number(raw) if raw.strip() else None
            else:
                value = raw.strip() or None
            group, _, key = name.rpartition(".")
            if value is None:
                continue
            if group:
                fields.setdefault(group, {})[key] = value
            else:
                fields[key] = value
    return fields


def _settings_page(request: Request, who: Principal, station: dict, version: str, code: int = 200, **extra):
    from broadcaster.desk.store import STATION_FIXED

    defaults, choices = _setting_defaults()
    values = {}
    for _, settings in SETTINGS:
        for name, _kind in settings:
            group, _, key = name.rpartition(".")
            value = (station.get(group) or {}).get(key) if group else station.get(key)
            if isinstance(value, dict):
                value = None
            values[name] = ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else value)
    fixed = [(key, station[key]) for key in STATION_FIXED if key in station]
    return render(request, "settings.html", who, code, groups=SETTINGS, values=values, defaults=defaults,
                  choices=choices, fixed=fixed, version=version, problems=extra.pop("problems", []),
                  saved=request.query_params.get("saved"), **extra)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, who: Principal = require("quan-tri", page=True)):
    station, version = desk_of(request).station()
    return _settings_page(request, who, station, version)


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(request: Request, who: Principal = require("quan-tri", page=True)):
    form = await request.form()
    desk = desk_of(request)
    current, _ = desk.station()
    fields = _station_fields(form)
    version = str(form.get("version") or "")
    try:
        desk.save_station(who.actor, fields, version)
    except DeskError as exc:
        from broadcaster.desk.store import STATION_FIXED

        shown = {k: v for k, v in current.items() if k in STATION_FIXED} | fields    # as the officer typed it
        shown_version = version
        if exc.status == 409:
            shown, shown_version = desk.station()          # what is on disk now
        return _settings_page(request, who, shown, shown_version, exc.status, problems=exc.problems,
                              error=str(exc))
    return RedirectResponse("/settings?saved=1", status_code=303)


# -- users, audit trail, versions ---------------------------------------------------------------
@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, who: Principal = require("xem", page=True)):
    return _admin(request, who)


def _admin(request: Request, who: Principal, code: int = 200, **extra):
    desk = desk_of(request)
    _, version = desk.document()
    return render(request, "admin.html", who, code, deleted=request.query_params.get("deleted"), users=desk.accounts.users() if who.user.may("quan-tri") else [],
                  audit=desk.accounts.audit_trail(200) if who.user.may("quan-tri") else [],
                  versions=desk.versions()[:100], version=version, roles=ROLES, **extra)


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, who: Principal = require("quan-tri", page=True)):
    form = await request.form()
    name = str(form.get("name") or "").strip()
    try:
        desk_of(request).add_user(who.actor, name, str(form.get("role") or ""), str(form.get("password") or ""))
    except DeskError as exc:
        return _admin(request, who, code=exc.status, error=str(exc), problems=exc.problems, new_name=name)
    return RedirectResponse(f"/admin/users/{quote(name)}?done=add", status_code=303)


@router.post("/admin/token", response_class=HTMLResponse)
async def new_token(request: Request, who: Principal = require("xem", page=True)):
    form = await request.form()
    name = str(form.get("name") or who.user.name)
    token = desk_of(request).new_token(who.actor, name)
    return _user_page(request, who, name, token=token)


# -- one user: role, password, API tokens, removal ---------------------------------------------
def _user_page(request: Request, who: Principal, name: str, code: int = 200, **extra):
    """The user's page; others than the user themself need the admin role (tokens are theirs)."""
    desk = desk_of(request)
    tokens = desk.tokens(who.actor, name)
    user = desk.accounts.user(name)
    return render(request, "user.html", who, code, user=user, tokens=tokens, roles=ROLES,
                  done=request.query_params.get("done"), **extra)


@router.get("/admin/users/{name}", response_class=HTMLResponse)
def user_page(request: Request, name: str, who: Principal = require("xem", page=True)):
    return _user_page(request, who, name)


@router.post("/admin/users/{name}", response_class=HTMLResponse)
async def change_user(request: Request, name: str, who: Principal = require("xem", page=True)):
    """One form per change (`action`): role, password, revoke a token, delete. Role, password and
    delete need the admin role; revoking is allowed on one's own tokens too."""
    form = await request.form()
    action = str(form.get("action") or "")
    desk = desk_of(request)
    try:
        if action == "revoke":
            token_id = str(form.get("token") or "")
            desk.revoke_token(who.actor, name, int(token_id) if token_id.isdigit() else -1)
        elif not who.user.may("quan-tri"):
            desk.accounts.audit(who.user.name, who.address, f"user.{action}", name, "refused 403", who.user.role)
            raise DeskError(403, i18n.tr("desk.forbidden", role=who.user.role))
        elif action == "role":
            desk.set_role(who.actor, name, str(form.get("role") or ""))
        elif action == "password":
            password = str(form.get("password") or "")
            if password != str(form.get("password2") or ""):
                raise DeskError(400, i18n.tr("desk.password_mismatch"))
            desk.set_password(who.actor, name, password)
        elif action == "delete":
            desk.delete_user(who.actor, name)
            return RedirectResponse(f"/admin?deleted={quote(name)}", status_code=303)
        else:
            raise DeskError(400, i18n.tr("desk.bad_body"))
    except DeskError as exc:
        if exc.status == 403 or desk.accounts.user(name) is None:
            raise
        return _user_page(request, who, name, exc.status, error=str(exc), field=action)
    return RedirectResponse(f"/admin/users/{quote(name)}?done={quote(action)}", status_code=303)


@router.post("/admin/restore", response_class=HTMLResponse)
async def restore(request: Request, who: Principal = require("bien-tap", page=True)):
    form = await request.form()
    desk_of(request).restore(who.actor, str(form.get("version_id") or ""), str(form.get("version") or ""))
    return _admin(request, who, restored=True)
