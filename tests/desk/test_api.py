"""The HTTP API and pages through the app: roles, CSRF, sessions, throttling, escaping, uploads, exports."""

from __future__ import annotations

import io
import re
import subprocess
import warnings

import pytest

from broadcaster import i18n
from tests.desk.conftest import PASSWORDS, USERS, login

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NEW_BULLETIN = {"id": "tin-api", "title": "Tin API", "text": "Xin chào."}
NEW_SLOT = {"name": "Khung API", "at": "21:00", "days": ["t7"], "play": ["tin-le"]}

# (method, path, body, the lowest role allowed)
OPERATIONS = [
    ("GET", "/api/status", None, "xem"),
    ("GET", "/api/bulletins", None, "xem"),
    ("GET", "/api/bulletins/tin-le", None, "xem"),
    ("GET", "/api/slots", None, "xem"),
    ("GET", "/api/history", None, "xem"),
    ("GET", "/api/versions", None, "xem"),
    ("GET", "/api/openapi.json", None, "xem"),
    ("POST", "/api/spoken", {"text": "1/2023"}, "xem"),
    ("POST", "/api/bulletins", NEW_BULLETIN, "bien-tap"),
    ("POST", "/api/slots", NEW_SLOT, "bien-tap"),
    ("PUT", "/api/bulletins/tin-le", {"title": "Tin lẻ 2", "text": "Xin chào bà con."}, "bien-tap"),
    ("DELETE", "/api/slots/Bản tin tối", None, "bien-tap"),
    ("POST", "/api/play", {"target": "tin-le"}, "bien-tap"),
    ("POST", "/api/stop", {}, "bien-tap"),
    ("POST", "/api/emergency", {"text": "Bão số 3"}, "bien-tap"),
    ("GET", "/api/audit", None, "quan-tri"),
    ("GET", "/api/users", None, "quan-tri"),
    ("POST", "/api/users", {"name": "dung", "role": "xem", "password": "dung-pass-1"}, "quan-tri"),
]
RANK = {"xem": 1, "bien-tap": 2, "quan-tri": 3}


def call(client, method, path, body=None):
    headers = {}
    if method in ("PUT", "DELETE"):
        headers["If-Match"] = client.get(path).headers["etag"]
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("role", ["xem", "bien-tap", "quan-tri"])
def test_every_role_is_allowed_or_refused_each_operation(clients, role):
    client = clients[role]
    for method, path, body, lowest in OPERATIONS:
        response = call(client, method, path, body)
        if RANK[role] >= RANK[lowest]:
            # play/stop/emergency reach for the daemon, which is not running here: 503, not 401/403
            expected = {503} if path in ("/api/play", "/api/stop", "/api/emergency") else {200, 201}
            assert response.status_code in expected, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)


def test_anonymous_and_forged_credentials_are_refused(clients, app):
    anon = clients["anon"]
    for method, path, body, _ in OPERATIONS:
        assert anon.request(method, path, json=body).status_code == 401, path
    assert anon.get("/", follow_redirects=False).headers["location"] == "/login"
    assert anon.get("/api/status", headers={"Authorization": "Bearer bdk_not-a-token"}).status_code == 401
    forged = TestClient(app, cookies={"desk_session": "abc.def"})
    assert forged.get("/api/status").status_code == 401


def test_session_cookie_is_httponly_strict_and_expires(app, clock):
    client = TestClient(app)
    response = login(client, USERS["xem"], PASSWORDS["xem"])
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert client.get("/api/status").status_code == 200
    clock.now += 12 * 3600 + 1
    assert client.get("/api/status").status_code == 401


