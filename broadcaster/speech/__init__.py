"""Speech stage: normalized Vietnamese text -> speech WAV, via an engine chain and a render cache.

`speaker_for(schedule)` is what the programme and on-air stages call; `ENGINES` maps the names
allowed in `station.speech.engines` to engine classes.
"""

from broadcaster.speech.base import Speaker, Speech, SpeechEngine
from broadcaster.speech.cache import SpeechCache
from broadcaster.speech.espeak import EspeakEngine
from broadcaster.speech.gtts_engine import GttsEngine
from broadcaster.speech.speaker import ENGINES, CachedSpeaker, default_speaker, speaker_for

__all__ = ["ENGINES", "CachedSpeaker", "EspeakEngine", "GttsEngine", "Speaker", "Speech",
           "SpeechCache", "SpeechEngine", "default_speaker", "speaker_for"]
