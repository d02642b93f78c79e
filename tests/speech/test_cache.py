"""The render cache with the real eSpeak NG: keys, hits, re-renders, corruption, atomicity."""

from __future__ import annotations

import hashlib
import json
import os
import time
import wave
from pathlib import Path

import pytest

from broadcaster.errors import SpeechError
from broadcaster.speech import audio
from broadcaster.speech.base import SpeechEngine
from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine, espeak_version
from broadcaster.speech.speaker import CachedSpeaker
from broadcaster.speech.split import CLAUSE_PAUSE, SENTENCE_PAUSE

from tests.speech.conftest import Counting, all_files

TEXT = "Xin chào bà con, hôm nay trời đẹp. Mời bà con đi họp."
PIECES = ["Xin chào bà con,", "hôm nay trời đẹp.", "Mời bà con đi họp."]


def speaker_with(cache: SpeechCache, *engines: SpeechEngine) -> CachedSpeaker:
    return CachedSpeaker(list(engines), cache, normalize=lambda text: text)


def expected_piece_key(text: str, voice: str = "vi", speed: int = 125) -> str:
    """The documented key: sha256 of canonical JSON of text, engine, options, version, format."""
    payload = {"kind": "piece", "text": text, "engine": "espeak-ng", "format": "wav-24000-mono-s16",
               "options": {"voice": voice, "speed": speed, "version": espeak_version("espeak-ng")}}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def names(folder: Path) -> list[str]:
    return [p.name for p in all_files(folder)]


def frames(path: Path) -> int:
    with wave.open(str(path)) as w:
        return w.getnframes()


def test_file_names_are_the_keys_and_renders_are_deterministic(tmp_path):
    caches = [SpeechCache(tmp_path / "one"), SpeechCache(tmp_path / "two")]
    speeches = [speaker_with(c, EspeakEngine()).speak(TEXT) for c in caches]
    piece_keys = [expected_piece_key(text) for text in PIECES]
    joined_key = speeches[0].path.stem
    expected = sorted(f"{key}{suffix}" for key in piece_keys + [joined_key] for suffix in (".json", ".wav"))
    assert names(caches[0].folder) == expected
    assert names(caches[1].folder) == expected
    assert speeches[0].path.read_bytes() == speeches[1].path.read_bytes()
    assert speeches[0].engine == "espeak-ng" and speeches[0].fallback_reason is None


