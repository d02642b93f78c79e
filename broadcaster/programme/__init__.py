"""Occurrence + speech + jingles -> programme audio at the station's loudness target.

`ProgrammeBuilder(schedule, speaker).render(bulletins, out)` writes a 48 kHz 16-bit mono WAV and
returns a `Programme`; `meter.measure(path)` is the independent (ffmpeg ebur128) meter.
"""

from broadcaster.programme.builder import Programme, ProgrammeBuilder
from broadcaster.programme.meter import Loudness, measure

__all__ = ["Loudness", "Programme", "ProgrammeBuilder", "measure"]
