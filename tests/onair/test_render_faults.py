"""Rendering when the disk refuses it: the speech already cached on the disk, memory, or the parts aired straight.

Real tmpfs mounts (filled or read-only), real worker processes with the real programme stage,
ffmpeg and eSpeak NG; Google's endpoint is faked at the HTTP transport only (`responses`),
and is unreachable inside the render workers, so a Google voice on air can only come from the
cache on the disk.
"""

from __future__ import annotations

import subprocess
import time
import wave
from datetime import datetime, timedelta

import numpy as np
import pytest
import responses

from broadcaster.asrun.log import Status
from broadcaster.onair.render import NoRoom, Prerenderer, RenderJob
from broadcaster.speech import speaker_for
from tests.filesystems import small_disk  # noqa: F401  (fixture)
from tests.onair.conftest import TZ, clock_in, wait_for
from tests.onair.tones import dominant_hertz, gtts_down_renderer, tone_renderer, wav_seconds
from tests.speech.conftest import FakeGoogle, mp3_bytes  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

TEXT = "Xin chào bà con."
GOOGLE_FIRST = {"engines": ["gtts", "espeak-ng"], "gtts_retries": 0, "gtts_timeout": 2}


def loudness(path) -> float:
    """RMS of a 16-bit WAV, full scale 1.0."""
    with wave.open(str(path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64) / 32768
    return float(np.sqrt(np.mean(samples ** 2)))


@pytest.fixture(autouse=True)
def english():
    from broadcaster import i18n

    i18n.set_language("en")
    yield
    i18n.set_language(None)


def test_full_disk_renders_in_memory_from_the_speech_google_spoke_before(folder, run_station, small_disk,
                                                                        mp3_bytes, caplog):  # noqa: F811
    folder.state = small_disk.path
    folder.write({"chao": {"text": TEXT}}, [{"name": "Sang", "at": clock_in(7), "play": ["chao"]}],
                 speech=GOOGLE_FIRST)
    schedule = folder.load()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:   # yesterday, Google answered
        FakeGoogle(mock, mp3_bytes)
        assert speaker_for(schedule).speak(TEXT).engine == "gtts"
    small_disk.fill()                                    # today the disk is full and Google is unreachable
    station = run_station(schedule, renderer=gtts_down_renderer)
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status is Status.PLAYED], timeout=30)[0]
    assert row.engine == "gtts" and "offline" not in row.error   # Google's voice, from the disk's cache
    assert abs((row.started - row.scheduled).total_seconds()) < 1.0
    assert "rendered in memory" in caplog.text
    assert not list((small_disk.path / "programmes").glob("*.wav"))


def test_a_render_memory_cannot_hold_fails_at_once_without_retries(folder, small_disk):
    folder.write({"a": {"text": "0.5s 440Hz"}}, [{"name": "Sang", "at": "06:00", "play": ["a"]}])
    schedule = folder.load()
    (small_disk.path / "programmes").mkdir()
    small_disk.fill()
    prerenderer = Prerenderer(tone_renderer, small_disk.path / "programmes", clock=lambda: datetime.now(TZ),
                              retry_delay=timedelta(seconds=30), memory=small_disk.path / "memory")
    try:
        job = RenderJob("Sang@x", "Sang", (schedule.bulletins["a"],), schedule)
        future = prerenderer.request(job, deadline=datetime.now(TZ) + timedelta(minutes=5))
        with pytest.raises(NoRoom, match="no room to render in memory"):
            future.result(timeout=10)                    # not after a 30 s retry
    finally:
        prerenderer.close()


def test_with_disk_and_memory_full_recordings_and_texts_air_straight_from_their_parts(
        folder, run_station, small_disk, tmp_path):
    clip = folder.folder / "ghi-am.mp3"                  # a recorded bulletin: 1.5 s at 440 Hz, MP3, 30 dB too quiet
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5",
                    "-af", "volume=-30dB", "-ac", "1", "-codec:a", "libmp3lame", str(clip)], check=True)
    folder.state = small_disk.path
    folder.write({"ghi": {"audio": clip.name}, "doc": {"text": "Mời bà con họp lúc 7h00.", "repeat": 2}},
                 [{"name": "Ghi am", "at": clock_in(5), "play": ["ghi"]},
                  {"name": "Doc", "at": clock_in(9), "play": ["doc"]}])
    schedule = folder.load()
    small_disk.fill()                                    # the disk, and the memory renders would go to, are full
    station = run_station(schedule, memory=small_disk.path / "memory")
    rows = wait_for(lambda: len(r := [r for r in station.asrun.history() if r.status is Status.PLAYED]) == 2 and r,
                    timeout=30)
    by_slot = {r.slot: r for r in rows}
    assert by_slot["Ghi am"].engine == "audio" and "recording" in by_slot["Ghi am"].error
    assert by_slot["Doc"].engine == "espeak-ng" and "offline voice read live" in by_slot["Doc"].error
    assert all(abs((r.started - r.scheduled).total_seconds()) < 1.0 for r in rows)
    recording, spoken = folder.aired_files()
    assert dominant_hertz(recording, start=0.5) == 440 and 1.4 < wav_seconds(recording) < 2.0
    assert loudness(recording) > 0.05                     # levelled live by ffmpeg (as recorded: 0.003)
    # Read twice with "Xin nhắc lại" between, all by eSpeak NG through its stdout: seconds of speech.
    assert wav_seconds(spoken) > 4.0 and loudness(spoken) > 0.02
    assert not [p for p in small_disk.path.rglob("*") if p.is_file() and p.name != ".filler"
                and p.suffix in (".wav", ".f32") and p.stat().st_size]     # no sound was written on the full disk


