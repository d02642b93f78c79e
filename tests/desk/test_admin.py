"""Admin pages and API through a real `broadcaster desk` server (uvicorn on a free loopback port):
user management (create, role, password, delete, API tokens, the last admin kept) and the
station settings (validated by the loader, round-trip, refused on a hand edit), each role's
allowed and refused operations, CSRF, and the audit trail."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from broadcaster.desk.accounts import Accounts
from tests.desk.conftest import PASSWORDS, USERS, Station
from tests.desk.helpers import free_port, serving

RANK = {"xem": 1, "bien-tap": 2, "quan-tri": 3}


@pytest.fixture(scope="module")
def site():
    """One `broadcaster desk` (no daemon) per module and worker, with one user per role: starting a
    server and logging in cost more than the tests themselves. Each test gets the hand-written
    schedule back (`station`) and leaves the users it made behind it harmless to the others."""
    folder = Path(tempfile.mkdtemp(prefix="dk-", dir="/tmp"))
    station = Station(folder, folder / "var")
    accounts = Accounts(station.state)
    for role, name in USERS.items():
        accounts.add(name, role, PASSWORDS[role])
    accounts.close()
    listen = f"127.0.0.1:{free_port()}"
    try:
        with serving(["desk", "--schedule", str(station.path), "--listen", listen], listen,
                     station.folder / "desk.log", timeout=30) as url:
            yield station, url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def station(site):
    station, _ = site
    station.path.write_bytes(station.original)
    (station.folder / "bulletins" / "tin-file.txt").write_text("Lịch tiêm chủng ngày 5/9.\n", encoding="utf-8")
    return station


@pytest.fixture
def server(site, station):
    return site[1]


def session(base: str, name: str, password: str) -> httpx.Client:
    """A logged-in browser-like client: session cookie, and the CSRF token as the pages carry it."""
    client = httpx.Client(base_url=base, timeout=20)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"name": name, "password": password, "csrf": csrf})
    assert response.status_code == 303, response.text
    client.csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/bulletins").text).group(1)
    client.headers["X-CSRF-Token"] = client.csrf
    return client


@pytest.fixture
def clients(server):
    made = {role: session(server, name, PASSWORDS[role]) for role, name in USERS.items()}
    made["anon"] = httpx.Client(base_url=server, timeout=20)
    yield made
    for client in made.values():
        client.close()


def audit(client) -> list[tuple]:
    return [(a["user"], a["address"], a["action"], a["target"], a["outcome"])
            for a in client.get("/api/audit", params={"limit": 500}).json()]


def test_each_role_on_the_user_and_settings_operations(clients, server):
    """Admin-only operations refused (403) to editors and viewers and allowed to the admin; anyone
    manages their own API tokens; nobody anonymous does anything."""
    admin = clients["quan-tri"]
    for role in ("xem", "bien-tap", "quan-tri"):
        client = clients[role]
        me = USERS[role]
        target = f"u-{role}"            # each role works on its own throw-away account
        assert admin.post("/api/users", json={"name": target, "role": "xem", "password": "mat-khau-1"}).status_code == 201
        token = admin.post(f"/api/users/{target}/token").json()["token"]
        token_id = admin.get(f"/api/users/{target}/tokens").json()[-1]["id"]
        station = admin.get("/api/station")
        operations = [
            ("GET", "/api/users", None, {}),
            ("POST", "/api/users", {"name": f"n-{role}", "role": "xem", "password": "mat-khau-1"}, {}),
            ("PUT", f"/api/users/{target}/role", {"role": "bien-tap"}, {}),
            ("PUT", f"/api/users/{target}/password", {"password": "mat-khau-2"}, {}),
            ("GET", f"/api/users/{target}/tokens", None, {}),
            ("POST", f"/api/users/{target}/token", None, {}),
            ("DELETE", f"/api/users/{target}/tokens/{token_id}", None, {}),
            ("GET", "/api/station", None, {}),
            ("PUT", "/api/station", {**station.json(), "loudness": -15}, {"If-Match": station.headers["etag"]}),
            ("DELETE", f"/api/users/{target}", None, {}),
        ]
        for method, path, body, headers in operations:
            response = client.request(method, path, json=body, headers=headers)
            if role == "quan-tri":
                assert response.status_code in (200, 201), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
            assert clients["anon"].request(method, path, json=body).status_code == 401, path
        if role != "quan-tri":
            # the token made above still works (nothing was revoked), and one's own tokens are one's own
            assert httpx.get(f"{server}/api/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            mine = client.post(f"/api/users/{me}/token")
            assert mine.status_code == 201 and mine.json()["token"].startswith("bdk_")
            listed = client.get(f"/api/users/{me}/tokens").json()
            assert [t["id"] for t in listed] and "token" not in listed[0] and "hash" not in listed[0]
            assert client.delete(f"/api/users/{me}/tokens/{listed[-1]['id']}").status_code == 200
            bearer = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {mine.json()['token']}"})
            assert bearer.get("/api/status").status_code == 401            # revoked at once
            bearer.close()
            admin.delete(f"/api/users/{target}")
    # pages: the admin's pages refused to the others, shown to the admin
    for role in ("xem", "bien-tap"):
        assert clients[role].get("/settings").status_code == 403
        assert clients[role].get("/admin/users/an").status_code == 403
        assert clients[role].get(f"/admin/users/{USERS[role]}").status_code == 200      # own tokens
        assert "/settings" not in clients[role].get("/admin").text
    assert clients["quan-tri"].get("/settings").status_code == 200
    # every new form needs the session's CSRF token, even the admin's
    admin.headers.pop("X-CSRF-Token")
    for path, form in (("/settings", {"name": "X"}), ("/admin/users", {"name": "x", "role": "xem", "password": "12345678"}),
                       ("/admin/users/chi", {"action": "delete"}), ("/admin/token", {"name": "chi"}),
                       ("/campaigns/save", {"create": "1", "id": "x"}), ("/campaigns/delete", {"id": "x"}),
                       ("/slots/save", {"create": "1", "name": "x"})):
        assert admin.post(path, data=form).status_code == 403, path
        assert admin.post(path, data={**form, "csrf": "sai"}).status_code == 403, path
    assert "chi" in [u["name"] for u in admin.get("/api/users").json()]              # nothing was done


def test_the_last_admin_stays_and_every_change_is_audited(clients, station):
    admin = clients["quan-tri"]
    refused = admin.put("/api/users/an/role", json={"role": "bien-tap"})
    assert refused.status_code == 409 and "cuối cùng" in refused.json()["error"]
    assert admin.delete("/api/users/an").status_code == 409
    assert admin.post("/api/users", json={"name": "dao", "role": "quan-tri", "password": "mat-khau-3"}).status_code == 201
    assert admin.put("/api/users/dao/role", json={"role": "xem"}).status_code == 200
    assert admin.put("/api/users/an/role", json={"role": "xem"}).status_code == 409     # dao is no admin now
    assert admin.put("/api/users/dao/role", json={"role": "sep"}).status_code == 400
    assert admin.post("/api/users", json={"name": "<b>x</b>", "role": "xem", "password": "mat-khau-3"}).status_code == 400
    assert admin.put("/api/users/dao/password", json={"password": "ngan"}).status_code == 400
    assert admin.delete("/api/users/khong-co").status_code == 404
    rows = audit(admin)
    for expected in [("an", "127.0.0.1", "user.role", "an", "refused 409"),
                     ("an", "127.0.0.1", "user.delete", "an", "refused 409"),
                     ("an", "127.0.0.1", "user.add", "dao", "ok"),
                     ("an", "127.0.0.1", "user.role", "dao", "ok"),
                     ("an", "127.0.0.1", "user.role", "dao", "refused 400"),
                     ("an", "127.0.0.1", "user.add", "<b>x</b>", "refused 400"),
                     ("an", "127.0.0.1", "user.passwd", "dao", "refused 400"),
                     ("an", "127.0.0.1", "user.delete", "khong-co", "refused 404")]:
        assert expected in rows, expected
    # refusals by role are audited too
    assert clients["bien-tap"].delete("/api/users/dao").status_code == 403
    assert ("binh", "127.0.0.1", "DELETE", "/api/users/dao", "refused 403") in audit(admin)
    # the audit trail page shows the refused markup as text
    page = admin.get("/admin").text
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    # the add-user form: each refusal beside its field
    form = {"csrf": admin.csrf, "name": "<i>y</i>", "role": "xem", "password": "mat-khau-4"}
    refused = admin.post("/admin/users", data=form)
    assert refused.status_code == 400 and "&lt;i&gt;y&lt;/i&gt;" in beside(refused.text, 'name="name"')[0]
    assert beside(admin.post("/admin/users", data={**form, "name": "dao"}).text, 'name="name"')      # exists
    assert beside(admin.post("/admin/users", data={**form, "name": "em", "password": "ngan"}).text, 'name="password"')
    assert admin.post("/api/users", json={"name": "em", "role": "sep", "password": "mat-khau-4"}).json()[
        "problems"] == [{"field": "role", "message": "Vai trò 'sep' không có; chọn quan-tri, bien-tap hoặc xem."}]


def test_password_reset_and_delete_end_sessions_and_tokens(clients, server):
    admin = clients["quan-tri"]
    assert admin.post("/api/users", json={"name": "giang", "role": "bien-tap", "password": "mat-khau-5"}).status_code == 201
    editor = session(server, "giang", "mat-khau-5")
    token = editor.post("/api/users/giang/token").json()["token"]
    bearer = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"})
    assert editor.get("/api/status").status_code == 200
    # the page form: CSRF first, then the new password twice
    form = {"action": "password", "password": "mat-khau-moi", "password2": "mat-khau-moi"}
    admin.headers.pop("X-CSRF-Token")
    assert admin.post("/admin/users/giang", data=form).status_code == 403
    assert admin.post("/admin/users/giang", data={**form, "csrf": "sai"}).status_code == 403
    mismatch = admin.post("/admin/users/giang", data={**form, "password2": "khac-nhau-1", "csrf": admin.csrf})
    assert mismatch.status_code == 400 and "không khớp" in mismatch.text
    done = admin.post("/admin/users/giang", data={**form, "csrf": admin.csrf})
    assert done.status_code == 303 and done.headers["location"] == "/admin/users/giang?done=password"
    assert editor.get("/api/status").status_code == 401            # the old session ended
    assert bearer.get("/api/status").status_code == 200           # tokens are not passwords
    again = session(server, "giang", "mat-khau-moi")
    # delete through the page: the user's sessions and tokens go with them
    assert admin.post("/admin/users/giang", data={"action": "delete", "csrf": admin.csrf}).status_code == 303
    assert again.get("/api/status").status_code == 401
    assert bearer.get("/api/status").status_code == 401
    assert "giang" not in [u["name"] for u in admin.get("/api/users").json()]
    # demote the last admin through the page: refused beside the role field
    page = admin.post("/admin/users/an", data={"action": "role", "role": "xem", "csrf": admin.csrf})
    assert page.status_code == 409 and '<div class="problem">' in page.text
    assert next(u["role"] for u in admin.get("/api/users").json() if u["name"] == "an") == "quan-tri"
    # a token made on the page is shown once, and listed (by number only) afterwards
    shown = admin.post("/admin/token", data={"name": "chi", "csrf": admin.csrf})
    made = re.search(r'<code id="token">(bdk_[^<]+)</code>', shown.text).group(1)
    listing = admin.get("/admin/users/chi").text
    assert made not in listing and 'id="tokens"' in listing
    again.close()
    bearer.close()


SETTINGS_SCHEDULE = """\
# Đài thử: cài đặt viết tay
station:
  name: Đài thử          # tên
  timezone: Asia/Ho_Chi_Minh
  state_dir: {state}
  speech:
    engines: [espeak-ng]   # chỉ giọng máy
    espeak_speed: 125

  # chương trình
  programme:
    pause_after_jingle: 0.6

