"""The speaker: written bulletin text in, one joined speech WAV out, through the engine chain.

Flow: normalize (broadcaster.text) -> split into pieces (speech.split) -> for each piece, the
first engine of the chain that has it cached or can speak it -> join the pieces with pauses into
one WAV, itself cached under a key of every piece, so an unchanged bulletin costs one stat.

The chain is `station.speech.engines` (default gTTS, then eSpeak NG). When an engine fails it is
skipped for `retry_preferred_after` seconds (a thirty-sentence bulletin does not wait out thirty
timeouts); the failure is recorded in the cache folder, so a new speaker (the next pre-render job,
another process) skips it too. The fallback render is marked as such; the next `speak` of that text after the
pause tries the preferred engine again and replaces the fallback render when it succeeds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcaster import i18n, wav
from broadcaster.constants import ESPEAK_NG, GTTS
from broadcaster.errors import SpeechError, TextError
from broadcaster.problems import ERROR
from broadcaster.schedule.model import Schedule, SpeechSettings
from broadcaster.speech import audio
from broadcaster.speech import messages as _messages  # noqa: F401
from broadcaster.speech.base import Speaker, Speech, SpeechEngine
from broadcaster.speech.cache import CacheEntry, SpeechCache, cache_key
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.gtts_engine import GttsEngine, RateLimited
from broadcaster.speech.split import Piece, split_text
from broadcaster.text import Normalizer, load_dictionary

log = logging.getLogger(__name__)

ENGINES: dict[str, type[SpeechEngine]] = {GTTS: GttsEngine, ESPEAK_NG: EspeakEngine}
RETRY_PREFERRED_AFTER = 300.0   # seconds an engine that failed is left out before trying it again
FAILURES_FILE = "engine-failures.json"   # in the cache folder, so every job and process sees it
PLAN_MEMORY = 256              # texts whose normalized pieces are remembered
JOINED_VERSION = 1              # bump when the joining itself changes (trim, pause shapes)


@dataclass(frozen=True)
class _Failure:
    at: float
    reason: str


@dataclass(frozen=True)
class Voice:
    """The voice a text would air in if it were rendered now, from the cache and the rest record."""

    engine: str
    ready: bool                 # already rendered in that voice: airs without the network
    reason: str | None = None   # why an engine before it would not speak


def voice_label(voice: Voice | None, *, why: bool = False) -> str:
    """How the voice a broadcast would air in now reads to the operator (CLI and desk)."""
    if voice is None:
        return i18n.tr("voice.recorded")
    engine = i18n.tr(f"voice.engine.{voice.engine}")
    label = i18n.tr("voice.ready" if voice.ready else "voice.pending", engine=engine)
    return label + (i18n.tr("voice.why", reason=voice.reason) if why and voice.reason else "")


@dataclass(frozen=True)
class _PieceRender:
    entry: CacheEntry
    rank: int                   # index in the chain of the engine that spoke
    reasons: tuple[str, ...]


class CachedSpeaker(Speaker):
    """Speaks through `engines` in order, caching every piece and every joined text in `cache`.

    clock: wall-clock seconds (failures are shared through the cache folder with other speakers
        and processes), injectable so tests can step past `retry_preferred_after`.
    """

    def __init__(
        self,
        engines: Sequence[SpeechEngine],
        cache: SpeechCache,
        normalize: Callable[[str], str],
        *,
        retry_preferred_after: float = RETRY_PREFERRED_AFTER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not engines:
            raise SpeechError(i18n.tr("speech.no_engines"))
        self.engines = tuple(engines)
        self.cache = cache
        self.normalize = normalize
        self.retry_preferred_after = retry_preferred_after
        self.clock = clock
        self._failures: dict[str, _Failure] = self._load_failures()
        self._options = {e.name: e.cache_options() for e in self.engines}
        self._plans: OrderedDict[str, tuple[list[Piece], str]] = OrderedDict()
        # Pre-render workers share one speaker; two renders of one text are harmless (atomic
        # renames), but the plan memory must not be reordered under another thread.
        self._lock = threading.Lock()

    def speak(self, text: str) -> Speech:
        pieces, key = self._plan(text)
        entry = self.cache.get(key)
        if entry is not None and self._still_good(entry):
            log.debug("speech cache hit %s", key)
            return self._speech(entry)
        self.cache.ensure_folder()      # a full disk is not an engine failure: say so first
        renders = [self._render_piece(piece.text) for piece in pieces]
        speech = self._store_joined(key, pieces, renders)
        if speech.is_fallback:
            log.warning("spoken by fallback engine %s: %s", speech.engine, speech.fallback_reason)
        return speech

    def prepare(self, text: str, before_request: Callable[[], None] | None = None) -> Speech:
        """Render `text` with the first engine of the chain only, ahead of air; SpeechError if it cannot.

        For speech prepared days ahead (`speech.ahead`): pieces the first engine already spoke
        are cache hits, the others are asked for one by one (`before_request` runs before each
        network request, for pacing), and the joined render is stored under the chain's own key,
        so the air-time `speak` is a cache hit in the first engine's voice. A resting first
        engine is not asked. A 429 is not recorded as a failure: the caller backs off, while
        air-time renders keep asking Google.
        """
        pieces, key = self._plan(text)
        entry = self.cache.get(key)
        if entry is not None and entry.meta.get("rank") == 0:
            return self._speech(entry)
        first = self.engines[0]
        failure = self._resting(first)
        if failure is not None:
            raise SpeechError(f"{first.name}: {failure.reason}")
        self.cache.ensure_folder()
        renders = []
        for piece in pieces:
            piece_key = self.piece_key(piece.text, first)
            hit = self.cache.get(piece_key)
            if hit is None:
                if before_request is not None:
                    before_request()
                hit = self._synthesize(first, piece.text, piece_key, rest_on_rate_limit=False)
            renders.append(_PieceRender(hit, 0, ()))
        return self._store_joined(key, pieces, renders)

    def voice_now(self, text: str) -> Voice:
        """Which engine would speak `text` if it aired now, and whether that render is ready.

        No network: a piece counts for the first engine that has it cached or is not resting.
        """
        pieces, key = self._plan(text)
        entry = self.cache.get(key)
        if entry is not None and self._still_good(entry):
            return Voice(str(entry.meta.get("engine")), True, entry.meta.get("fallback_reason"))
        worst, ready, reasons = 0, True, []
        for piece in pieces:
            for rank, engine in enumerate(self.engines):
                if self.cache.get(self.piece_key(piece.text, engine)) is not None:
                    break
                failure = self._resting(engine)
                if failure is None:
                    ready = False
                    break
                reasons.append(f"{engine.name}: {failure.reason}")
            else:
                ready = False           # every engine is resting: nothing will speak this piece yet
            worst = max(worst, rank)
        return Voice(self.engines[worst].name, ready, "; ".join(dict.fromkeys(reasons)) or None)

    def reload_failures(self) -> None:
        """Re-read the engines' rest record (another process may have written it)."""
        self._failures = self._load_failures()

    def _store_joined(self, key: str, pieces: list[Piece], renders: list[_PieceRender]) -> Speech:
        worst = max(renders, key=lambda r: r.rank)
        reasons = list(dict.fromkeys(reason for r in renders for reason in r.reasons))
        meta = {
            "kind": "joined",
            "engine": self.engines[worst.rank].name,
            "rank": worst.rank,
            "fallback_reason": "; ".join(reasons) if worst.rank > 0 else None,
            "pieces": [[p.text, p.pause_after, r.entry.key] for p, r in zip(pieces, renders)],
        }
        return self._speech(self.cache.put_samples(key, self._join(pieces, renders), meta))

    def _plan(self, text: str) -> tuple[list[Piece], str]:
        """The pieces and joined key of `text`, remembered so a repeat skips the normalizer."""
        with self._lock:
            planned = self._plans.get(text)
            if planned is not None:
                self._plans.move_to_end(text)
                return planned
        pieces = split_text(self.normalize(text))
        if not pieces:
            raise SpeechError(i18n.tr("speech.nothing_to_say"))
        planned = (pieces, self._joined_key(pieces))
        with self._lock:
            self._plans[text] = planned
            if len(self._plans) > PLAN_MEMORY:
                self._plans.popitem(last=False)
        return planned

    def piece_key(self, text: str, engine: SpeechEngine) -> str:
        """The cache key of one piece of normalized text spoken by `engine`."""
        return cache_key({
            "kind": "piece",
            "text": text,
            "engine": engine.name,
            "options": self._options[engine.name],
            "format": audio.FORMAT_ID,
        })

    def _joined_key(self, pieces: list[Piece]) -> str:
        return cache_key({
            "kind": "joined",
            "version": JOINED_VERSION,
            "pieces": [[p.text, p.pause_after] for p in pieces],
            "chain": [[e.name, self._options[e.name]] for e in self.engines],
            "format": audio.FORMAT_ID,
        })

    def _still_good(self, entry: CacheEntry) -> bool:
        """A joined render serves as is unless it holds fallback pieces and a retry is due."""
        rank = entry.meta.get("rank")
        if not isinstance(rank, int) or not 0 <= rank < len(self.engines):
            return False            # sidecar lost: rebuild from pieces, which are cheap hits
        return all(self._resting(engine) for engine in self.engines[:rank])

    def resting_for(self, engine: SpeechEngine) -> float:
        """Seconds until a failed `engine` is asked again; 0 when it is not resting."""
        failure = self._resting(engine)
        return 0.0 if failure is None else max(0.0, failure.at + self.retry_preferred_after - self.clock())

    def _resting(self, engine: SpeechEngine) -> _Failure | None:
        failure = self._failures.get(engine.name)
        if failure and self.clock() - failure.at < self.retry_preferred_after:
            return failure
        return None

    def _render_piece(self, text: str) -> _PieceRender:
        reasons: list[str] = []
        for rank, engine in enumerate(self.engines):
            key = self.piece_key(text, engine)
            entry = self.cache.get(key)
            if entry is not None:
                return _PieceRender(entry, rank, tuple(reasons))
            failure = self._resting(engine)
            if failure is not None:
                # The reason it failed, not "skipped": the operator needs the cause.
                reasons.append(f"{engine.name}: {failure.reason}")
                continue
            try:
                entry = self._synthesize(engine, text, key)
            except SpeechError as exc:
                reasons.append(f"{engine.name}: {exc}")
                continue
            return _PieceRender(entry, rank, tuple(reasons))
        raise SpeechError(i18n.tr("speech.all_failed", text=_shorten(text), failures="; ".join(reasons)))

    def _synthesize(self, engine: SpeechEngine, text: str, key: str, *, rest_on_rate_limit: bool = True,
                    ) -> CacheEntry:
        """One piece from `engine` into the cache; a failure is recorded (the engine rests) and raised.

        `prepare` passes `rest_on_rate_limit=False`: its 429 is raised unrecorded, see there.
        """
        try:
            entry = self.cache.render(
                key, engine.name, engine.suffix,
                lambda target: engine.synthesize(text, target),
                {"kind": "piece", "engine": engine.name, "text": text, "options": self._options[engine.name]},
            )
        except SpeechError as exc:
            if rest_on_rate_limit or not isinstance(exc, RateLimited):
                self._record_failure(engine, text, exc)
            raise
        if self._failures.pop(engine.name, None) is not None:
            self._save_failures()
        return entry

    def _record_failure(self, engine: SpeechEngine, text: str, exc: BaseException) -> None:
        log.warning("speech engine %s failed on %r: %s", engine.name, text[:60], exc)
        self._failures[engine.name] = _Failure(self.clock(), str(exc))
        self._save_failures()

    def _load_failures(self) -> dict[str, _Failure]:
        """The latest failure of each engine that any folder of the cache recorded."""
        failures: dict[str, _Failure] = {}
        for folder in self.cache.folders:
            for name, (at, reason) in engine_failures(folder).items():
                if name not in failures or failures[name].at < at:
                    failures[name] = _Failure(at, reason)
        return failures

    def cached_engine(self, text: str) -> str | None:
        """The engine that spoke the cached render of `text`, or None when it is not rendered yet."""
        entry = self.cache.get(self._plan(text)[1])
        return None if entry is None else entry.meta.get("engine")

    def cached(self, text: str) -> Speech | None:
        """The cached speech of `text` in whatever voice it is, or None: never speaks, never writes."""
        entry = self.cache.get(self._plan(text)[1])
        return None if entry is None else self._speech(entry)

    def _save_failures(self) -> None:
        data = {name: {"at": f.at, "reason": f.reason} for name, f in self._failures.items()}
        tmp = self.cache.folder / f".{FAILURES_FILE}.{os.getpid()}.{threading.get_ident()}"
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
            os.replace(tmp, self.cache.folder / FAILURES_FILE)
        except OSError as exc:
            log.warning("cannot record engine failures in %s: %s", self.cache.folder, exc)
            tmp.unlink(missing_ok=True)

    def _join(self, pieces: list[Piece], renders: list[_PieceRender]) -> np.ndarray:
        parts: list[np.ndarray] = []
        for piece, render in zip(pieces, renders):
            parts.append(wav.read(render.entry.path)[0][:, 0])
            if piece.pause_after:
                parts.append(audio.silence(piece.pause_after))
        return np.concatenate(parts)

    def _speech(self, entry: CacheEntry) -> Speech:
        return Speech(path=entry.path, engine=str(entry.meta.get("engine")),
                      fallback_reason=entry.meta.get("fallback_reason"))