def test_state_changes_with_a_session_need_the_csrf_token(clients):
    client = clients["bien-tap"]
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/bulletins", json=NEW_BULLETIN).status_code == 403
    assert client.post("/api/bulletins", json=NEW_BULLETIN, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    form = {"create": "1", "id": "tin-form", "text": "Xin chào.", "priority": "normal", "repeat": "1"}
    assert client.post("/bulletins/save", data=form).status_code == 403
    assert client.post("/bulletins/save", data={**form, "csrf": token}, follow_redirects=False).status_code == 303
    assert client.post("/api/bulletins", json=NEW_BULLETIN, headers={"X-CSRF-Token": token}).status_code == 201


def test_login_is_throttled_per_account_and_per_address(app, clock):
    client = TestClient(app)
    for _ in range(5):
        assert login(client, "binh", "wrong-password").status_code == 401
    assert login(client, "binh", PASSWORDS["bien-tap"]).status_code == 429     # even the right password
    assert login(client, "an", PASSWORDS["quan-tri"]).status_code == 429       # same address
    clock.now += 301
    assert login(client, "binh", PASSWORDS["bien-tap"]).status_code == 303


def test_bearer_tokens_work_without_csrf_and_are_stored_hashed(clients, accounts, station):
    token = clients["bien-tap"].post("/api/users/binh/token").json()["token"]
    assert clients["bien-tap"].post("/api/users/an/token").status_code == 403
    api = TestClient(clients["anon"].app, headers={"Authorization": f"Bearer {token}"})
    assert api.post("/api/bulletins", json=NEW_BULLETIN).status_code == 201
    assert token.encode() not in (station.state / "desk.sqlite3").read_bytes()


def test_put_needs_the_version_read_and_refuses_a_stale_one(clients, station):
    client = clients["bien-tap"]
    etag = client.get("/api/slots/Bản tin sáng").headers["etag"]
    body = {"name": "Bản tin sáng", "at": "06:15", "days": ["t2"], "play": ["tin-sang"]}
    assert client.put("/api/slots/Bản tin sáng", json=body).status_code == 428
    station.path.write_text(station.path.read_text(encoding="utf-8") + "# sửa tay\n", encoding="utf-8")
    refused = client.put("/api/slots/Bản tin sáng", json=body, headers={"If-Match": etag})
    assert refused.status_code == 409 and refused.json()["problems"]
    fresh = client.get("/api/slots/Bản tin sáng").headers["etag"]
    assert client.put("/api/slots/Bản tin sáng", json=body, headers={"If-Match": fresh}).status_code == 200


def test_invalid_changes_answer_422_with_the_loaders_problems(clients, station):
    response = clients["bien-tap"].post("/api/slots", json={"name": "Sai", "at": "7h", "play": ["khong-co"]})
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [(p["field"], p["key"]) for p in problems] == [("at", "time.invalid"), ("play", "slot.unknown_bulletin")]
    assert all({"file", "line", "column", "message", "severity"} <= set(p) for p in problems)
    assert station.path.read_bytes() == station.original
    assert clients["bien-tap"].post("/api/slots", json={"name": "X", "bogus": 1}).status_code == 422


def test_bulletins_and_slots_use_exactly_the_schedule_keys(clients):
    bulletin = clients["xem"].get("/api/bulletins/tin-le").json()
    assert bulletin == {"id": "tin-le", "title": "Tin lẻ", "text": "Xin chào bà con.", "repeat": 2}
    slot = clients["xem"].get("/api/slots/Bản tin tối").json()
    assert slot == {"name": "Bản tin tối", "at": ["19:00", "20:30"], "days": ["cn"],
                    "except": ["2023-01-20..2023-01-26"], "play": ["tin-sang"]}


@pytest.mark.parametrize("name", ["..%2F..%2Fetc", "..", "a%5Cb"])
def test_ids_with_dot_dot_are_refused(clients, name):
    assert clients["bien-tap"].get(f"/api/bulletins/{name}").status_code in (400, 404)
    response = clients["bien-tap"].post("/api/bulletins", json={"id": name.replace("%2F", "/"), "text": "x"})
    assert response.status_code == 400


def test_script_and_template_text_shows_as_text(clients):
    text = "<script>alert(1)</script> {{ 7*7 }} {% if 1 %}x{% endif %}"
    assert clients["bien-tap"].post("/api/bulletins", json={"id": "tin-xss", "title": "<b>t</b>", "text": text}).status_code == 201
    page = clients["xem"].get("/bulletins/tin-xss").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/script&gt; {{ 7*7 }}" in page and "&gt; 49" not in page
    assert "&lt;b&gt;t&lt;/b&gt;" in clients["xem"].get("/bulletins").text
    spoken = clients["xem"].post("/spoken", data={"text": text}).text
    assert "<script>" not in spoken


def test_the_spoken_form_marks_unsure_tokens(clients):
    reply = clients["xem"].post("/api/spoken", json={"text": "Theo 06/KH-UBND, gặp ông XYZQ."}).json()
    assert "không sáu trên kế hoạch" in reply["spoken"]
    assert [f["token"] for f in reply["findings"]] == ["XYZQ"]
    html = clients["xem"].post("/spoken", data={"text": "Theo 06/KH-UBND, gặp ông XYZQ."}).text
    assert '<mark title="' in html and ">XYZQ</mark>" in html


def test_upload_accepts_audio_and_refuses_the_rest(clients, station, tmp_path):
    wav = tmp_path / "x.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=1", str(wav)], check=True)
    client = clients["bien-tap"]
    response = client.post("/api/bulletins/tin-ghi-am/audio", files={"file": ("../../evil.sh", wav.read_bytes())})
    assert response.status_code == 201, response.text
    relative = response.json()["audio"]
    assert relative.startswith("audio/desk/tin-ghi-am-") and relative.endswith(".wav")
    assert (station.folder / relative).is_file() and not (station.folder.parent / "evil.sh").exists()
    assert client.get("/api/bulletins/tin-ghi-am").json()["audio"] == relative
    not_audio = client.post("/api/bulletins/tin-x/audio", files={"file": ("a.mp3", b"not audio at all" * 10)})
    assert not_audio.status_code == 415
    too_big = client.post("/api/bulletins/tin-y/audio", files={"file": ("a.wav", io.BytesIO(b"\0" * (3 * 1024 * 1024)))})
    assert too_big.status_code == 413
    assert sorted(p.name.split("-")[1] for p in (station.folder / "audio" / "desk").iterdir()) == ["ghi"]