bulletins:
  chao:
    text: Xin chào bà con.

slots:
  - name: Sáng
    at: "06:00"
    play: [chao]
"""


def test_station_settings_round_trip_validate_and_refuse_a_hand_edit(clients, station):
    station.path.write_text(SETTINGS_SCHEDULE.format(state=station.state), encoding="utf-8")
    original = station.path.read_text(encoding="utf-8")
    admin = clients["quan-tri"]
    read = admin.get("/api/station")
    assert read.json() == {"name": "Đài thử", "timezone": "Asia/Ho_Chi_Minh", "state_dir": str(station.state),
                           "speech": {"engines": ["espeak-ng"], "espeak_speed": 125},
                           "programme": {"pause_after_jingle": 0.6}}
    etag = read.headers["etag"]
    assert admin.put("/api/station", json=read.json()).status_code == 428
    # unchanged: not one byte moves (a history entry is still made: the admin pressed save)
    assert admin.put("/api/station", json=read.json(), headers={"If-Match": etag}).status_code == 200
    assert station.path.read_text(encoding="utf-8") == original
    # an edit: only the edited lines change, comments and blank lines stay
    body = {**read.json(), "name": "Đài xã Tân Lập", "loudness": -14,
            "speech": {"engines": ["espeak-ng"], "espeak_speed": 120}, "air_hours": ["05:00-21:30"]}
    saved = admin.put("/api/station", json=body, headers={"If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert station.path.read_text(encoding="utf-8") == original.replace(
        "  name: Đài thử          # tên", "  name: Đài xã Tân Lập   # tên").replace(
        "espeak_speed: 125\n", "espeak_speed: 120\n").replace(
        "    pause_after_jingle: 0.6\n", '    pause_after_jingle: 0.6\n  loudness: -14\n  air_hours: ["05:00-21:30"]\n')
    etag = saved.headers["etag"]
    # invalid values: refused with the loader's problems at their fields, file untouched
    before = station.path.read_bytes()
    bad = admin.put("/api/station", headers={"If-Match": etag}, json={
        **body, "loudness": 3, "speech": {"engines": ["espeak-ng"], "espeak_speed": "nhanh"},
        "air_hours": ["21:30-05:00"], "stream": {"format": "wav"}})
    assert bad.status_code == 422
    assert [(p["field"], p["key"]) for p in bad.json()["problems"]] == [      # in file order
        ("speech.espeak_speed", "type.integer"), ("loudness", "number.range"), ("air_hours", "air_hours.invalid"),
        ("stream.format", "choice.invalid")]
    # keys kept for the station PC: refused unless sent unchanged; unknown keys refused
    for key, value in (("state_dir", "/tmp/khac"), ("timezone", "Europe/Paris"), ("desk", {"listen": "0.0.0.0:80"}),
                       ("outputs", ["file:/etc"]), ("bogus", 1)):
        refused = admin.put("/api/station", json={**body, key: value}, headers={"If-Match": etag})
        assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == key, key
    assert station.path.read_bytes() == before
    # a hand edit since the read: refused, nothing overwritten
    station.path.write_text(station.path.read_text(encoding="utf-8") + "# sửa tay\n", encoding="utf-8")
    stale = admin.put("/api/station", json={**body, "name": "Ghi đè"}, headers={"If-Match": etag})
    assert stale.status_code == 409 and station.path.read_text(encoding="utf-8").endswith("# sửa tay\n")
    # the page: problems beside their fields, a stale save shows what is on disk now
    page = admin.get("/settings").text
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    form = {"csrf": admin.csrf, "version": version, "name": "Đài xã Tân Lập", "loudness": "-3,5",
            "speech.engines": "espeak-ng", "speech.espeak_speed": "120", "programme.pause_after_jingle": "0,6",
            "air_hours": "05:00-21:30"}
    refused = admin.post("/settings", data=form)
    assert refused.status_code == 422
    assert re.search(r'id="f-loudness"[^>]*>\s*<small class="hint">[^<]*</small>\s*<div class="problem">'
                     r"[^<]*-40[^<]*-5", refused.text), refused.text
    assert admin.post("/settings", data={**form, "loudness": "-13"}).status_code == 303
    assert "loudness: -13\n" in station.path.read_text(encoding="utf-8")
    stale_page = admin.post("/settings", data={**form, "name": "Cũ", "loudness": "-13"})      # the version moved
    assert stale_page.status_code == 409 and 'name="name" id="f-name" value="Đài xã Tân Lập"' in stale_page.text
    versions = admin.get("/api/versions").json()
    assert versions[0]["who"] == "an" and versions[0]["what"] == "sửa cài đặt đài (loudness)"
    # a notice typed on two lines in the textarea is written as a block, as a person would
    version = re.search(r'name="version" value="([^"]+)"', admin.get("/settings").text).group(1)
    notice = {**form, "loudness": "-13", "version": version, "relay_notice": "Xin chờ.\r\nĐang nối lại."}
    assert admin.post("/settings", data=notice).status_code == 303
    assert "  relay_notice: |\n    Xin chờ.\n    Đang nối lại.\n" in station.path.read_text(encoding="utf-8")
    assert ("an", "127.0.0.1", "station.edit", "station", "refused 409") in audit(admin)
    assert ("an", "127.0.0.1", "station.edit", "station", "ok") in audit(admin)


ZONES_SCHEDULE = """\
station:
  name: Đài thử
  state_dir: {state}
  zones:
    thon-1: icecast://source@127.0.0.1:8000/thon1
    thon-2: icecast://source@127.0.0.1:8000/thon2
  secrets: secrets.yaml