def engine_failures(cache_folder: Path) -> dict[str, tuple[float, str]]:
    """Engine name -> (epoch seconds, reason) of its last failure, as speakers of this cache recorded it.

    An engine is listed from its failure until it next speaks; it is rested for
    `RETRY_PREFERRED_AFTER` seconds after the failure (the health check reports both).
    """
    try:
        raw = json.loads((Path(cache_folder) / FAILURES_FILE).read_text("utf-8"))
        return {name: (float(item["at"]), str(item["reason"])) for name, item in raw.items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_engines(names: Sequence[str], settings: SpeechSettings) -> list[SpeechEngine]:
    """Engines from their plain names, configured from `settings`; SpeechError on an unknown name."""
    engines = []
    for name in names:
        cls = ENGINES.get(name)
        if cls is None:
            raise SpeechError(i18n.tr("speech.unknown_engine", name=name, known=", ".join(ENGINES)))
        engines.append(cls.from_settings(settings))
    return engines


def speech_cache_dir(state_dir: Path) -> Path:
    return state_dir / "cache" / "speech"


def speaker_for(schedule: Schedule, engines: Sequence[str] | None = None, *,
                read_from: Sequence[Path] = ()) -> Speaker:
    """The station's speaker: its engine chain (or `engines`), its cache and its dictionary.

    `read_from`: other state folders whose speech caches are read but never written (the
    disk's, while renders go to memory).
    """
    settings = schedule.station.speech
    chain = build_engines(list(engines) if engines is not None else list(settings.engines), settings)
    cache = SpeechCache(speech_cache_dir(schedule.station.state_dir),
                        also=[speech_cache_dir(folder) for folder in read_from])
    return CachedSpeaker(chain, cache, make_normalizer(schedule.station.pronunciations))


def default_speaker(cache_dir: Path, engines: Sequence[str] | None = None,
                    settings: SpeechSettings | None = None) -> Speaker:
    """A speaker with default settings and no station dictionary (for `say` without a schedule)."""
    settings = settings or SpeechSettings()
    chain = build_engines(list(engines) if engines is not None else list(settings.engines), settings)
    return CachedSpeaker(chain, SpeechCache(cache_dir), make_normalizer(None))


def make_normalizer(pronunciations: Path | None) -> Callable[[str], str]:
    """`broadcaster.text.Normalizer(...).normalize` with the station's dictionary, if it has one."""
    overrides: dict[str, str] = {}
    if pronunciations is not None:
        overrides, problems = load_dictionary(pronunciations)
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            raise TextError(i18n.tr("speech.dictionary.invalid", path=pronunciations,
                                    problems="\n".join(p.format() for p in errors)))
        for problem in problems:
            log.warning("%s", problem.format())
    return Normalizer(overrides).normalize
