"""The render cache: finished speech WAVs on disk, keyed by everything that changes the sound.

In: a key payload (normalized text, engine name, engine options and version, audio format) and a
function that renders into a path. Out: a valid standard WAV (see `speech.audio`) and its sidecar
metadata. Files are `<key>.wav` plus an optional `<key>.json`; the folder listing is the index, so
nothing has to be rebuilt after a crash. A render is written under a temporary name and renamed
only after the engine succeeded and the audio decoded, so a reader never sees a partial file; a
corrupt file found on read (0 bytes, truncated, foreign) is deleted and reported as a miss.

A cache may also read other folders it never writes (`also`): when the state folder's disk is
full or read-only, renders go to a cache in memory, and the speech already on the disk (read
still works on a full disk) is found there, so a text spoken yesterday in Google's voice airs in
that voice, not spoken again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from broadcaster import i18n, wav
from broadcaster.errors import SpeechError
from broadcaster.speech import audio
from broadcaster.speech import messages as _messages  # noqa: F401

log = logging.getLogger(__name__)

SUFFIX = ".wav"
META_SUFFIX = ".json"
STALE_TEMP_SECONDS = 3600.0     # a render never takes this long; older temp files are leftovers


def cache_key(payload: Mapping[str, object]) -> str:
    """sha256 of the payload as canonical JSON (sorted keys, UTF-8, no spaces)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    key: str
    path: Path
    meta: dict = field(default_factory=dict, compare=False)


class SpeechCache:
    """A folder of rendered speech. Safe for one writer and many readers (renames are atomic)."""

    def __init__(self, folder: Path, *, also: Sequence[Path] = ()) -> None:
        self.folder = Path(folder)
        self.also = tuple(Path(f) for f in also if Path(f) != Path(folder))   # read on a miss, never written
        self._swept = False

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every folder this cache reads, its own first."""
        return (self.folder, *self.also)

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> CacheEntry | None:
        """The valid entry for `key`, or None; a corrupt file is removed so it gets re-rendered.

        A miss in the own folder is looked up in the `also` folders; a corrupt file there is
        only skipped (those folders are not this cache's to change).
        """
        path = self.path_for(key)
        if path.exists():
            if audio.is_valid_wav(path):
                return CacheEntry(key, path, self._read_meta(key))
            log.warning("speech cache: %s is corrupt or incomplete; it will be rendered again", path)
            self._remove(key)
        for folder in self.also:
            path = folder / f"{key}{SUFFIX}"
            if path.exists() and audio.is_valid_wav(path):
                return CacheEntry(key, path, self._read_meta(key, folder))
        return None

    def put_samples(self, key: str, samples: np.ndarray, meta: Mapping[str, object]) -> CacheEntry:
        """Store audio samples (standard rate, mono int16) under `key`, atomically."""
        if samples.size == 0:
            raise SpeechError(i18n.tr("speech.audio.invalid", engine=meta.get("engine", "?"),
                                      error="no samples"))
        self.ensure_folder()
        tmp = self._temp_path(SUFFIX)
        try:
            wav.write(tmp, samples, audio.RATE)
            self._write_meta(key, meta)
            os.replace(tmp, self.path_for(key))
        finally:
            tmp.unlink(missing_ok=True)
        return CacheEntry(key, self.path_for(key), dict(meta))

    def render(self, key: str, engine_name: str, suffix: str, produce: Callable[[Path], None],
               meta: Mapping[str, object]) -> CacheEntry:
        """Run `produce(tmp_path)` (an engine), convert its output to the standard WAV, store it.

        `produce` writes into a temporary file inside the cache folder; whatever it leaves behind
        (a 0-byte gTTS file, a half WAV) is deleted whether it succeeded or not.
        """
        self.ensure_folder()
        raw = self._temp_path(suffix)
        try:
            produce(raw)
            samples = audio.trim_silence(audio.decode_to_pcm(raw, engine_name))
        finally:
            raw.unlink(missing_ok=True)
        return self.put_samples(key, samples, meta)

    def entries(self) -> list[CacheEntry]:
        """Every valid entry, from the folder listing alone (the index is the folder)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            key = path.name[: -len(SUFFIX)]
            if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
                entry = self.get(key)
                if entry is not None:
                    found.append(entry)
        return found

    def _remove(self, key: str) -> None:
        for path in (self.path_for(key), self.folder / f"{key}{META_SUFFIX}"):
            path.unlink(missing_ok=True)

    def _read_meta(self, key: str, folder: Path | None = None) -> dict:
        try:
            meta = json.loads(((folder or self.folder) / f"{key}{META_SUFFIX}").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def _write_meta(self, key: str, meta: Mapping[str, object]) -> None:
        tmp = self._temp_path(META_SUFFIX)
        try:
            tmp.write_text(json.dumps(dict(meta), ensure_ascii=False, sort_keys=True, indent=1), "utf-8")
            os.replace(tmp, self.folder / f"{key}{META_SUFFIX}")
        finally:
            tmp.unlink(missing_ok=True)

    def _temp_path(self, suffix: str) -> Path:
        # A dot-name in the same folder: same filesystem so the rename is atomic, and never a key.
        handle, name = tempfile.mkstemp(prefix=".render-", suffix=suffix, dir=self.folder)
        os.fchmod(handle, 0o644)        # mkstemp's 0600 would survive the rename
        os.close(handle)
        return Path(name)

    def ensure_folder(self) -> None:
        """Create the folder, or SpeechError saying it cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpeechError(i18n.tr("speech.cache.unwritable", folder=self.folder, error=exc)) from exc
        if not self._swept:
            self._swept = True
            self.sweep_temporaries()

    def sweep_temporaries(self, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
        """Delete temp files a killed render left behind (never a finished entry); return them."""
        removed = []
        cutoff = time.time() - older_than
        for path in self.folder.glob(".render-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue
        if removed:
            log.info("speech cache: removed %s leftover temporary file(s) in %s", len(removed), self.folder)
        return removed