bulletins:
  chao:
    text: Xin chào bà con.
  tiep-song:                # đài tỉnh
    relay: https://example.org/live.m3u8
    duration: 30m

slots:
  - name: Rằm
    at: "19:00"
    lunar: [1, 15]          # mùng một và rằm
    zones: [thon-1]
    play: [chao]
"""


def beside(html: str, anchor: str) -> list[str]:
    """The problems shown right after `anchor` (a field), before the next field begins."""
    rest = html[html.index(anchor):]
    end = min((i for i in (rest.find("<label", 1), rest.find("<fieldset", 1), rest.find("<details", 1)) if i > 0),
              default=len(rest))
    return re.findall(r'<div class="problem">([^<]*)', rest[:end])


def slot_form(client, name: str, **changes) -> dict:
    """What the slot page's form sends for slot `name` when the officer changes only `changes`."""
    page = client.get("/slots/edit", params={"name": name}).text
    form = {"csrf": client.csrf, "create": "0", "original_name": name, "name": name, "enabled": "1",
            "version": re.search(r'name="version" value="([^"]+)"', page).group(1),
            "play": re.findall(r'<input type="hidden" name="play" value="([^"]+)">', page),
            "zones": re.findall(r'name="zones" value="([^"]+)" checked', page)}
    for key in ("at", "dates", "from", "until", "except", "lunar", "lunar_months"):
        form[key] = re.search(rf'<input name="{key}" value="([^"]*)"', page).group(1)
    form.update(changes)
    return form


