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


def test_the_memory_folder_is_made_private_and_a_planted_one_is_not_used(tmp_path):
    """/dev/shm is everyone's and the memory folder's name is predictable: a link or a folder others
    may write in, found under that name, is another user's chance to swap renders or plant cached
    speech; a new private folder is made instead."""
    import os
    import shutil
    import stat

    from broadcaster.onair.render import memory_folder

    made = []
    try:
        mine = memory_folder(tmp_path / "own")
        made.append(mine)
        assert mine.is_dir() and stat.S_IMODE(mine.lstat().st_mode) == 0o700
        assert memory_folder(tmp_path / "own") == mine                      # the same folder next start

        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        planted = memory_folder(tmp_path / "linked")                          # where it would go...
        made.append(planted)
        planted.rmdir()
        planted.symlink_to(elsewhere)                                          # ...a link there first
        chosen = memory_folder(tmp_path / "linked")
        made.append(chosen)
        assert chosen != planted and not chosen.is_symlink() and stat.S_IMODE(chosen.lstat().st_mode) == 0o700

        shared = memory_folder(tmp_path / "shared")
        made.append(shared)
        os.chmod(shared, 0o777)                                                # others may write in it
        chosen = memory_folder(tmp_path / "shared")
        made.append(chosen)
        assert chosen != shared and stat.S_IMODE(chosen.lstat().st_mode) == 0o700
    finally:
        for path in made:
            if path.is_symlink():
                path.unlink()
            else:
                shutil.rmtree(path, ignore_errors=True)