def test_history_exports_csv_with_bom_and_xlsx(clients, station):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from broadcaster.asrun import AsRunLog, Status, log_path

    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    with AsRunLog(log_path(station.state)) as asrun:
        for day, status in ((10, Status.PLAYED), (11, Status.MISSED)):
            when = datetime(2023, 1, day, 6, tzinfo=zone)
            asrun.record(key=f"Bản tin sáng@{when.isoformat()}", kind="scheduled", slot="Bản tin sáng",
                         bulletins=("tin-sang",), priority="normal", scheduled=when, started=when, ended=when,
                         status=status)
    rows = clients["xem"].get("/api/history?from=2023-01-11&to=2023-01-11").json()
    assert [(r["slot"], r["status"]) for r in rows] == [("Bản tin sáng", "missed")]
    csv = clients["xem"].get("/api/history?format=csv&from=2023-01-01&to=2023-01-31").content
    assert csv.startswith(b"\xef\xbb\xbfid,key,kind,slot") and "Bản tin sáng".encode() in csv
    xlsx = clients["xem"].get("/api/history?format=xlsx").content
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet.max_row == 3 and sheet["D2"].value == "Bản tin sáng"
    page = clients["xem"].get("/history?from=2023-01-01&to=2023-01-31&status=played").text
    assert page.count('class="status-played"') == 1 and "status-missed" not in page
    assert csv.splitlines()[0].endswith(b",error,attempts,note,pending")


def test_a_page_or_offset_past_any_integer_is_an_empty_page_not_an_error(clients, station):
    from broadcaster.asrun import AsRunLog, log_path

    AsRunLog(log_path(station.state)).close()              # a log (empty), so the SQL runs
    viewer = clients["xem"]
    assert viewer.get("/api/history", params={"limit": 5, "offset": 10 ** 20}).json() == []
    page = viewer.get("/history", params={"from": "2023-01-01", "to": "2023-01-31", "page": 10 ** 18})
    assert page.status_code == 200 and '<tr class="status-' not in page.text