def test_slot_zones_lunar_days_and_a_relay_bulletin_on_the_forms(clients, station):
    (station.folder / "secrets.yaml").write_text("passwords:\n  source@127.0.0.1:8000: mat-khau-nguon\n")
    (station.folder / "secrets.yaml").chmod(0o600)
    station.path.write_text(ZONES_SCHEDULE.format(state=station.state), encoding="utf-8")
    original = station.path.read_text(encoding="utf-8")
    editor = clients["bien-tap"]
    page = editor.get("/slots/edit", params={"name": "Rằm"}).text
    assert re.findall(r'name="zones" value="([^"]+)"', page) == ["thon-1", "thon-2"]
    assert 'name="lunar" value="1, 15"' in page
    # untouched: not one byte moves
    assert editor.post("/slots/save", data=slot_form(editor, "Rằm")).status_code == 303
    assert station.path.read_text(encoding="utf-8") == original
    # problems beside their fields: lunar day 35, months without... days beside lunar, an unknown zone
    refused = editor.post("/slots/save", data=slot_form(editor, "Rằm", lunar="1, 35", lunar_months="13",
                                                        day_t2="1", zones=["thon-1", "thon-9"]))
    assert refused.status_code == 422
    html = refused.text
    assert len(re.findall(r'<div class="problem">', html)) == 4, html
    assert "&#39;lunar&#39;" in beside(html, 'name="day_cn"')[0]          # days and lunar do not mix
    assert "35" in beside(html, 'name="lunar" value="1, 35"')[0]
    assert "13" in beside(html, 'name="lunar_months" value="13"')[0]
    assert "thon-9" in beside(html, 'name="zones" value="thon-9"')[0]
    api = editor.post("/api/slots", json={"name": "X", "at": "07:00", "lunar": [35], "lunar_months": [13],
                                          "zones": ["thon-9"], "play": ["chao"]})
    assert [(p["field"], p["key"]) for p in api.json()["problems"]] == [         # in schedule.yaml's key order
        ("zones", "slot.unknown_zone"), ("lunar", "number.range"), ("lunar_months", "number.range")]
    assert station.path.read_text(encoding="utf-8") == original
    # a change: both zones, lunar months narrowed
    saved = editor.post("/slots/save", data=slot_form(editor, "Rằm", lunar_months="1, 7", zones=["thon-1", "thon-2"]))
    assert saved.status_code == 303, saved.text
    assert station.path.read_text(encoding="utf-8") == original.replace(
        "    zones: [thon-1]\n", "    zones: [thon-1, thon-2]\n").replace(
        "    play: [chao]\n", "    play: [chao]\n    lunar_months: [1, 7]\n")
    # the relay bulletin: its fields on the form, a bad duration beside its field, a good one saved
    page = editor.get("/bulletins/tiep-song").text
    assert 'name="relay" value="https://example.org/live.m3u8"' in page and 'name="duration" value="30m"' in page
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    form = {"csrf": editor.csrf, "version": version, "create": "0", "original_id": "tiep-song", "id": "tiep-song",
            "title": "", "text": "", "priority": "normal", "repeat": "1", "intro": "", "outro": "",
            "relay": "https://example.org/live.m3u8", "duration": "nửa giờ"}
    refused = editor.post("/bulletins/save", data=form)
    assert refused.status_code == 422
    assert "nửa giờ" in beside(refused.text, 'name="duration"')[0]
    missing = editor.post("/bulletins/save", data={**form, "duration": ""})
    assert missing.status_code == 422 and beside(missing.text, 'name="duration"')
    assert editor.post("/bulletins/save", data={**form, "duration": "1h30m"}).status_code == 303
    assert "    duration: 1h30m\n" in station.path.read_text(encoding="utf-8")
    # a new relay bulletin through the form
    new = {**form, "create": "1", "original_id": "", "id": "tinh", "version": "", "duration": "45m",
           "relay": "icecast://127.0.0.1:8000/tinh"}
    assert editor.post("/bulletins/save", data=new).status_code == 303
    assert editor.get("/api/bulletins/tinh").json() == {"id": "tinh", "relay": "icecast://127.0.0.1:8000/tinh",
                                                        "duration": "45m"}