def test_joined_audio_is_the_pieces_with_the_pauses_between(cache):
    speech = speaker_with(cache, EspeakEngine()).speak(TEXT)
    piece_frames = [frames(cache.path_for(expected_piece_key(t))) for t in PIECES]
    pauses = audio.silence(CLAUSE_PAUSE).size + audio.silence(SENTENCE_PAUSE).size
    assert frames(speech.path) == sum(piece_frames) + pauses
    assert audio.is_valid_wav(speech.path)
    with wave.open(str(speech.path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (1, 24_000)


def test_a_hit_never_synthesizes_again(cache):
    engine = Counting(EspeakEngine())
    speaker = speaker_with(cache, engine)
    first = speaker.speak(TEXT)
    assert engine.texts == PIECES
    again = speaker_with(cache, engine).speak(TEXT)      # a new speaker: the disk is the index
    assert again == first and engine.texts == PIECES


def test_a_changed_sentence_alone_is_rendered(cache):
    engine = Counting(EspeakEngine())
    speaker = speaker_with(cache, engine)
    first = speaker.speak(TEXT)
    changed = speaker.speak(TEXT.replace("đi họp", "đi tiêm phòng"))
    assert engine.texts == PIECES + ["Mời bà con đi tiêm phòng."]
    assert changed.path != first.path and first.path.exists()


@pytest.mark.parametrize("other", [EspeakEngine(speed=150), EspeakEngine(voice="vi-vn-x-south")],
                         ids=["speed", "voice"])
def test_an_option_change_renders_again(cache, other):
    first = speaker_with(cache, EspeakEngine()).speak(TEXT)
    engine = Counting(other)
    second = speaker_with(cache, engine).speak(TEXT)
    assert engine.texts == PIECES
    assert second.path != first.path
    assert second.path.read_bytes() != first.path.read_bytes()


CORRUPTIONS = {
    "empty": lambda path: path.write_bytes(b""),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "header-only": lambda path: path.write_bytes(path.read_bytes()[:44]),
    "garbage": lambda path: path.write_bytes(b"not a wav at all" * 100),
    "mp3-not-wav": lambda path: path.write_bytes(b"ID3\x04" + b"\x00" * 4000),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_joined_file_is_rebuilt_never_returned(cache, corrupt):
    engine = Counting(EspeakEngine())
    speaker = speaker_with(cache, engine)
    good = speaker.speak(TEXT).path.read_bytes()
    corrupt(speaker.speak(TEXT).path)
    again = speaker.speak(TEXT)
    assert again.path.read_bytes() == good
    assert engine.texts == PIECES                       # rebuilt from the cached pieces


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_piece_is_rendered_again(cache, corrupt):
    engine = Counting(EspeakEngine())
    speaker = speaker_with(cache, engine)
    good = speaker.speak(TEXT)
    good_bytes = good.path.read_bytes()
    good.path.unlink()
    corrupt(cache.path_for(expected_piece_key(PIECES[1])))
    again = speaker.speak(TEXT)
    assert engine.texts == PIECES + [PIECES[1]]
    assert again.path.read_bytes() == good_bytes


class Breaking(SpeechEngine):
    """Writes half a file and then fails, like an engine killed mid-render."""

    name = "breaking"

    def synthesize(self, text: str, target: Path) -> None:
        target.write_bytes(b"RIFF\x00\x00")
        raise SpeechError("broke halfway")


class Babbling(SpeechEngine):
    """Claims success but writes something that is not audio."""

    name = "babbling"
    suffix = ".mp3"

    def synthesize(self, text: str, target: Path) -> None:
        target.write_bytes(b"<html>captive portal</html>")


@pytest.mark.parametrize("engine", [Breaking(), Babbling()], ids=["fails-midway", "writes-garbage"])
def test_nothing_partial_is_ever_left_in_the_cache(cache, engine):
    with pytest.raises(SpeechError) as caught:
        speaker_with(cache, engine).speak(TEXT)
    assert engine.name in str(caught.value)
    assert names(cache.folder) == ["engine-failures.json"]       # the failure, and no audio


def test_after_a_failed_engine_the_next_one_speaks_and_only_its_files_exist(cache):
    speech = speaker_with(cache, Breaking(), EspeakEngine()).speak(TEXT)
    assert speech.engine == "espeak-ng" and "broke halfway" in speech.fallback_reason
    assert not [p for p in all_files(cache.folder) if p.name.startswith(".")]
    assert {p.stem for p in cache.folder.glob("*.wav")} == {
        *(expected_piece_key(t) for t in PIECES), speech.path.stem}


def test_the_index_is_the_folder_listing(cache):
    speech = speaker_with(cache, EspeakEngine()).speak(TEXT)
    (cache.folder / ".render-leftover.wav").write_bytes(b"")      # a crash's leftover temp file
    entries = SpeechCache(cache.folder).entries()
    by_kind = {}
    for entry in entries:
        by_kind.setdefault(entry.meta["kind"], []).append(entry)
    assert sorted(e.meta["text"] for e in by_kind["piece"]) == sorted(PIECES)
    assert [e.path for e in by_kind["joined"]] == [speech.path]
    assert [p[0] for p in by_kind["joined"][0].meta["pieces"]] == PIECES


def test_a_lost_sidecar_only_costs_a_rejoin(cache):
    engine = Counting(EspeakEngine())
    speaker = speaker_with(cache, engine)
    first = speaker.speak(TEXT)
    first.path.with_suffix(".json").unlink()
    again = speaker.speak(TEXT)
    assert again == first and engine.texts == PIECES


def test_an_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SpeechError, match="file/cache") as caught:
        speaker_with(SpeechCache(blocker / "cache"), EspeakEngine()).speak(TEXT)
    assert "espeak-ng:" not in str(caught.value)        # not blamed on the engine


def test_leftovers_of_a_killed_render_are_swept_but_fresh_temps_are_not(cache):
    cache.ensure_folder()
    old, fresh = cache.folder / ".render-old.mp3", cache.folder / ".render-fresh.wav"
    old.write_bytes(b"")
    fresh.write_bytes(b"")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    speech = speaker_with(SpeechCache(cache.folder), EspeakEngine()).speak("Xin chào.")
    assert not old.exists() and fresh.exists() and speech.path.exists()


def test_concurrent_speakers_share_one_cache_safely(cache):
    from concurrent.futures import ThreadPoolExecutor

    speaker = speaker_with(cache, EspeakEngine())
    texts = [f"Bản tin số {n}. Xin chào bà con." for n in ("một", "hai", "ba")] * 4
    with ThreadPoolExecutor(4) as pool:
        speeches = list(pool.map(speaker.speak, texts))
    assert len({s.path for s in speeches}) == 3
    assert all(audio.is_valid_wav(s.path) for s in speeches)
    assert not [p for p in all_files(cache.folder) if p.name.startswith(".")]


def test_cache_files_are_readable_by_others(cache):
    speech = speaker_with(cache, EspeakEngine()).speak("Xin chào.")
    assert {oct(p.stat().st_mode & 0o777) for p in all_files(cache.folder)} == {"0o644"}
    assert speech.path.exists()
