"""gTTS unreachable at render time: the real speaker falls back to eSpeak NG and the as-run log says so."""

from __future__ import annotations

import pytest

from broadcaster.asrun.log import Status
from tests.onair.conftest import clock_in, wait_for
from tests.onair.tones import gtts_down_renderer

pytestmark = pytest.mark.e2e


def test_gtts_down_espeak_speaks_and_the_log_tells_the_operator(folder, run_station):
    folder.write({"chao": {"text": "Xin chào bà con, 7h00 sáng nay họp tổ dân phố."}},
                 [{"name": "Sang", "at": clock_in(6), "play": ["chao"]}],
                 speech={"engines": ["gtts", "espeak-ng"], "gtts_retries": 0, "gtts_timeout": 2})
    station = run_station(folder.load(), renderer=gtts_down_renderer)
    row = wait_for(lambda: [r for r in station.asrun.history() if r.status in (Status.PLAYED, Status.LATE)],
                   timeout=40)[0]
    assert row.status is Status.PLAYED and row.engine == "espeak-ng"
    assert "espeak-ng" in row.error and "gtts" in row.error.lower()
    assert len(folder.aired_files()) == 1
