"""The schedule in force (file, last good copy, nothing) and the next broadcast's render."""

from __future__ import annotations

from datetime import timedelta

import pytest

from broadcaster.health import Monitor, RenderState, State
from broadcaster.health.checks import check_next, load_for_status, next_broadcast, rendered_on_disk
from broadcaster.onair.render import Prerenderer, RenderJob
from broadcaster.schedule import load_schedule
from broadcaster.schedule.snapshot import save_snapshot
from tests.health.conftest import at, check
from tests.onair.tones import tone_renderer


def break_file(station) -> None:
    text = station.path.read_text(encoding="utf-8")
    station.path.write_text(text.replace("play:\n  - chao", "play:\n  - khong-co"), encoding="utf-8")


def test_last_good_copy_in_force(station, timedatectl, capsys, english):
    station.write()
    good = load_schedule(station.path)
    save_snapshot(good)
    break_file(station)
    code, report = station.status(capsys)
    schedule_check = check(report, "schedule")
    assert (code, schedule_check["state"]) == (1, "warning"), report
    assert schedule_check["message"].startswith(f"{station.path} has 1 error(s) and is not in force; the station "
                                                f"airs the last good copy. {station.path}:")
    assert "khong-co" in schedule_check["message"] and "broadcaster validate" in schedule_check["message"]
    assert report["schedule_version"] == good.version          # the bytes in force, not the file's


def test_no_schedule_at_all(station, timedatectl, capsys, english):
    station.write()
    break_file(station)
    code, report = station.status(capsys)
    assert code == 2 and report["state"] == "failing"
    assert [c["name"] for c in report["checks"]] == ["clock", "schedule"]
    assert "there is no last good copy: the station stays silent" in check(report, "schedule")["message"]
    assert report["next"] is None


@pytest.mark.parametrize("before_air, state, words", [
    (timedelta(hours=3), State.OK, "its programme renders from"),
    (timedelta(minutes=10), State.WARNING, "its pre-render time has come and it is not rendered"),
    (timedelta(seconds=30), State.FAILING, "it will air late or not at all"),
], ids=["before-prerender", "rendering", "too-late"])
def test_next_not_rendered(station, english, before_air, state, words):
    station.write(at="17:00")
    schedule = load_schedule(station.path)
    now = at("2026-11-30T17:00:00") - before_air
    result = check_next(schedule, now, rendered_on_disk(schedule))
    assert result.state is state and words in result.message, result
    assert "Chiều at 2026-11-30 17:00:00" in result.message


@pytest.mark.parametrize("before_air, state, words", [
    (timedelta(minutes=10), State.OK, "programme being rendered."),
    (timedelta(seconds=30), State.WARNING, "still rendering: it may air late"),
], ids=["rendering", "rendering-late"])
def test_next_rendering(station, english, before_air, state, words):
    station.write(at="17:00")
    schedule = load_schedule(station.path)
    result = check_next(schedule, at("2026-11-30T17:00:00") - before_air, lambda occ: (RenderState.RENDERING, None))
    assert result.state is state and words in result.message, result


def test_next_rendered_by_the_prerenderer(station, timedatectl, capsys, english):
    station.write()
    schedule, source = load_for_status(station.path)
    occ = next_broadcast(schedule, at("2026-11-30T00:00:00").astimezone(schedule.station.timezone))
    now = occ.start - timedelta(hours=3)
    renders = Prerenderer(tone_renderer, schedule.station.state_dir / "programmes", clock=lambda: now)
    try:
        job = RenderJob(occ.key, occ.slot.name, (schedule.bulletins["chao"],), schedule)
        renders.request(job, deadline=occ.start).result(timeout=30)
    finally:
        renders.close()
    assert rendered_on_disk(schedule)(occ) == (RenderState.RENDERED, None)
    monitor = Monitor(schedule, source, outputs=[], clock=lambda: now, reachable=lambda: None)
    [status] = monitor.check_cheap(["next"])
    assert status.state is State.OK and status.message.endswith("programme rendered.")
    assert monitor.next_json() == {"key": occ.key, "slot": "Chiều", "start": occ.start.isoformat(),
                                   "bulletins": ["chao"], "rendered": True}
