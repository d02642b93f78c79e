"""Desk requests resolved against the schedule (pure): names, levels, ad-hoc emergencies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.errors import OnAirError
from broadcaster.onair.requests import resolve_emergency, resolve_play
from broadcaster.onair.queue import Kind
from broadcaster.schedule.model import Bulletin, Priority, Schedule, Slot, Station

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 3, 4, 7, 5, 9, tzinfo=TZ)


@pytest.fixture
def schedule(tmp_path: Path) -> Schedule:
    bulletins = {
        "chao": Bulletin("chao", "Chào", text="Xin chào."),
        "lu": Bulletin("lu", "Lũ", text="Nước lên.", priority=Priority.PRIORITY),
    }
    slots = (Slot("Sang", at=(), play=("chao", "lu")),)
    return Schedule(tmp_path / "schedule.yaml", Station("Đài", TZ, tmp_path / "var"), bulletins, slots)


def test_play_a_bulletin_or_a_slot(schedule):
    one = resolve_play(schedule, "chao")
    assert (one.kind, one.name, [b.id for b in one.bulletins], one.priority) == (Kind.MANUAL, "chao", ["chao"], Priority.NORMAL)
    slot = resolve_play(schedule, "Sang")
    assert [b.id for b in slot.bulletins] == ["chao", "lu"] and slot.priority is Priority.PRIORITY


def test_unknown_name_lists_what_exists(schedule):
    with pytest.raises(OnAirError, match="khong-co.*chao, lu, Sang"):
        resolve_play(schedule, "khong-co")


def test_ad_hoc_emergency_text(schedule):
    request = resolve_emergency(schedule, text="  Bão số 3 đổ bộ  ", bulletin=None, title=None, now=NOW)
    (item,) = request.bulletins
    assert request.kind is Kind.EMERGENCY and request.priority is Priority.EMERGENCY
    assert (item.id, item.text, item.priority) == ("emergency-20240304-070509", "Bão số 3 đổ bộ", Priority.EMERGENCY)
    assert item.title


def test_bulletin_raised_to_emergency(schedule):
    request = resolve_emergency(schedule, text=None, bulletin="lu", title=None, now=NOW)
    assert request.bulletins[0].priority is Priority.EMERGENCY and request.bulletins[0].text == "Nước lên."
    assert schedule.bulletins["lu"].priority is Priority.PRIORITY      # the schedule itself is unchanged


@pytest.mark.parametrize("text, bulletin", [(None, None), ("   ", None), (None, "khong-co")])
def test_bad_emergency_requests(schedule, text, bulletin):
    with pytest.raises(OnAirError):
        resolve_emergency(schedule, text=text, bulletin=bulletin, title=None, now=NOW)
