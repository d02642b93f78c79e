"""onair: the station daemon, between the schedule and the loudspeakers.

In: a validated `Schedule` (and its later edits), requests from the desk over the control socket.
Out: programmes played through an `Output` at their scheduled second, one row per airing in the
as-run log. Rendering happens ahead of air in worker processes (`render`), decisions about what
was missed or must be caught up are pure functions (`policy`), the order on air is a typed
priority queue (`queue`), and `daemon.Station` ties them to APScheduler and the playout thread.
"""

from broadcaster.onair.queue import Entry, Kind, PlayQueue
from broadcaster.onair.render import RenderJob, RenderResult

__all__ = ["Entry", "Kind", "PlayQueue", "RenderJob", "RenderResult"]