def campaign_form(client, campaign_id: str, **changes) -> dict:
    """What the campaign page's form sends when the officer changes only `changes`."""
    page = client.get("/campaigns/edit", params={"id": campaign_id}).text
    form = {"csrf": client.csrf, "create": "0", "original_id": campaign_id, "id": campaign_id,
            "version": re.search(r'name="version" value="([^"]+)"', page).group(1),
            "bulletins": re.findall(r'name="bulletins" value="([^"]+)" checked', page),
            "target_unit": re.search(r'name="target_unit">.*?<option value="(\w+)" selected', page, re.S).group(1),
            "target_per": re.search(r'name="target_per">.*?<option value="(\w+)" selected', page, re.S).group(1)}
    for key in ("title", "plan", "from", "until", "target_amount"):
        form[key] = re.search(rf'<input name="{key}" value="([^"]*)"', page).group(1)
    if 'name="make_up" value="1" checked' in page:
        form["make_up"] = "1"
    form.update(changes)
    return form


def test_campaigns_through_the_api_and_the_form(clients, station):
    editor, viewer = clients["bien-tap"], clients["xem"]
    body = {"id": "cchc", "title": "Cải cách hành chính", "plan": "Kế hoạch số 06/KH-UBND",
            "from": "2030-01-01", "until": "2030-12-31", "bulletins": ["tin-sang"],
            "target": {"broadcasts": 5, "per": "week"}}
    assert viewer.post("/api/campaigns", json=body).status_code == 403
    assert clients["anon"].get("/api/campaigns").status_code == 401
    before = station.path.read_text(encoding="utf-8")
    created = editor.post("/api/campaigns", json=body)
    assert created.status_code == 201, created.text
    assert station.path.read_text(encoding="utf-8") == before + (
        "campaigns:\n  cchc:\n    title: Cải cách hành chính\n    plan: Kế hoạch số 06/KH-UBND\n"
        "    from: 2030-01-01\n    until: 2030-12-31\n    bulletins: [tin-sang]\n"
        "    target: {broadcasts: 5, per: week}\n")
    assert viewer.get("/api/campaigns/cchc").json() == body
    etag = viewer.get("/api/campaigns/cchc").headers["etag"]
    assert viewer.put("/api/campaigns/cchc", json=body, headers={"If-Match": etag}).status_code == 403
    assert viewer.delete("/api/campaigns/cchc", headers={"If-Match": etag}).status_code == 403
    assert viewer.post("/campaigns/save", data={"csrf": viewer.csrf, "create": "1", "id": "x"}).status_code == 403
    paths = viewer.get("/api/openapi.json").json()["paths"]
    assert {"/api/campaigns", "/api/campaigns/{item}", "/api/station", "/api/users/{name}/role",
            "/api/users/{name}/tokens/{token_id}"} <= set(paths)
    # problems at their fields: inside the target, and make-ups without the station's air hours
    etag = editor.get("/api/campaigns/cchc").headers["etag"]
    bad = editor.put("/api/campaigns/cchc", headers={"If-Match": etag},
                     json={**body, "target": {"broadcasts": 0, "per": "ngay"}, "make_up": True, "bulletins": ["khong-co"]})
    assert bad.status_code == 422
    assert [(p["field"], p["key"]) for p in bad.json()["problems"]] == [
        ("bulletins", "campaign.unknown_bulletin"), ("target.broadcasts", "number.range"),
        ("target.per", "choice.invalid"), ("make_up", "campaign.make_up_air_hours")]
    # the form: untouched changes no byte; no bulletin chosen is refused beside the bulletins
    after_create = station.path.read_bytes()
    assert editor.post("/campaigns/save", data=campaign_form(editor, "cchc")).status_code == 303
    assert station.path.read_bytes() == after_create
    refused = editor.post("/campaigns/save", data=campaign_form(editor, "cchc", bulletins=[]))
    assert refused.status_code == 422 and beside(refused.text, 'name="bulletins" value="tin-le"')
    saved = editor.post("/campaigns/save", data=campaign_form(editor, "cchc", target_amount="90", target_unit="minutes",
                                                               target_per="month", bulletins=["tin-sang", "tin-le"]))
    assert saved.status_code == 303
    assert "    bulletins: [tin-sang, tin-le]\n    target: {minutes: 90, per: month}\n" in station.path.read_text(encoding="utf-8")
    # a bulletin a campaign counts cannot be deleted (the loader names the campaign); the campaign can
    etag = editor.get("/api/bulletins/tin-le").headers["etag"]
    refused = editor.delete("/api/bulletins/tin-le", headers={"If-Match": etag})
    assert refused.status_code == 422 and refused.json()["problems"][0]["key"] == "campaign.unknown_bulletin"
    assert editor.delete("/api/campaigns/cchc", headers={"If-Match": etag}).status_code == 200
    assert "campaigns" not in station.path.read_text(encoding="utf-8")
    etag = editor.get("/api/bulletins/tin-le").headers["etag"]
    assert editor.delete("/api/bulletins/tin-le", headers={"If-Match": etag}).status_code == 200
    assert editor.get("/campaigns").status_code == 200 and viewer.get("/campaigns/new").status_code == 403


