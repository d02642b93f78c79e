"""The voice check with Google's endpoint faked at the HTTP transport (gTTS's own code runs)."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests

from broadcaster.health import Monitor
from broadcaster.health.checks import load_for_status
from broadcaster.speech import speaker_for
from tests.health.conftest import TZ, check, metric

TEXT = "Xin chào bà con."


def test_google_unreachable(station, timedatectl, offline, capsys, english):
    station.write(engines=("gtts", "espeak-ng"), text=TEXT)
    code, report = station.status(capsys)
    voice = check(report, "voice")
    assert (code, voice["state"]) == (1, "warning"), report
    assert voice["message"] == ("Google's voice is unreachable (cannot connect: network or DNS); 1 broadcast(s) "
                                "in the next 24 hours would be spoken by the offline voice if rendered now. "
                                "Check the Internet connection.")
    assert metric(report, "broadcaster_check_state", check="voice") == 1
    schedule, _ = load_for_status(station.path)
    speech = speaker_for(schedule).speak(TEXT)          # a render meanwhile: gTTS fails, eSpeak NG speaks
    assert speech.engine == "espeak-ng"
    code, report = station.status(capsys)
    assert "DNS), rested since " in check(report, "voice")["message"]
    assert "(0 min); 1 broadcast(s)" in check(report, "voice")["message"]


def test_google_back_after_a_failure(station, timedatectl, google, capsys, english):
    station.write(engines=("gtts", "espeak-ng"), text=TEXT)
    schedule, source = load_for_status(station.path)
    google.then(requests.exceptions.ConnectionError("Name or service not known"))
    assert speaker_for(schedule).speak(TEXT).engine == "espeak-ng"
    code, report = station.status(capsys)
    voice = check(report, "voice")
    assert (code, voice["state"]) == (1, "warning")
    assert "failed at" in voice["message"] and "is rested until" in voice["message"], voice
    now = datetime.now(TZ)
    later = now + timedelta(minutes=6)                    # past the 5-minute rest
    monitor = Monitor(schedule, source, outputs=[], clock=lambda: later)
    [status] = monitor.check_cheap(["voice"])
    assert status.state.label == "ok" and status.message == "Google's voice is reachable."
    speaker = speaker_for(schedule)
    speaker.clock = lambda: later.timestamp()             # the speaker rests gTTS on its own clock
    assert speaker.speak(TEXT).engine == "gtts"
    code, report = station.status(capsys)
    assert (code, check(report, "voice")["state"]) == (0, "ok"), report


def test_unreachable_for_an_hour_is_one_log_line(station, offline, caplog, english):
    import logging

    station.write(engines=("gtts", "espeak-ng"), text=TEXT)
    schedule, source = load_for_status(station.path)
    now = datetime.now(TZ)
    clock = {"now": now}
    monitor = Monitor(schedule, source, outputs=[], clock=lambda: clock["now"])
    caplog.set_level(logging.INFO, logger="broadcaster.health.base")
    for _ in range(60):
        monitor.check_cheap(["voice"])
        clock["now"] += timedelta(minutes=1)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("health: voice warning: Google's voice is unreachable")
    assert len(offline.requests) == 0           # probing never spoke: no text went to Google
