"""The pre-render worker survives failures that are not render errors (no process could be started)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from broadcaster.onair.render import Prerenderer, RenderJob, RenderWorker
from tests.onair.conftest import TZ
from tests.onair.tones import tone_renderer


def test_a_worker_that_cannot_start_fails_the_try_not_the_thread(folder, monkeypatch):
    folder.write({"a": {"text": "0.5s 440Hz"}}, [{"name": "Sang", "at": "06:00", "play": ["a"]}])
    schedule = folder.load()
    ensure = RenderWorker._ensure
    calls = []

    def flaky_ensure(worker):
        calls.append(worker.name)
        if worker.name == "ahead" and calls.count("ahead") == 1:   # the urgent worker starts ahead too
            raise BlockingIOError(11, "Resource temporarily unavailable")   # fork failed: EAGAIN
        return ensure(worker)

    monkeypatch.setattr(RenderWorker, "_ensure", flaky_ensure)
    prerenderer = Prerenderer(tone_renderer, folder.folder / "programmes", clock=lambda: datetime.now(TZ),
                              retry_delay=timedelta(seconds=0.2))
    try:
        job = RenderJob("Sang@x", "Sang", (schedule.bulletins["a"],), schedule)
        future = prerenderer.request(job, deadline=datetime.now(TZ) + timedelta(minutes=5))
        result = future.result(timeout=30)
        assert result.duration > 0.4 and calls.count("ahead") >= 2
        assert {t.name for t in threading.enumerate()} >= {"prerender-ahead", "prerender-urgent"}
    finally:
        prerenderer.close()


def test_busy_while_a_programme_is_rendered_or_waits_to_be(folder):
    """Speech ahead of time asks `busy()` before each request to Google and waits while it is true."""
    folder.write({"a": {"text": "3s 440Hz"}}, [{"name": "Sang", "at": "06:00", "play": ["a"]}])
    schedule = folder.load()
    prerenderer = Prerenderer(tone_renderer, folder.folder / "programmes", clock=lambda: datetime.now(TZ))
    try:
        assert not prerenderer.busy()
        job = RenderJob("Sang@x", "Sang", (schedule.bulletins["a"],), schedule)
        future = prerenderer.request(job, deadline=datetime.now(TZ) + timedelta(minutes=5))
        assert prerenderer.busy()
        future.result(timeout=30)
        assert not prerenderer.busy()
    finally:
        prerenderer.close()
