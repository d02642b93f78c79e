"""Fixtures for desk tests: a station folder with a commented, hand-written schedule.yaml, its
accounts (one user per role, passwords known), and a FastAPI test client per role."""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

HAND_WRITTEN = """\
# Lịch phát viết tay: chú thích, thứ tự khóa và kiểu trích dẫn phải được giữ nguyên.
station:
  name: 'Đài thử'                 # tên đài
  timezone: Asia/Ho_Chi_Minh
  state_dir: {state}

bulletins:
  # tin thường ngày
  tin-sang:
    title: "Tin buổi sáng"
    text: |
      Thực hiện Kế hoạch số 06/KH-UBND ngày 17/01/2023 của UBND xã.
      Bà con chú ý.
  tin-file:
    title: Tin từ tệp
    text_file: bulletins/tin-file.txt
  tin-le:                         # chưa khung giờ nào dùng
    title: Tin lẻ
    text: Xin chào bà con.
    repeat: 2

slots:
  - name: Bản tin sáng            # khung chính
    at: "06:00"
    days: [t2, t3, t4, t5, t6]
    play: [tin-sang, tin-file]
  - name: 'Bản tin tối'
    at: ["19:00", "20:30"]
    days: [cn]
    except: ["2023-01-20..2023-01-26"]   # Tết
    play:
      - tin-sang
"""

PASSWORDS = {"quan-tri": "admin-pass-1", "bien-tap": "editor-pass-1", "xem": "viewer-pass-1"}
USERS = {"quan-tri": "an", "bien-tap": "binh", "xem": "chi"}


class Station:
    def __init__(self, folder: Path, state: Path) -> None:
        self.folder = folder
        self.state = state
        self.path = folder / "schedule.yaml"
        (folder / "bulletins").mkdir()
        (folder / "bulletins" / "tin-file.txt").write_text("Lịch tiêm chủng ngày 5/9.\n", encoding="utf-8")
        self.path.write_text(HAND_WRITTEN.format(state=state), encoding="utf-8")
        self.original = self.path.read_bytes()


@pytest.fixture
def station() -> Iterator[Station]:
    # Short paths: the control socket lives in the state folder (108-byte Unix socket limit).
    folder = Path(tempfile.mkdtemp(prefix="dk-", dir="/tmp"))
    state = folder / "var"
    yield Station(folder, state)
    shutil.rmtree(folder, ignore_errors=True)


class Clock:
    """Epoch seconds the test moves by hand (session expiry, log-in throttling)."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(station, clock):
    from broadcaster.desk.accounts import Accounts

    accounts = Accounts(station.state, clock=clock)
    for role, name in USERS.items():
        accounts.add(name, role, PASSWORDS[role])
    yield accounts
    accounts.close()


@pytest.fixture
def app(station, accounts):
    from broadcaster.desk.app import create_app

    return create_app(station.path, station.state, accounts=accounts, upload_limit=2 * 1024 * 1024)


def login(client, name: str, password: str):
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf}, follow_redirects=False)


def csrf_of(client) -> str:
    return re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/bulletins").text).group(1)


@pytest.fixture
def clients(app):
    """A logged-in test client per role, plus an anonymous one, keyed by role ("anon")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    made = {}
    for role, name in USERS.items():
        client = TestClient(app)
        assert login(client, name, PASSWORDS[role]).status_code == 303
        client.headers["X-CSRF-Token"] = csrf_of(client)
        made[role] = client
    made["anon"] = TestClient(app)
    return made
