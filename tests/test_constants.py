"""Shared names have one home: the validator knows the speech engines without importing gTTS."""

from __future__ import annotations

import subprocess
import sys

from broadcaster import constants


def test_the_schedule_loader_checks_engine_names_without_importing_gtts():
    code = ("import sys, broadcaster.schedule.loader as loader; "
            "print(loader.ENGINE_NAMES, 'gtts' in sys.modules, 'broadcaster.speech' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.split() == ["('gtts',", "'espeak-ng')", "False", "False"]


def test_the_speech_stage_builds_its_engine_table_from_the_same_names():
    from broadcaster.speech import ENGINES

    assert tuple(ENGINES) == constants.ENGINE_NAMES and constants.OFFLINE_ENGINE in ENGINES
    assert all(cls.name == name for name, cls in ENGINES.items())
