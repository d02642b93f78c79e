"""The HTTP API and pages through the app: roles, CSRF, sessions, throttling, escaping, uploads, exports."""

from __future__ import annotations

import io
import re
import subprocess
import warnings

import pytest

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
    """A control server answering like the daemon (with health's keys): the live part shows them."""
    from broadcaster.onair.control import ControlServer, socket_path

    reply = {"current": "Bản tin sáng@2030-01-01T06:00:00+07:00", "queue": ["tin-le@x"],
             "schedule_version": clients["xem"].get("/api/status").json()["schedule_version"],
             "state": "warning", "on_air": {"slot": "Bản tin sáng", "elapsed": 12.5, "remaining": 40.0},
             "checks": [{"name": "disk", "state": "warning", "message": "<b>còn 1 GB</b>", "since": "2030-01-01"}],
             "next": {"key": "k", "slot": "Bản tin tối", "start": "2030-01-05T19:00:00+07:00", "bulletins": [],
                      "rendered": True}}
    server = ControlServer(socket_path(station.state), lambda request: reply)
    server.start()
    try:
        page = clients["xem"].get("/live").text
        assert 'id="on-air"' in page and "elapsed</b>: 12.5" in page and "remaining</b>: 40.0" in page
        from datetime import datetime, timedelta
        from zoneinfo import ZoneInfo

        from broadcaster.asrun import AsRunLog, log_path

        started = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - timedelta(seconds=75)
        with AsRunLog(log_path(station.state)) as asrun:     # the row the daemon opens as it starts playing
            asrun.start(key=reply["current"], kind="scheduled", slot="Bản tin sáng", bulletins=("tin-sang",),
                        priority="normal", scheduled=started, started=started, engine="espeak-ng")
        playing = clients["xem"].get("/live").text
    finally:
        server.close()
    assert '<p class="onair" id="on-air">Bản tin sáng — tin-sang</p>' in playing
    assert re.search(r"Bắt đầu \d\d:\d\d:\d\d, đã phát 01:1[5-9]", playing)
    assert "19:00 05/01 — Bản tin tối" in page and "tin-le@x" in page
    assert "<b>disk</b>: warning" in page and "&lt;b&gt;còn 1 GB&lt;/b&gt;" in page
    assert 'id="taken" class="ok"' in page
