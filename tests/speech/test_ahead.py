"""Speech ahead of time, through an outage of the faked Google endpoint, on an injected clock.

The scenes of issue 11: bulletins saved before an outage air in Google's voice during it; ones
written during it air in the offline voice and are upgraded once Google answers again; a 429
storm slows the backlog without ever making an air-time render wait or lose Google's voice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from broadcaster.schedule import check_schedule, load_schedule
from broadcaster.speech.ahead import BACKOFF_FIRST, SpeechAhead, texts_ahead
from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.gtts_engine import GttsEngine
from broadcaster.speech.speaker import CachedSpeaker, make_normalizer

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MIDNIGHT = datetime(2024, 3, 4, tzinfo=ZONE)            # a Monday
DOWN = requests.exceptions.ConnectionError("Name or service not known")


def at(hours: float) -> float:
    return (MIDNIGHT + timedelta(hours=hours)).timestamp()


def write_schedule(folder: Path, texts: dict[str, str], *, ahead: str = "", repeat: int = 1) -> Path:
    bulletins = "".join(f"  {bid}:\n    title: {bid}\n    text: \"{text}\"\n    repeat: {repeat}\n"
                        for bid, text in texts.items())
    path = folder / "schedule.yaml"
    path.write_text(
        "station:\n  name: Đài thử\n  timezone: Asia/Ho_Chi_Minh\n"
        f"  speech:\n    engines: [gtts, espeak-ng]\n{ahead}"
        f"bulletins:\n{bulletins}"
        f"slots:\n  - name: Sáng\n    at: \"06:00\"\n    play: [{', '.join(texts)}]\n", "utf-8")
    return path


class World:
    """The station's cache, a clock that only moves when told, and speakers like the daemon's."""

    def __init__(self, folder: Path, clock) -> None:
        self.folder = folder
        self.clock = clock
        self.cache = SpeechCache(folder / "cache")
        self.waits: list[float] = []

    def speaker(self, schedule=None) -> CachedSpeaker:
        gtts = GttsEngine(timeout=4.0, retries=0, sleep=lambda s: None)
        return CachedSpeaker([gtts, EspeakEngine()], self.cache, make_normalizer(None), clock=self.clock)

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)

    def ahead(self, **kwargs) -> SpeechAhead:
        return SpeechAhead(self.speaker, clock=self.clock, wait=self.wait, **kwargs)


@pytest.fixture
def world(tmp_path, clock) -> World:
    clock.now = at(0)
    return World(tmp_path, clock)


def run_until_settled(ahead: SpeechAhead, world: World, limit: int = 50) -> list[str]:
    """Step like the background thread does (waits advance the clock) until idle or resting."""
    done = []
    for _ in range(limit):
        step = ahead.step()
        done.append(step.done)
        if step.done in ("idle", "resting", "failed", "rate-limited", "off"):
            return done
        world.wait(step.wait)
    raise AssertionError(f"never settled: {done}")


def test_saved_before_the_outage_airs_in_googles_voice_during_it(google, world):
    schedule = load_schedule(write_schedule(world.folder, {"tin-a": "Xin chào bà con. Lịch họp tổ dân phố."}))
    ahead = world.ahead()
    ahead.update(schedule)
    assert run_until_settled(ahead, world) == ["prepared", "idle"]
    sent = len(google.requests)
    assert sent == 2                                   # one request per sentence

    world.clock.now = at(4)                            # 04:00 the internet goes down
    google.default = DOWN
    world.clock.now = at(5.5)                          # 05:30 the programme is rendered for 06:00
    speech = world.speaker().speak(schedule.bulletins["tin-a"].text)
    assert (speech.engine, speech.fallback_reason) == ("gtts", None)
    assert len(google.requests) == sent                # aired from the cache, no network needed


def test_written_during_the_outage_airs_offline_then_is_upgraded(google, world):
    google.default = DOWN
    world.clock.now = at(4.5)                          # 04:30, no internet: a new bulletin is saved
    texts = {"tin-b": "Thông báo lịch tiêm phòng."}
    schedule = load_schedule(write_schedule(world.folder, texts))
    ahead = world.ahead()
    ahead.update(schedule)
    assert run_until_settled(ahead, world) == ["failed"]
    step = ahead.step()
    assert step.done == "resting" and 0 < step.wait <= 300
    assert ahead.voice(texts["tin-b"]).engine == "espeak-ng"

    world.clock.now = at(5.5)                          # 05:30 air-time render: the offline voice
    assert world.speaker().speak(texts["tin-b"]).engine == "espeak-ng"
    tries = len(google.requests)

    world.clock.now = at(8)                            # 08:00 the internet is back
    google.default = "ok"
    assert run_until_settled(ahead, world) == ["prepared", "idle"]
    assert len(google.requests) == tries + 1
    assert ahead.voice(texts["tin-b"]).engine == "gtts"
    world.clock.now = at(29.5)                         # next morning's render finds Google's voice
    google.default = DOWN
    speech = world.speaker().speak(texts["tin-b"])
    assert (speech.engine, speech.fallback_reason) == ("gtts", None)


def test_a_429_storm_slows_the_backlog_but_never_an_air_time_render(google, world):
    texts = {f"tin-{n}": f"Bản tin số {n} của xã." for n in range(1, 6)}
    schedule = load_schedule(write_schedule(world.folder, texts))
    ahead = world.ahead(pace=3.0)
    ahead.update(schedule)
    google.then(429, "ok", 429, 429)
    waits = []
    for _ in range(3):
        step = ahead.step()
        assert step.done == "rate-limited"
        waits.append(step.wait)
        if len(waits) == 1:
            # Right after the 429 an air-time render still asks Google (the back-off is the
            # background's alone: nothing rests), at once (no wait), and gets Google's voice.
            station = world.speaker()
            assert station.resting_for(station.engines[0]) == 0
            before = list(world.waits)
            assert station.speak("Tin bão khẩn cấp.").engine == "gtts"
            assert world.waits == before
        world.wait(step.wait)
    assert waits == [BACKOFF_FIRST, 2 * BACKOFF_FIRST, 4 * BACKOFF_FIRST]
    assert len(google.requests) == 4                   # one try per back-off, and the air-time one
    world.waits.clear()
    assert run_until_settled(ahead, world) == ["prepared"] * 5 + ["idle"]
    assert sum(world.waits) >= 4 * 3.0                 # five requests spread over the pace


def test_nothing_is_asked_while_air_time_work_runs(google, world):
    schedule = load_schedule(write_schedule(world.folder, {"tin": "Xin chào."}))
    busy = [True]
    ahead = world.ahead(busy=lambda: busy[0])
    ahead.update(schedule)
    assert ahead.step().done == "busy"
    assert google.requests == []
    busy[0] = False
    assert run_until_settled(ahead, world) == ["prepared", "idle"]


def test_a_reload_with_new_text_is_prepared_at_once(google, world):
    ahead = world.ahead()
    ahead.update(load_schedule(write_schedule(world.folder, {"tin": "Xin chào."})))
    run_until_settled(ahead, world)
    ahead.update(load_schedule(write_schedule(world.folder, {"tin": "Xin chào bà con."})))
    assert run_until_settled(ahead, world) == ["prepared", "idle"]
    assert google.texts[-1] == "Xin chào bà con."


def test_the_horizon_bounds_what_is_prepared(tmp_path):
    path = write_schedule(tmp_path, {"a": "Một.", "b": "Hai."}, ahead="    ahead: 0.5\n", repeat=2)
    text = path.read_text("utf-8").replace("play: [a, b]", "play: [a]\n  - name: Xa\n    dates: [2024-03-20]"
                                           "\n    at: \"07:00\"\n    play: [b]")
    path.write_text(text, "utf-8")
    schedule = load_schedule(path)
    assert schedule.station.speech.ahead == 0.5
    items = texts_ahead(schedule, MIDNIGHT, schedule.station.speech.ahead)
    assert [(i.source, i.text, i.airs.hour) for i in items] == [("a", "Một.", 6), ("repeat_bridge", "Xin nhắc lại", 6)]
    later = texts_ahead(schedule, MIDNIGHT, 20)
    assert [i.source for i in later] == ["a", "repeat_bridge", "b"]


def test_ahead_zero_turns_it_off(google, world):
    schedule = load_schedule(write_schedule(world.folder, {"tin": "Xin chào."}, ahead="    ahead: 0\n"))
    ahead = world.ahead()
    ahead.update(schedule)
    assert ahead.step().done == "off" and google.requests == []


@pytest.mark.parametrize("value, key", [("-1", "number.range"), ("soon", "type.number")])
def test_a_bad_horizon_is_reported_at_its_line(tmp_path, value, key):
    path = write_schedule(tmp_path, {"tin": "Xin chào."}, ahead=f"    ahead: {value}\n")
    schedule, problems = check_schedule(path)
    assert schedule is None
    assert [(p.line, p.column, p.key) for p in problems] == [(6, 12, key)]
