"""End to end in a real headless Chromium (Debian's, driven by Playwright): `broadcaster run` with
its desk, an officer logging in, writing, listening, planning, airing, raising an emergency,
meeting a hand edit, and restoring a version. Screenshots at 360 and 1280 px are kept under
.artifacts/desk/ (as the report tests keep theirs in .artifacts/report/)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from playwright.sync_api import sync_playwright   # a test extra: a broken install fails, never skips

from broadcaster.desk.accounts import Accounts
from tests.desk.helpers import free_port, serving

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "desk"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
SYMBOL_TEXT = "Thực hiện Kế hoạch số 06/KH-UBND ngày 17/01/2023 của UBND xã."


@pytest.fixture
def on_air(station):
    """`broadcaster run` (file output, offline voice) with its desk on a free loopback port."""
    listen = f"127.0.0.1:{free_port()}"
    document = {
        "station": {"name": "Đài thử", "state_dir": str(station.state), "output": f"file:{station.folder / 'aired'}",
                    "speech": {"engines": ["espeak-ng"]}, "desk": {"listen": listen}},
        "bulletins": {"chao": {"title": "Lời chào", "text": "Xin chào bà con."}},
        "slots": [{"name": "Sáng", "at": "06:00", "days": ["cn"], "play": ["chao"]}],
    }
    station.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    accounts = Accounts(station.state)
    accounts.add("an", "quan-tri", "mat-khau-dai")
    accounts.close()
    with serving(["run", "--schedule", str(station.path)], listen, station.folder / "run.log") as url:
        yield url


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_officer_day_in_the_browser(station, on_air, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(on_air + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", "an")
    page.fill("input[name=password]", "mat-khau-dai")
    page.click("button[type=submit]")
    page.wait_for_selector("#live")
    shoot(page, "01-trang-chinh")

    # write a bulletin with a document symbol and see its spoken form
    page.goto(on_air + "/bulletins/new")
    page.fill("input[name=id]", "tin-e2e")
    page.fill("input[name=title]", "Tin thử <b>đậm</b>")
    page.fill("textarea[name=text]", SYMBOL_TEXT)
    page.wait_for_selector("#spoken pre.spoken:has-text('không sáu trên kế hoạch')")
    assert "ủy ban nhân dân" in page.inner_text("#spoken pre.spoken")

    # listen: the <audio> gets a real WAV rendered through the programme stage
    page.click("button:has-text('Nghe thử')")
    audio = page.wait_for_selector("#preview-audio", timeout=60_000)
    wav = page.request.get(on_air + audio.get_attribute("src")).body()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 48_000
    shoot(page, "02-ban-tin")
    page.click("button:has-text('Lưu')")
    page.wait_for_selector("text=Đã lưu")
    assert (station.folder / "bulletins" / "tin-e2e.txt").read_text(encoding="utf-8") == SYMBOL_TEXT + "\n"

    # a slot two minutes ahead shows in today's agenda
    when = (datetime.now(TZ) + timedelta(minutes=2)).strftime("%H:%M")
    if when < datetime.now(TZ).strftime("%H:%M"):
        pytest.skip("two minutes ahead is tomorrow (test run at midnight)")
    page.goto(on_air + "/slots/new")
    page.fill("input[name=name]", "Thử e2e")
    page.fill("input[name=at]", when)
    page.select_option("#play-add", "tin-e2e")
    page.click("#play-add-button")
    shoot(page, "03-khung-gio")
    page.click("button:has-text('Lưu')")
    page.wait_for_selector("text=Đã lưu")
    page.goto(on_air + "/")
    page.wait_for_selector(f"#agenda tr:has-text('Thử e2e'):has-text('{when}')")
    page.wait_for_selector("#taken.ok")              # the daemon reports the saved version in force

    # play now, confirm, and watch the as-run row appear
    page.goto(on_air + "/onair")
    page.select_option("#play-target", "tin-e2e")
    page.click("button:has-text('Phát ngay')")
    page.click("#confirm")
    page.wait_for_selector("#sent")
    for _ in range(60):
        page.goto(on_air + "/history")
        if page.query_selector("#history tr.status-played:has-text('tin-e2e')"):
            break
        page.wait_for_timeout(1000)
    page.wait_for_selector("#history tr.status-played:has-text('tin-e2e')", timeout=1000)
    shoot(page, "04-nhat-ky")

    # stop what plays, behind its confirmation step
    page.goto(on_air + "/onair")
    page.click("button:has-text('Dừng chương trình')")
    page.click("#confirm")
    page.wait_for_selector("#sent")

    # an emergency, behind its confirmation step
    page.goto(on_air + "/onair")
    page.fill("textarea[name=text]", "Bão số 3 đang vào. Bà con chằng chống nhà cửa.")
    page.click("button:has-text('Phát khẩn cấp')")
    assert "KHẨN CẤP" in page.inner_text(".confirm")
    shoot(page, "05-khan-cap")
    page.click("#confirm")
    page.wait_for_selector("#sent")

    # a hand edit made while the page was open is never overwritten
    page.goto(on_air + "/bulletins/tin-e2e")
    (station.folder / "bulletins" / "tin-e2e.txt").write_text("Sửa tay trên máy đài.\n", encoding="utf-8")
    page.fill("textarea[name=text]", "Sửa trên trình duyệt.")
    page.click("button:has-text('Lưu')")
    page.wait_for_selector(".error:has-text('sửa ở nơi khác')")
    assert page.input_value("textarea[name=text]").strip() == "Sửa tay trên máy đài."
    assert (station.folder / "bulletins" / "tin-e2e.txt").read_text(encoding="utf-8") == "Sửa tay trên máy đài.\n"
    assert "<b>đậm</b>" in page.input_value("input[name=title]")      # shown as text, not markup

    # restore the version from before the slot was added
    page.goto(on_air + "/admin")
    page.click("#versions tr:has-text('Thử e2e') button")
    page.wait_for_selector("text=Đã khôi phục")
    assert "Thử e2e" not in station.path.read_text(encoding="utf-8")
    shoot(page, "06-phien-ban")
    page.close()


ADMIN_SCHEDULE = {
    "station": {"name": "Đài thử", "loudness": -16},
    "bulletins": {b: {"title": b, "text": f"Bản tin {b}."} for b in ("tin-a", "tin-b", "tin-c")},
    "slots": [{"name": "Sáng", "at": "06:00", "days": ["t2"], "play": ["tin-a", "tin-b", "tin-c"]}],
}


@pytest.fixture
def desk_only(station):
    """`broadcaster desk` alone (the admin pages need no daemon), one admin."""
    listen = f"127.0.0.1:{free_port()}"
    document = {**ADMIN_SCHEDULE, "station": {**ADMIN_SCHEDULE["station"], "state_dir": str(station.state)}}
    station.path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    accounts = Accounts(station.state)
    accounts.add("an", "quan-tri", "mat-khau-dai")
    accounts.close()
    with serving(["desk", "--schedule", str(station.path), "--listen", listen], listen,
                 station.folder / "desk.log") as url:
        yield url


def play_order(page) -> list[str]:
    return [i.get_attribute("value") for i in page.query_selector_all("#play-list input[name=play]")]


def centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def touch_drag(page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    """A finger drag, through Chromium's own touch input (Playwright has taps, not touch drags)."""
    cdp = page.context.new_cdp_session(page)
    send = lambda kind, x, y: cdp.send("Input.dispatchTouchEvent", {     # noqa: E731
        "type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
    send("touchStart", *start)
    for n in range(1, steps + 1):
        send("touchMove", start[0] + (end[0] - start[0]) * n / steps, start[1] + (end[1] - start[1]) * n / steps)
    send("touchEnd", *end)
    cdp.detach()


def test_admin_pages_and_drag_and_drop_on_a_phone(station, desk_only, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    asked = []                                                  # the confirm() before revoke and delete
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(desk_only + "/login")
    page.fill("input[name=name]", "an")
    page.fill("input[name=password]", "mat-khau-dai")
    page.click("button[type=submit]")
    page.wait_for_selector("#live")

    # drag and drop the slot's bulletins at 360 px: with a mouse, then with a finger
    page.goto(desk_only + "/slots/edit?name=Sáng")
    assert play_order(page) == ["tin-a", "tin-b", "tin-c"]
    page.locator("#play-add").scroll_into_view_if_needed()     # the list lies below the fold on a phone
    x, y = centre(page, "#play-list li:nth-child(3) .grip")
    _, top = centre(page, "#play-list li:nth-child(1) .grip")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, top - 10, steps=8)
    page.mouse.up()
    assert play_order(page) == ["tin-c", "tin-a", "tin-b"]
    start = centre(page, "#play-list li:nth-child(2) .grip")                     # tin-a, by touch
    _, bottom = centre(page, "#play-list li:nth-child(3) .grip")
    scrolled = page.evaluate("window.scrollY")
    touch_drag(page, start, (start[0], bottom + 15))
    assert play_order(page) == ["tin-c", "tin-b", "tin-a"]
    assert page.evaluate("window.scrollY") == scrolled           # the finger dragged, the page did not scroll
    page.click("#play-list li:nth-child(2) .move-down")          # the buttons still work
    assert play_order(page) == ["tin-c", "tin-a", "tin-b"]
    assert page.inner_text("#play-status") == "tin-b: vị trí 3/3"      # said to screen readers
    assert page.evaluate("document.documentElement.scrollWidth") <= 360          # nothing wider than the phone
    shoot(page, "07-keo-tha")
    page.set_viewport_size({"width": 360, "height": 740})
    page.click("button:has-text('Lưu')")
    page.wait_for_selector("text=Đã lưu")
    assert yaml.safe_load(station.path.read_text(encoding="utf-8"))["slots"][0]["play"] == ["tin-c", "tin-a", "tin-b"]

    # a campaign counting two of the slot's bulletins, named on the slot's form
    page.click("nav a:has-text('Chiến dịch')")
    page.click("a:has-text('Chiến dịch mới')")
    page.fill("#campaign-form input[name=id]", "cchc")
    page.fill("#campaign-form input[name=title]", "Cải cách hành chính")
    page.check("#campaign-bulletins input[value=tin-a]")
    page.check("#campaign-bulletins input[value=tin-b]")
    page.fill("input[name=target_amount]", "0")
    page.click("#campaign-form button[type=submit]")
    assert "0" in page.inner_text("#target ~ .problem")          # at least one broadcast
    page.fill("input[name=target_amount]", "5")
    page.select_option("select[name=target_per]", "month")
    page.click("#campaign-form button[type=submit]")
    page.wait_for_selector("text=Đã lưu")
    shoot(page, "10-chien-dich")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(desk_only + "/slots/edit?name=Sáng")
    assert page.inner_text("#slot-campaigns a") == "cchc"
    assert yaml.safe_load(station.path.read_text(encoding="utf-8"))["campaigns"]["cchc"]["target"] == {
        "broadcasts": 5, "per": "month"}

    # station settings: a problem beside its field, then a save
    page.click("nav a:has-text('Cài đặt đài')")
    page.fill("#f-loudness", "3")
    page.click("#settings-form button[type=submit]")
    problem = page.wait_for_selector("#f-loudness ~ .problem")
    assert "-40" in problem.inner_text() and "-5" in problem.inner_text()
    assert page.is_visible("#fixed:has-text('state_dir')")
    shoot(page, "08-cai-dat")
    page.set_viewport_size({"width": 360, "height": 740})
    page.fill("#f-loudness", "-14")
    page.fill("#f-speech\\.espeak_speed", "120")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("text=Đã lưu")
    station_block = yaml.safe_load(station.path.read_text(encoding="utf-8"))["station"]
    assert (station_block["loudness"], station_block["speech"]) == (-14, {"espeak_speed": 120})

    # users: add, change the role, a token shown once and revoked, a password reset, delete
    page.goto(desk_only + "/admin")
    page.fill("#add-user input[name=name]", "dung")
    page.select_option("#add-user select[name=role]", "bien-tap")
    page.fill("#add-user input[name=password]", "mat-khau-dung")
    page.click("#add-user button[type=submit]")
    page.wait_for_selector("h1:has-text('dung')")
    page.select_option("#role-form select", "xem")
    page.click("#role-form button")
    page.wait_for_selector("text=Đã đổi vai trò")
    page.click("button:has-text('Tạo mã API')")
    token = page.inner_text("#token")
    assert token.startswith("bdk_")
    assert page.request.get(desk_only + "/api/status", headers={"Authorization": f"Bearer {token}"}).ok
    page.goto(desk_only + "/admin/users/dung")
    assert token not in page.content()
    page.click("#tokens button:has-text('Thu hồi')")
    page.wait_for_selector("text=Đã thu hồi")
    assert page.request.get(desk_only + "/api/status", headers={"Authorization": f"Bearer {token}"}).status == 401
    page.fill("#password-form input[name=password]", "mat-khau-moi-1")
    page.fill("#password-form input[name=password2]", "mat-khau-moi-1")
    page.click("#password-form button")
    page.wait_for_selector("text=Đã đặt mật khẩu mới")
    shoot(page, "09-nguoi-dung")
    page.click("#delete-form button")
    page.wait_for_selector("text=Đã xóa người dùng dung")
    assert asked == ["Thu hồi #1?", "Xóa người dùng dung?"]
    assert "dung" not in page.inner_text("#users")
    # the last admin cannot demote themself: refused beside the role field
    page.goto(desk_only + "/admin/users/an")
    page.select_option("#role-form select", "xem")
    page.click("#role-form button")
    assert "cuối cùng" in page.inner_text("#role-form + .problem")
    context.close()