def test_history_only_reads_the_log_the_daemon_writes(clients, station):
    """The desk shows rows still in the journal as pending and leaves the journal and a damaged log alone."""
    import json as json_

    from broadcaster.asrun import log_path
    from broadcaster.asrun.journal import STATE_NAME

    station.state.mkdir(parents=True, exist_ok=True)
    journal = station.state / STATE_NAME
    fields = {"key": "Bản tin sáng@2023-01-12T06:00:00+07:00", "kind": "scheduled", "slot": "Bản tin sáng",
              "bulletins": "tin-sang", "priority": "normal", "scheduled": "2023-01-12T06:00:00.000+07:00",
              "scheduled_utc": 1673478000.0, "started": "2023-01-12T06:00:00.010+07:00",
              "ended": "2023-01-12T06:01:00.000+07:00", "status": "played", "engine": "gtts", "error": None}
    journal.write_text(json_.dumps({"run": "r", "op": "row", "handle": -1, "fields": fields}) + "\n", encoding="utf-8")
    [row] = clients["xem"].get("/api/history?from=2023-01-12&to=2023-01-12").json()
    assert (row["status"], row["pending"], row["attempts"]) == ("played", True, 1)
    assert journal.exists() and not log_path(station.state).exists()   # nothing replayed or created by the desk
    log_path(station.state).write_bytes(b"")                          # a truncated log: the daemon's to move aside
    reply = clients["xem"].get("/api/history")
    assert reply.status_code == 503 and "0 bytes" in reply.json()["error"]
    assert log_path(station.state).exists() and log_path(station.state).stat().st_size == 0


def test_every_change_and_play_request_is_audited(clients):
    clients["bien-tap"].post("/api/bulletins", json=NEW_BULLETIN)
    clients["bien-tap"].post("/api/play", json={"target": "tin-le"})
    clients["xem"].post("/api/bulletins", json=NEW_BULLETIN)
    trail = clients["quan-tri"].get("/api/audit").json()
    seen = [(a["user"], a["action"], a["target"], a["outcome"]) for a in trail]
    assert ("binh", "bulletin.create", "tin-api", "ok") in seen
    assert ("binh", "play", "tin-le", "refused 503") in seen
    assert ("chi", "POST", "/api/bulletins", "refused 403") in seen
    assert all(a["address"] for a in trail)


def test_pages_render_for_a_viewer_without_edit_controls(clients):
    for path in ("/", "/live", "/bulletins", "/bulletins/tin-le", "/slots", "/slots/edit?name=Bản tin sáng",
                 "/onair", "/history", "/admin"):
        response = clients["xem"].get(path)
        assert response.status_code == 200, path
        assert ">Lưu</button>" not in response.text and 'name="action"' not in response.text, path
    assert clients["xem"].get("/bulletins/new", follow_redirects=False).status_code == 403


def test_english_pages_with_the_language_setting(clients):
    from broadcaster import i18n

    i18n.set_language("en")
    try:
        assert "Bulletins" in clients["xem"].get("/bulletins").text
    finally:
        i18n.set_language(None)
    assert "Bản tin" in clients["xem"].get("/bulletins").text


def test_saving_untouched_forms_changes_no_byte(clients, station):
    client = clients["bien-tap"]
    version = client.get("/api/slots").headers["etag"].strip('"')
    morning = {"csrf": client.headers["X-CSRF-Token"], "version": version, "create": "0",
               "original_name": "Bản tin sáng", "name": "Bản tin sáng", "at": "06:00", "enabled": "1",
               **{f"day_{d}": "1" for d in ("t2", "t3", "t4", "t5", "t6")}, "play": ["tin-sang", "tin-file"]}
    assert client.post("/slots/save", data=morning, follow_redirects=False).status_code == 303
    evening = {"csrf": client.headers["X-CSRF-Token"], "version": version, "create": "0",
               "original_name": "Bản tin tối", "name": "Bản tin tối", "at": "19:00, 20:30", "enabled": "1",
               "day_cn": "1", "except": "2023-01-20..2023-01-26", "play": ["tin-sang"]}
    assert client.post("/slots/save", data=evening, follow_redirects=False).status_code == 303
    for bulletin_id, title, text, repeat in (("tin-sang", "Tin buổi sáng", None, "1"), ("tin-le", "Tin lẻ", None, "2"),
                                             ("tin-file", "Tin từ tệp", None, "1")):
        text = client.get(f"/api/bulletins/{bulletin_id}").json()["text"]
        form = {"csrf": client.headers["X-CSRF-Token"], "version": version, "create": "0",
                "original_id": bulletin_id, "id": bulletin_id, "title": title, "text": text.replace("\n", "\r\n"),
                "priority": "normal", "repeat": repeat, "intro": "", "outro": ""}
        assert client.post("/bulletins/save", data=form, follow_redirects=False).status_code == 303, bulletin_id
    assert station.path.read_bytes() == station.original