def test_an_emergency_cuts_into_a_programme_airing_from_its_parts_and_it_airs_again(folder, run_station, small_disk):
    from broadcaster.onair.requests import resolve_emergency

    folder.state = small_disk.path
    text = "Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi tại trạm y tế xã vào sáng thứ hai tuần tới."
    folder.write({"dai": {"text": text}}, [{"name": "Dai", "at": clock_in(4), "play": ["dai"]}])
    schedule = folder.load()
    small_disk.fill()                                    # no render anywhere: both air from their parts
    station = run_station(schedule, memory=small_disk.path / "memory")
    wait_for(lambda: station.playout.status()["current"], timeout=15)
    wait_for(lambda: folder.aired.exists() and list(folder.aired.glob(".*.part")), timeout=5)
    station.submit(resolve_emergency(schedule, text="Bão số 3 sắp đổ bộ.", bulletin=None, title=None,
                                     now=station.now()))
    rows = wait_for(lambda: (r := station.asrun.history()) and all(x.status.value != "playing" for x in r)
                    and any(x.slot == "Dai" and x.status is Status.LATE for x in r) and r, timeout=40)
    assert [(r.slot, r.status, r.attempts) for r in sorted(rows, key=lambda r: r.started)] == [
        ("emergency", Status.PLAYED, 1), ("Dai", Status.LATE, 2)]      # cut, then aired again after it: one row
    cut, warning, again = folder.aired_files()
    assert wav_seconds(cut) < wav_seconds(again) - 1.0    # faded out early, then read whole
    assert all(loudness(p) > 0.02 for p in (cut, warning, again))


def hanging_renderer(job, out):
    """A render that does not finish in time, like one writing to a hung disk (a render worker)."""
    time.sleep(60)
    return tone_renderer(job, out)


def test_the_queue_takes_an_entry_still_rendering_once_its_wait_is_over():
    from concurrent.futures import Future

    from broadcaster.onair.queue import Entry, Kind, PlayQueue
    from broadcaster.schedule.model import Priority

    air, lead, wait = datetime(2023, 1, 16, 6, 0, tzinfo=TZ), timedelta(seconds=1), timedelta(seconds=60)
    queue = PlayQueue()
    entry = queue.push(Entry(key="k", kind=Kind.SCHEDULED, slot="s", bulletins=("a",), priority=Priority.NORMAL,
                             scheduled=air, audio=Future(), start_at=air))
    assert queue.take(air, lead, wait) is None and queue.take(air + timedelta(seconds=59.9), lead, wait) is None
    assert queue.take(air + wait, lead) is None                  # without a wait: only rendered entries
    assert queue.best_ready(air + wait, lead, wait) is entry and queue.take(air + wait, lead, wait) is entry


def test_a_render_that_hangs_does_not_hold_the_air_it_airs_from_its_parts(folder, run_station):
    folder.write({"chao": {"text": "Xin chào bà con."}}, [{"name": "Treo", "at": clock_in(4), "play": ["chao"]}])
    station = run_station(folder.load(), renderer=hanging_renderer, render_wait=timedelta(seconds=1))
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status in (Status.PLAYED, Status.LATE)],
                   timeout=20)[0]
    assert row.engine == "espeak-ng" and "still not rendered 1 s after its time" in row.error
    assert (row.started - row.scheduled).total_seconds() < 3.0       # 1 s of waiting, then the parts
    assert wav_seconds(folder.aired_files()[0]) > 0.8


def test_a_file_ffmpeg_cannot_level_airs_as_it_is(folder, monkeypatch):
    from broadcaster.onair import direct
    from broadcaster.output.source import WavSource

    folder.write({"a": {"text": "x"}}, [{"name": "Sang", "at": "06:00", "play": ["a"]}])
    clip = folder.folder / "clip.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5",
                    "-ac", "1", "-ar", "48000", str(clip)], check=True)
    monkeypatch.setattr(direct, "filter_chain", lambda *args: "no_such_filter")   # ffmpeg's filters fail for real
    source = direct._levelled(clip, folder.load(), lambda: WavSource(clip))()
    try:
        assert isinstance(source, WavSource) and source.program_frames == 24_000
    finally:
        source.close()
