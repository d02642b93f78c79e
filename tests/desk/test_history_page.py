"""The Nhật ký page shows what each as-run row went through: its attempts ("lần 2"), its note
(the earlier tries, under the row) and rows still waiting in the daemon's journal, escaped."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from broadcaster.asrun import AsRunLog, Status, log_path
from broadcaster.asrun.journal import STATE_NAME
from tests.desk.conftest import PASSWORDS, USERS, login
from tests.desk.helpers import free_port, serving

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
HOSTILE = "<script>alert(1)</script> thẻ âm thanh"


def _retried_row(state) -> None:
    """One occurrence that failed on the device once, then aired: one row, 2 attempts, a note."""
    when = datetime(2023, 1, 10, 6, tzinfo=ZONE)
    fields = dict(key=f"Bản tin sáng@{when.isoformat()}", kind="scheduled", slot="Bản tin sáng",
                  bulletins=("tin-sang",), priority="normal", scheduled=when, engine="espeak-ng")
    with AsRunLog(log_path(state)) as asrun:
        first = asrun.start(started=when, **fields)
        asrun.finish(first, ended=when + timedelta(seconds=1), status=Status.FAILED, error=HOSTILE)
        again = asrun.start(started=when + timedelta(seconds=3), **fields)
        asrun.finish(again, ended=when + timedelta(seconds=60), status=Status.PLAYED)
    with AsRunLog(log_path(state), readonly=True) as asrun:
        [row] = asrun.history()
    assert (row.attempts, row.status) == (2, Status.PLAYED) and HOSTILE in row.note


def _journal_row(state) -> None:
    """A row the daemon could not write to the log yet (it waits in the journal)."""
    fields = {"key": "Bản tin sáng@2023-01-11T06:00:00+07:00", "kind": "scheduled", "slot": "Bản tin sáng",
              "bulletins": "tin-sang", "priority": "normal", "scheduled": "2023-01-11T06:00:00.000+07:00",
              "scheduled_utc": 1673391600.0, "started": "2023-01-11T06:00:00.010+07:00",
              "ended": "2023-01-11T06:01:00.000+07:00", "status": "played", "engine": "espeak-ng", "error": None}
    (state / STATE_NAME).write_text(json.dumps({"run": "r", "op": "row", "handle": -1, "fields": fields}) + "\n",
                                    encoding="utf-8")


def _rows(page: str) -> list[str]:
    """The table's rows as the page has them (a row's note is a row of its own, class "note")."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [part.split("</tr>", 1)[0] for part in body.split("<tr ")[1:]]


def test_the_history_page_shows_attempts_note_and_pending_rows(station):
    """Through a real `broadcaster desk`: the retried row says "lần 2" and its note (the first try's
    error, escaped) under it; a journal row is marked as not written to the log yet."""
    from broadcaster.desk.accounts import Accounts

    accounts = Accounts(station.state)
    accounts.add(USERS["xem"], "xem", PASSWORDS["xem"])
    accounts.close()
    _retried_row(station.state)
    listen = f"127.0.0.1:{free_port()}"
    with serving(["desk", "--schedule", str(station.path), "--listen", listen], listen,
                 station.folder / "desk.log", timeout=30) as url, httpx.Client(base_url=url, timeout=20) as client:
        assert login(client, USERS["xem"], PASSWORDS["xem"]).status_code == 303
        page = client.get("/history", params={"from": "2023-01-01", "to": "2023-01-31"}).text
        row, note = _rows(page)
        assert row.startswith('class="status-played"') and '<span class="chip attempts">lần 2</span>' in row
        assert "chưa ghi vào nhật ký" not in row
        assert note.startswith('class="note"') and "Ghi chú: 06:00:01 lỗi: " in note
        assert html.escape(HOSTILE, quote=False) in note and "<script>" not in page

        _journal_row(station.state)
        page = client.get("/history", params={"from": "2023-01-01", "to": "2023-01-31"}).text
        pending, row, note = _rows(page)
        assert pending.startswith('class="status-played pending"')
        assert '<span class="chip pending">chưa ghi vào nhật ký</span>' in pending and "lần" not in pending
        assert "lần 2" in row and "chưa ghi" not in row and note.startswith('class="note"')


def test_the_history_page_in_english(clients, station):
    from broadcaster import i18n

    _retried_row(station.state)
    _journal_row(station.state)
    i18n.set_language("en")
    try:
        page = clients["xem"].get("/history", params={"from": "2023-01-01", "to": "2023-01-31"}).text
    finally:
        i18n.set_language(None)
    pending, row, note = _rows(page)
    assert "not written to the log yet" in pending and "2 attempts" in row
    assert "Note: 06:00:01 " in note and "&lt;script&gt;" in note
