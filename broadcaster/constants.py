"""Names and numbers several stages share, in one light module that imports nothing.

The schedule validator, the speech, programme and output stages and the relay all need them;
each imports them from here instead of keeping its own copy, and `validate` can check an
engine name without importing gTTS.
"""

GTTS = "gtts"
ESPEAK_NG = "espeak-ng"
ENGINE_NAMES = (GTTS, ESPEAK_NG)    # speech engines, in the default fallback order
OFFLINE_ENGINE = ESPEAK_NG          # the voice that needs no network

HORN = "horn"                       # speech shaped for horn loudspeakers (high-pass, compression)
FLAT = "flat"                       # speech left as the engine made it
VOICINGS = (HORN, FLAT)
HORN_HIGHPASS_HZ = 180              # horns cannot play below this; cut it so they do not distort

# Seconds of silence at the end of every programme, and at most that much added by the sound
# card output to a file that lacks it: PulseAudio drops the last ~24 ms of a stream otherwise
# (measured: 250 ms of trailing silence was needed before every sample reached the sink).
TRAILING_SILENCE = 0.25
