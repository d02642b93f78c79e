"""Output stage: programme WAV -> sound card (sounddevice) or WAV files, with a playback report.

The air is made of parts: a `source.Source` yields blocks (a programme streamed from disk,
silence, a live relay), the `switch.Switch` plays one source at a time on the station's `Output`
(which keeps time) and copies each block to the follower `sink.Sink`s (Icecast mounts, zones).

`open_output(station.output)` picks the implementation from a plain spec:
"default", a device name, a device index ("3"), or "file:DIR".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from broadcaster import i18n, wav
from broadcaster.errors import OutputError
from broadcaster.output.base import DeviceInfo, Output, PlaybackReport, safe_label
from broadcaster.output.files import FileOutput
from broadcaster.output.source import wav_errors

__all__ = [
    "DeviceInfo", "FileOutput", "Output", "PlaybackReport", "SoundDeviceOutput", "list_devices",
    "open_output", "play_test_tone", "safe_label",
]

FILE_PREFIX = "file:"


def open_output(spec: str, *, base: Path | None = None) -> Output:
    """The output named by `spec` ("default" | device name | device index | "file:DIR").

    A relative DIR is taken relative to `base` (the schedule's folder) when given. The device
    itself is looked up when playing, so a sound card plugged in later is found and a missing
    one becomes a report the daemon can retry, not a crash at start-up.
    """
    spec = (spec or "").strip()
    if not spec:
        raise OutputError(i18n.tr("output.bad_spec", spec=spec))
    if spec.startswith(FILE_PREFIX):
        folder = Path(spec[len(FILE_PREFIX):].strip())
        if not str(folder) or str(folder) == ".":
            raise OutputError(i18n.tr("output.bad_spec", spec=spec))
        if base is not None and not folder.is_absolute():
            folder = Path(base) / folder
        return FileOutput(folder)
    from broadcaster.output.device import SoundDeviceOutput

    if spec == "default":
        return SoundDeviceOutput(None)
    if spec.isdigit():
        return SoundDeviceOutput(int(spec))
    return SoundDeviceOutput(spec)


def list_devices() -> list[DeviceInfo]:
    """Output-capable sound devices (raises OutputError when PortAudio is unavailable)."""
    from broadcaster.output.device import list_devices as _list_devices

    return _list_devices()


def __getattr__(name: str):
    # SoundDeviceOutput is imported lazily: importing sounddevice needs PortAudio, which a
    # machine using only `file:` output may lack.
    if name == "SoundDeviceOutput":
        from broadcaster.output.device import SoundDeviceOutput

        return SoundDeviceOutput
    raise AttributeError(name)


TONE_RATE = 48_000
TONE_LEVEL = 10 ** (-12 / 20)     # -12 dBFS: clearly audible, well clear of clipping the amplifier


def tone(seconds: float, frequency: float, rate: int = TONE_RATE) -> np.ndarray:
    """A sine tone as int16 with 20 ms raised-cosine ramps so it starts and ends without a click."""
    frames = max(1, int(round(seconds * rate)))
    t = np.arange(frames) / rate
    signal = TONE_LEVEL * np.sin(2 * np.pi * frequency * t)
    ramp = min(int(0.02 * rate), frames // 2)
    if ramp:
        envelope = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
        signal[:ramp] *= envelope
        signal[-ramp:] *= envelope[::-1]
    return np.round(signal * 32767).astype(np.int16)


def play_test_tone(output: Output, seconds: float = 3.0, frequency: float = 1000.0) -> PlaybackReport:
    """Play a short tone on `output` so the operator can check the amplifier and horns."""
    with tempfile.TemporaryDirectory(prefix="broadcaster-tone-") as folder:
        path = Path(folder) / "test-tone.wav"
        with wav_errors(path, "output.write_failed"):
            wav.write(path, tone(seconds, frequency), TONE_RATE)
        return output.play(path, label="test-tone")
