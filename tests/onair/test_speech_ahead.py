"""The daemon keeps speech ahead of time: started with the station, told of every reload, stopped with it.

Google is faked at the HTTP transport (the speech tests' endpoint); the station is the real daemon
with the tone renderer, so only the speech cache shows what speech ahead did.
"""

from __future__ import annotations

from tests.onair.conftest import wait_for
from tests.speech.conftest import google, mp3_bytes  # noqa: F401  (fixtures: the faked Google endpoint)


def test_the_station_prepares_its_bulletins_and_again_after_an_edit(google, folder, run_station):  # noqa: F811
    slots = [{"name": "Sáng", "at": "06:00", "play": ["tin"]}]
    folder.write({"tin": {"title": "Tin", "text": "Xin chào bà con."}}, slots)
    station = run_station(folder.load(), speech_ahead=True)
    wait_for(lambda: google.texts == ["Xin chào bà con."], timeout=30)
    wait_for(lambda: station.ahead.voice("Xin chào bà con.").ready)
    assert station.ahead.voice("Xin chào bà con.").engine == "gtts"

    folder.write({"tin": {"title": "Tin", "text": "Lịch họp mới."}}, slots)     # the watcher reloads it
    wait_for(lambda: google.texts[-1:] == ["Lịch họp mới."], timeout=30)
    thread = station.ahead._thread
    station.stop()
    assert thread is not None and not thread.is_alive()


def test_without_speech_ahead_nothing_asks_google(google, folder, run_station):  # noqa: F811
    folder.write({"tin": {"title": "Tin", "text": "Xin chào."}}, [{"name": "Sáng", "at": "06:00", "play": ["tin"]}])
    station = run_station(folder.load())
    assert station.ahead is None and google.requests == []
