"""ProgrammeBuilder end to end with real ffmpeg: layout, loudness, peaks, voicing, errors."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from broadcaster.errors import ProgrammeError, SpeechError
from broadcaster.programme import Programme, ProgrammeBuilder, measure
from broadcaster.schedule.model import NO_JINGLE, Bulletin, Priority, ProgrammeSettings
from tests.programme.conftest import (
    JINGLES, RATE, correlation, dominant_hz, make_schedule, read_wav, runs,
)

TEXT = "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho đàn gia súc."   # 2.5 s of fake speech
OTHER = "Chiều nay mất điện từ 14 giờ đến 16 giờ để sửa đường dây."


def jingle(name: str) -> np.ndarray:
    return read_wav(JINGLES[name])[0]


def fake_hz(speaker, text: str) -> float:
    """The pitch FakeSpeaker uses for `text`, read back from the file it writes."""
    samples, params = read_wav(speaker.speak(text).path)
    return dominant_hz(samples) * params.framerate / RATE


def test_bulletin_read_twice_between_jingles_with_configured_pauses(tmp_path, speaker):
    bulletin = Bulletin(id="tiem-phong", title="Tiêm phòng", text=TEXT, repeat=2)
    schedule = make_schedule(tmp_path, [bulletin])
    programme = ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "out.wav")

    assert speaker.calls == [TEXT, "Xin nhắc lại"]        # each text spoken once, reused
    samples, params = read_wav(programme.path)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 48_000)
    assert programme.duration == pytest.approx(params.nframes / RATE)

    p = ProgrammeSettings()
    intro, outro = len(jingle("intro")) / RATE, len(jingle("outro")) / RATE
    reading, bridge = speaker.duration_for(TEXT), speaker.duration_for(p.repeat_bridge)
    starts = [0.0]
    starts.append(starts[-1] + intro + p.pause_after_jingle)                # first reading
    starts.append(starts[-1] + reading + p.pause_between_readings)          # "Xin nhắc lại"
    starts.append(starts[-1] + bridge + p.pause_between_readings)           # second reading
    starts.append(starts[-1] + reading + p.pause_before_jingle)             # outro
    found = runs(samples)
    assert [round(start, 2) for start, _ in found] == pytest.approx(starts, abs=0.03)
    assert programme.duration == pytest.approx(starts[-1] + outro + 0.25, abs=0.03)

    # What sounds in each stretch: the chimes themselves, then the texts' own pitches.
    def at(index: int, seconds: float | None = None) -> np.ndarray:
        start = round(found[index][0] * RATE)
        end = start + round(seconds * RATE) if seconds else round(found[index][1] * RATE)
        return samples[start:end]

    assert correlation(at(0, 3.0), jingle("intro")) > 0.9
    assert correlation(at(4, 3.0), jingle("outro")) > 0.9
    assert correlation(at(0, 3.0), jingle("outro")) < 0.8      # the matcher tells them apart
    text_hz, bridge_hz = fake_hz(speaker, TEXT), fake_hz(speaker, p.repeat_bridge)
    assert dominant_hz(at(1)) == pytest.approx(text_hz, abs=2)
    assert dominant_hz(at(2)) == pytest.approx(bridge_hz, abs=4)
    assert dominant_hz(at(3)) == pytest.approx(text_hz, abs=2)


@pytest.mark.parametrize("target", [-16.0, -23.0], ids=["target-16", "target-23"])
@pytest.mark.parametrize("voicing", ["horn", "flat"])
def test_programme_lands_on_target_loudness_under_the_peak_ceiling(tmp_path, speaker, target, voicing):
    # A quiet voice next to loud jingles: levelling must bring them together.
    speaker.amplitude = 0.02
    bulletins = [Bulletin(id="a", title="A", text=TEXT, repeat=2),
                 Bulletin(id="b", title="B", text=OTHER, priority=Priority.EMERGENCY)]
    schedule = make_schedule(tmp_path, bulletins, loudness=target, voicing=voicing)
    programme = ProgrammeBuilder(schedule, speaker).render(bulletins, tmp_path / "out.wav")

    metered = measure(programme.path)
    assert abs(metered.integrated - target) <= 1.0
    assert abs(metered.integrated - target) <= 0.3      # what the builder actually achieves
    assert metered.true_peak < -1.0
    # The builder's own figures agree with the independent meter.
    assert programme.loudness == pytest.approx(metered.integrated, abs=0.1)
    assert programme.true_peak == pytest.approx(metered.true_peak, abs=0.2)


def test_each_element_is_levelled_so_no_loud_jingle_follows_a_quiet_voice(tmp_path, speaker):
    speaker.amplitude = 0.01            # -40 dBFS voice against jingles at -3 dBFS
    bulletin = Bulletin(id="a", title="A", text=TEXT * 2)
    schedule = make_schedule(tmp_path, [bulletin])
    programme = ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "out.wav")
    samples, _ = read_wav(programme.path)
    pieces = runs(samples)
    assert len(pieces) == 3

    def loudness(piece: tuple[float, float]) -> float:
        path = tmp_path / f"piece-{piece[0]}.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(programme.path),
                        "-ss", str(piece[0]), "-to", str(piece[1]), str(path)], check=True)
        return measure(path).integrated

    intro, voice, outro = (loudness(piece) for piece in pieces)
    assert abs(intro - voice) < 1.5
    assert abs(outro - voice) < 1.5


def test_intro_none_leaves_out_only_the_intro(tmp_path, speaker):
    bulletin = Bulletin(id="a", title="A", text=TEXT, intro=NO_JINGLE)
    schedule = make_schedule(tmp_path, [bulletin])
    programme = ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "out.wav")
    samples, _ = read_wav(programme.path)
    found = runs(samples)
    assert len(found) == 2
    assert found[0][0] == pytest.approx(0.0, abs=0.02)
    assert dominant_hz(samples[: round(found[0][1] * RATE)]) == pytest.approx(fake_hz(speaker, TEXT), abs=2)
    outro_start = round(found[1][0] * RATE)
    assert correlation(samples[outro_start:outro_start + 3 * RATE], jingle("outro")) > 0.9


def test_per_bulletin_jingle_override_and_station_without_outro(tmp_path, speaker):
    bulletin = Bulletin(id="a", title="A", text=TEXT, intro="outro")
    schedule = make_schedule(tmp_path, [bulletin], jingles={"outro": JINGLES["outro"]})
    programme = ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "out.wav")
    samples, _ = read_wav(programme.path)
    found = runs(samples)
    assert len(found) == 3          # the override as intro, the reading, the default outro
    assert correlation(samples[: 3 * RATE], jingle("outro")) > 0.9


def test_emergency_opens_with_alert_jingle_and_attention_tone(tmp_path, speaker):
    bulletin = Bulletin(id="bao", title="Bão", text=TEXT, priority=Priority.EMERGENCY)
    schedule = make_schedule(tmp_path, [bulletin])
    programme = ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "out.wav")
    samples, _ = read_wav(programme.path)
    found = runs(samples)
    assert len(found) == 4          # alert, attention tone, reading, outro
    assert correlation(samples[: 3 * RATE], jingle("alert")) > 0.9
    tone = samples[round(found[1][0] * RATE): round(found[1][1] * RATE)]
    assert found[1][1] - found[1][0] == pytest.approx(2.0, abs=0.05)
    spectrum = np.abs(np.fft.rfft(tone))
    strongest = sorted(np.argsort(spectrum)[-2:] * RATE / len(tone))
    assert strongest == pytest.approx([853.0, 960.0], abs=2)
    reading = samples[round(found[2][0] * RATE): round(found[2][1] * RATE)]
    assert dominant_hz(reading) == pytest.approx(fake_hz(speaker, TEXT), abs=2)


def test_recorded_audio_bulletin_is_decoded_and_aired_like_speech(tmp_path, speaker):
    # An announcer's MP3: 44.1 kHz stereo, 3 s of 440 Hz, made by ffmpeg.
    mp3 = tmp_path / "thong-bao.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100:duration=3", "-ac", "2",
                    "-codec:a", "libmp3lame", str(mp3)], check=True)
    recorded = Bulletin(id="ghi-am", title="Ghi âm", audio=mp3, repeat=2)
    spoken = Bulletin(id="noi", title="Nói", text=TEXT, intro=NO_JINGLE, outro=NO_JINGLE)
    schedule = make_schedule(tmp_path, [recorded, spoken])
    programme = ProgrammeBuilder(schedule, speaker).render_slot(schedule.slots[0], tmp_path / "out.wav")

    assert programme.engines == ("audio", "fake")
    samples, _ = read_wav(programme.path)
    found = runs(samples)
    # intro, recording, bridge, recording, outro, then the spoken bulletin
    assert len(found) == 6
    for index in (1, 3):
        piece = samples[round(found[index][0] * RATE): round(found[index][1] * RATE)]
        assert dominant_hz(piece) == pytest.approx(440, abs=2)
        assert found[index][1] - found[index][0] == pytest.approx(3.0, abs=0.1)
    assert measure(programme.path).true_peak < -1.0


def test_horn_voicing_cuts_the_lows_and_flat_leaves_them(tmp_path, speaker):
    wav = tmp_path / "hum.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=60:duration=4", "-f", "lavfi", "-i", "sine=frequency=1000:duration=4",
                    "-filter_complex", "amix=inputs=2", "-ar", "48000", str(wav)], check=True)
    bulletin = Bulletin(id="a", title="A", audio=wav, intro=NO_JINGLE, outro=NO_JINGLE)

    def low_to_mid_db(voicing: str) -> float:
        schedule = make_schedule(tmp_path, [bulletin], voicing=voicing)
        out = tmp_path / f"{voicing}.wav"
        ProgrammeBuilder(schedule, speaker).render([bulletin], out)
        samples = read_wav(out)[0][RATE: 3 * RATE]
        spectrum = np.abs(np.fft.rfft(samples)) ** 2
        hz = np.fft.rfftfreq(len(samples), 1 / RATE)
        low = spectrum[hz < 100].sum()
        mid = spectrum[(hz > 900) & (hz < 1100)].sum()
        return 10 * math.log10(low / mid)

    source = read_wav(wav)[0][RATE: 3 * RATE]
    spectrum = np.abs(np.fft.rfft(source)) ** 2
    hz = np.fft.rfftfreq(len(source), 1 / RATE)
    before = 10 * math.log10(spectrum[hz < 100].sum() / spectrum[(hz > 900) & (hz < 1100)].sum())

    assert low_to_mid_db("flat") == pytest.approx(before, abs=0.5)
    assert low_to_mid_db("horn") < before - 20


def test_joins_are_faded_so_nothing_clicks(tmp_path, speaker):
    speaker.amplitude = 0.5
    bulletin = Bulletin(id="a", title="A", text=TEXT, intro=NO_JINGLE, outro=NO_JINGLE)
    schedule = make_schedule(tmp_path, [bulletin], voicing="flat")
    programme = ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "out.wav")
    samples, _ = read_wav(programme.path)
    start, end = (round(t * RATE) for t in runs(samples)[0])
    body = np.abs(samples[start + RATE // 10: end - RATE // 10]).max()
    # A tone cut hard would jump to full amplitude within a sample; the fade takes ~10 ms.
    assert np.abs(samples[start: start + 48]).max() < 0.1 * body
    assert np.abs(samples[end - 48: end + 48]).max() < 0.1 * body
    assert np.abs(samples[start + 960: start + 1200]).max() > 0.9 * body


def test_speech_engine_and_fallback_reason_are_reported(tmp_path, speaker):
    speaker.engine, speaker.fallback_reason = "espeak-ng", "gtts: no network"
    bulletin = Bulletin(id="a", title="A", text=TEXT, repeat=2)
    programme = ProgrammeBuilder(make_schedule(tmp_path, [bulletin]), speaker).render(
        [bulletin], tmp_path / "out.wav", title="test")
    assert isinstance(programme, Programme)
    assert programme.engines == ("espeak-ng",)
    assert programme.fallback_reasons == ("gtts: no network",)


def existing_output(tmp_path: Path) -> Path:
    out = tmp_path / "out.wav"
    out.write_bytes(b"previous programme")
    return out


@pytest.mark.parametrize("bulletin, message", [
    (Bulletin(id="a", title="A", audio=Path("/nonexistent/ghi-am.mp3")), "/nonexistent/ghi-am.mp3"),
    (Bulletin(id="a", title="A", text=TEXT, outro="fanfare"), "fanfare"),
    (Bulletin(id="a", title="A"), "a"),
], ids=["missing-audio", "unknown-jingle", "no-content"])
def test_bad_bulletins_raise_programme_error_and_keep_the_old_file(tmp_path, speaker, bulletin, message):
    out = existing_output(tmp_path)
    with pytest.raises(ProgrammeError, match=message):
        ProgrammeBuilder(make_schedule(tmp_path, [bulletin]), speaker).render([bulletin], out)
    assert out.read_bytes() == b"previous programme"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "speech"]


def test_corrupt_audio_and_silent_speech_are_reported_with_the_file(tmp_path, speaker):
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"this is not audio" * 100)
    bulletin = Bulletin(id="a", title="A", audio=broken)
    with pytest.raises(ProgrammeError, match="broken.mp3"):
        ProgrammeBuilder(make_schedule(tmp_path, [bulletin]), speaker).render([bulletin], tmp_path / "o.wav")

    speaker.amplitude = 0.0
    bulletin = Bulletin(id="b", title="B", text=TEXT)
    with pytest.raises(ProgrammeError, match="fake-"):
        ProgrammeBuilder(make_schedule(tmp_path, [bulletin]), speaker).render([bulletin], tmp_path / "o.wav")
    assert not (tmp_path / "o.wav").exists()


def test_a_damaged_recording_renders_however_much_ffmpeg_complains(tmp_path, speaker):
    """ffmpeg writes a line to stderr per bad frame (some 300 KB for this one: more than a pipe
    holds): read as it comes, so the decoding never stops on a full stderr pipe (it hung for good)."""
    import random
    import threading

    recording = tmp_path / "hong.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=90",
                    "-ac", "1", "-b:a", "32k", str(recording)], check=True)
    damaged = bytearray(recording.read_bytes())
    noise = random.Random(1)
    for at in range(2000, len(damaged), 97):        # one byte in 97 spoiled: nearly every frame is bad
        damaged[at] = noise.randrange(256)
    recording.write_bytes(damaged)
    bulletin = Bulletin(id="hong", title="Hỏng", audio=recording, intro=NO_JINGLE, outro=NO_JINGLE)
    schedule = make_schedule(tmp_path, [bulletin])
    done = []
    render = threading.Thread(target=lambda: done.append(
        ProgrammeBuilder(schedule, speaker).render([bulletin], tmp_path / "o.wav")), daemon=True)
    render.start()
    render.join(timeout=60)
    assert done, "the render of a damaged recording did not finish"
    assert done[0].duration > 60


def test_speech_errors_pass_through_unchanged(tmp_path, speaker):
    speaker.fail_on = ("gia súc",)
    bulletin = Bulletin(id="a", title="A", text=TEXT)
    with pytest.raises(SpeechError):
        ProgrammeBuilder(make_schedule(tmp_path, [bulletin]), speaker).render([bulletin], tmp_path / "o.wav")


def test_unknown_bulletin_in_slot_and_bad_voicing(tmp_path, speaker):
    bulletin = Bulletin(id="a", title="A", text=TEXT)
    schedule = make_schedule(tmp_path, [bulletin])
    slot = schedule.slots[0].__class__(name="Tối", at=(), play=("a", "khong-co"))
    with pytest.raises(ProgrammeError, match="khong-co"):
        ProgrammeBuilder(schedule, speaker).render_slot(slot, tmp_path / "o.wav")
    with pytest.raises(ProgrammeError, match="loa"):
        ProgrammeBuilder(make_schedule(tmp_path, [bulletin], voicing="loa"), speaker).render(
            [bulletin], tmp_path / "o.wav")