def test_trang_chinh_shows_what_the_daemon_reports(clients, station):
    """A control server answering like the daemon (holding its lock, with health's keys): the live
    part shows what is on air with its time on air and time remaining, the next broadcasts with
    their voice, and the daemon's last errors, all escaped."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from broadcaster.onair.control import ControlServer, DaemonLock, socket_path

    started = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0) - timedelta(seconds=75)
    reply = {"current": {"key": "Bản tin sáng@2030-01-01T06:00:00+07:00", "slot": "Bản tin sáng",
                         "bulletins": ["tin-sang", "tin-file"], "priority": "normal",
                         "started": started.isoformat(), "length": 135.2,
                         "ends_at": (started + timedelta(seconds=135.2)).isoformat()},
             "queue": ["tin-le@x"],
             "schedule_version": clients["xem"].get("/api/status").json()["schedule_version"],
             "state": "warning", "on_air": {"key": "Bản tin sáng@2030-01-01T06:00:00+07:00"},
             "checks": [{"name": "disk", "state": "warning", "message": "<b>còn 1 GB</b>", "since": "2030-01-01"}],
             "next": {"key": "k", "slot": "Bản tin tối", "start": "2030-01-05T19:00:00+07:00", "bulletins": [],
                      "rendered": True},
             "errors": [{"at": "2030-01-01T06:01:02+07:00", "level": "error", "message": "<i>Lịch mới có lỗi</i>"},
                        {"at": "2030-01-01T06:00:01+07:00", "level": "warning", "message": "trễ 2 giây"}]}
    lock = DaemonLock(station.state)
    lock.acquire()
    server = ControlServer(socket_path(station.state), lambda request: reply)
    server.start()
    try:
        page = clients["xem"].get("/live").text
        status = clients["xem"].get("/api/status").json()
    finally:
        server.close()
        lock.release()
    assert status["daemon_state"] == "running" and status["playing"]["remaining"] in (59, 60, 61)
    assert '<p class="onair" id="on-air">Bản tin sáng — tin-sang, tin-file</p>' in page
    assert re.search(r'Bắt đầu \d\d:\d\d:\d\d, đã phát\s*<b data-count="up" data-from="[^"]+">01:1[5-9]</b>', page)
    assert re.search(r'còn <b id="remaining" data-count="down" data-to="[^"]+">0[01]:[0-5]\d</b>', page)
    assert f"(dài 02:15, hết lúc {(started + timedelta(seconds=135.2)).strftime('%H:%M:%S')})" in page
    assert "19:00 05/01 — Bản tin tối" in page and "tin-le@x" in page
    assert "<b>disk</b>: warning" in page and "&lt;b&gt;còn 1 GB&lt;/b&gt;" in page
    assert 'id="daemon" class="ok"' in page
    assert '<li class="bad"><small>06:01:02 01/01</small> &lt;i&gt;Lịch mới có lỗi&lt;/i&gt;</li>' in page
    assert '<li class="warn"><small>06:00:01 01/01</small> trễ 2 giây</li>' in page
    assert 'id="taken" class="ok"' in page


def test_a_busy_daemon_is_shown_busy_never_stopped_and_a_stopped_one_stopped(app, clients, station):
    """Whether a daemon runs is its lock: one that holds it but answers only "busy" is busy (its
    last answer stays on the page), a play request to it is refused as busy; no lock is stopped."""
    from broadcaster.onair.control import ControlServer, DaemonLock, socket_path

    desk = app.state.desk
    desk.status_patience = desk.request_patience = 0.5
    stopped = clients["xem"].get("/live").text
    assert clients["xem"].get("/api/status").json()["daemon_state"] == "stopped"
    assert 'id="daemon" class="bad"' in stopped
    assert clients["bien-tap"].post("/api/play", json={"target": "tin-le"}).json()["error"] == \
        i18n.tr("desk.no_daemon")
    lock = DaemonLock(station.state)
    lock.acquire()
    answering = ControlServer(socket_path(station.state), lambda request: {"queue": ["q@1"], "current": None})
    answering.start()
    try:
        assert clients["xem"].get("/api/status").json()["daemon_state"] == "running"
    finally:
        answering.close()
    busy = ControlServer(socket_path(station.state), lambda request: {}, max_connections=0)   # all refused "busy"
    busy.start()
    try:
        status = clients["xem"].get("/api/status").json()
        page = clients["xem"].get("/live").text
        played = clients["bien-tap"].post("/api/play", json={"target": "tin-le"})
    finally:
        busy.close()
    busy_silent = clients["xem"].get("/api/status").json()       # the lock held, no socket at all
    lock.release()
    assert status["daemon_state"] == busy_silent["daemon_state"] == "busy" and status["running"] is True
    assert status["daemon"]["queue"] == ["q@1"] and status["as_of"]           # its last answer, and when
    assert 'id="daemon" class="warn"' in page and i18n.tr("page.daemon_down") not in page and "q@1" in page
    assert played.status_code == 503 and played.json()["error"] == i18n.tr("desk.daemon_busy")
    trail = clients["quan-tri"].get("/api/audit").json()
    assert [(a["action"], a["outcome"], a["detail"]) for a in trail[:2]] == [
        ("play", "refused 503", i18n.tr("desk.daemon_busy")), ("play", "refused 503", i18n.tr("desk.no_daemon"))]


def test_the_agenda_says_the_voice_each_broadcast_will_use(app, station):
    """Google's voice while it answers (rendered before air), the offline voice while it rests:
    read from the speech cache and the engines' rest record the daemon keeps, as `agenda` does."""
    import json
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from broadcaster.speech.speaker import FAILURES_FILE, speech_cache_dir

    desk = app.state.desk
    monday = datetime(2030, 1, 7, 5, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    [morning] = desk.agenda(monday)
    assert (morning["slot"], morning["voice"]["engine"], morning["voice"]["ready"]) == ("Bản tin sáng", "gtts", False)
    assert morning["voice"]["label"] == "giọng Google (gTTS), sẽ dựng trước giờ phát"
    cache = speech_cache_dir(station.state)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / FAILURES_FILE).write_text(json.dumps({"gtts": {"at": time.time(), "reason": "mất mạng"}}), "utf-8")
    [morning] = desk.agenda(monday)
    assert (morning["voice"]["engine"], morning["voice"]["reason"]) == ("espeak-ng", "gtts: mất mạng")
    assert morning["voice"]["label"] == "giọng máy eSpeak NG (không cần mạng), sẽ dựng trước giờ phát"