def test_the_new_pages_in_english(tmp_path):
    """`--lang en`: the settings, user, campaign, slot and bulletin pages and their refusals in English."""
    station = Station(tmp_path, tmp_path / "var")
    accounts = Accounts(station.state)
    accounts.add("an", "quan-tri", PASSWORDS["quan-tri"])
    accounts.close()
    listen = f"127.0.0.1:{free_port()}"
    with serving(["--lang", "en", "desk", "--schedule", str(station.path), "--listen", listen], listen,
                 station.folder / "desk.log", timeout=30) as url:
        admin = session(url, "an", PASSWORDS["quan-tri"])
        pages = {"/settings": ("Loudness (LUFS)", "Độ lớn"), "/admin/users/an": ("Change role", "Đổi vai trò"),
                 "/campaigns/new": ("Bulletins that count", "Các bản tin được tính"),
                 "/slots/edit?name=Bản tin sáng": ("Or lunar days", "ngày âm lịch"),
                 "/bulletins/tin-le": ("Relay a live stream", "Tiếp sóng"), "/admin": ("Add user", "Thêm người dùng")}
        for path, (english, vietnamese) in pages.items():
            text = admin.get(path).text
            assert english in text and vietnamese not in text, path
        station_now = admin.get("/api/station")
        refused = admin.put("/api/station", json={**station_now.json(), "loudness": 3},
                            headers={"If-Match": station_now.headers["etag"]})
        assert refused.json()["problems"][0]["message"].startswith("'loudness' must be")
        assert "last administrator" in admin.delete("/api/users/an").json()["error"]
        admin.close()


def test_a_hostile_slot_name_never_becomes_script(clients):
    """A slot's name may hold quotes: the delete button's question is an escaped attribute."""
    name = "x');alert(1);('\" onmouseover=\"alert(2)"
    editor = clients["bien-tap"]
    assert editor.post("/api/slots", json={"name": name, "at": "21:00", "play": ["tin-le"]}).status_code == 201
    page = editor.get("/slots/edit", params={"name": name}).text
    assert "onsubmit" not in page and "alert(1)" in page
    assert 'data-confirm="Xóa x&#39;);alert(1);(&#39;&#34; onmouseover=&#34;alert(2)?"' in page