def test_a_daemon_whose_state_folder_refuses_writes_is_found_in_its_fallback_folder(clients, station):
    """A daemon on a read-only state folder keeps its lock and socket in a private folder under
    /tmp (`runtime_folders`); the desk finds it there, reads its status and sends it requests."""
    import fcntl
    import os
    import shutil

    from broadcaster.onair.control import LOCK_NAME, SOCKET_NAME, ControlServer, runtime_folders

    fallback = runtime_folders(station.state)[1]
    fallback.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(fallback / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_EX)            # what DaemonLock does when the state folder refuses
    os.write(descriptor, f"{os.getpid()}\n".encode())
    asked = []
    server = ControlServer(fallback / SOCKET_NAME, lambda request: asked.append(request) or {"queue": ["q@ro"]})
    server.start()
    try:
        status = clients["xem"].get("/api/status").json()
        played = clients["bien-tap"].post("/api/play", json={"target": "tin-le"})
    finally:
        server.close()
        os.close(descriptor)
        shutil.rmtree(fallback, ignore_errors=True)
    assert (status["daemon_state"], status["daemon"]["queue"]) == ("running", ["q@ro"])
    assert played.status_code == 200 and {"cmd": "play", "target": "tin-le"} in asked


def _many_rows(state, count: int) -> list[str]:
    """`count` as-run rows a quarter hour apart from 2029-01-01 06:00 station time, straight into the
    log's real schema (as the benchmark does); the first row's times written in UTC."""
    import sqlite3
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from broadcaster.asrun import AsRunLog, log_path

    AsRunLog(log_path(state)).close()
    start = datetime(2029, 1, 1, 6, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    records, keys = [], []
    for n in range(count):
        when = start + timedelta(minutes=15 * n)
        shown = when.astimezone(ZoneInfo("UTC")) if n == 0 else when
        keys.append(f"Bản tin sáng@{when.isoformat()}")
        records.append((keys[-1], "scheduled", "Bản tin sáng" if n % 2 else "Bản tin tối", "tin-sang\ntin-file",
                        "normal", shown.isoformat(timespec="milliseconds"), when.timestamp(),
                        shown.isoformat(timespec="milliseconds"), None, "played" if n % 3 else "missed",
                        "espeak-ng", 'lỗi "x", y' if n == 1 else None))
    with sqlite3.connect(log_path(state)) as db:
        db.executemany("INSERT INTO asrun (key, kind, slot, bulletins, priority, scheduled, scheduled_utc, started, "
                       "ended, status, engine, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", records)
    return keys


def test_the_log_is_filtered_and_paged_by_sqlite_and_the_csv_streams_oldest_first(app, clients, station):
    from broadcaster.desk.exports import CHUNK_ROWS

    keys = _many_rows(station.state, 1234)          # 2029-01-01 06:00 .. 2029-01-13 22:15
    viewer = clients["xem"]
    rows = viewer.get("/api/history?from=2029-01-01&to=2029-01-31").json()
    assert [r["key"] for r in rows] == keys[::-1]                                      # newest first
    assert rows[-1]["scheduled"] == rows[-1]["started"] == "2029-01-01T06:00:00.000+07:00"   # UTC -> station
    assert rows[-1]["bulletins"] == ["tin-sang", "tin-file"] and rows[-2]["error"] == 'lỗi "x", y'
    day = viewer.get("/api/history?from=2029-01-02&to=2029-01-02&slot=Bản tin tối&status=missed").json()
    assert [r["key"] for r in day] == [k for n, k in enumerate(keys) if "2029-01-02T" in k and n % 6 == 0][::-1]
    assert [r["key"] for r in viewer.get("/api/history?limit=3&offset=2").json()] == keys[::-1][2:5]
    first_page = viewer.get("/history?from=2029-01-01&to=2029-01-31").text
    assert first_page.count('<tr class="status-') == 200 and 'rel="next"' in first_page and 'rel="prev"' not in first_page
    last_page = viewer.get("/history?from=2029-01-01&to=2029-01-31&page=7").text
    assert last_page.count('<tr class="status-') == 34 and 'rel="prev"' in last_page and 'rel="next"' not in last_page
    assert "2029-01-01 06:00:00" in last_page
    response = viewer.get("/api/history?format=csv&from=2029-01-01&to=2029-01-31")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ("id,key,kind,slot,bulletins,priority,scheduled,started,ended,status,engine,error,"
                        "attempts,note,pending")
    assert lines[1] == (f"1,{keys[0]},scheduled,Bản tin tối,tin-sang tin-file,normal,2029-01-01T06:00:00.000+07:00,"
                        "2029-01-01T06:00:00.000+07:00,,missed,espeak-ng,,1,,")
    assert lines[2].endswith(',played,espeak-ng,"lỗi ""x"", y",1,,') and len(lines) == 1234 + 2 and lines[-1] == ""
    chunks = list(app.state.desk.export_csv("2029-01-01", "2029-01-31", "", ""))
    assert len(chunks) == 1 + -(-1234 // CHUNK_ROWS) and chunks[0].startswith(b"\xef\xbb\xbfid,")

