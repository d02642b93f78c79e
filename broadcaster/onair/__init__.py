"""onair: the station daemon, between the schedule and the loudspeakers.

In: a validated `Schedule` (and its later edits), requests from the desk over the control socket.
Out: programmes played through an `Output` at their scheduled second, one row per airing in the
as-run log.

The parts, one job each (every part takes the station `clock.Clock`, so its tests run on a
`FakeClock` instead of sleeping through real seconds):
- `clock`: station time and waiting; `FakeClock` for tests.
- `policy`: pure decisions (what to catch up, what was missed, what is late), `now` passed in.
- `render`: programmes rendered ahead of air in worker processes (retries, offline fallback,
  in memory with the disk's cached speech while the disk refuses writes).
- `direct`: the last resort: a programme that could not be rendered airs straight from its
  parts (recordings decoded by ffmpeg, cached speech, eSpeak NG's stdout), no file written.
- `planner`: schedule -> cues: start-up recovery and catch-up, APScheduler render and cue jobs,
  replanning, applying a reloaded schedule.
- `queue`: the typed priority stack of entries waiting for the air.
- `playout`: the one thread that owns the air and the only user of the switch: takes the best
  entry, cuts a programme for an emergency (with a fade, the cut one airs again), obeys the
  desk's stop, retries a failed device.
- (in `output`) `source` -> `switch` -> sinks: a programme is streamed from disk block by block;
  the switch plays it on the station's output, which keeps time, and copies every block to the
  follower sinks (Icecast mounts, zones), silence to those a programme is not for.
- `requests`: the desk's commands (play, emergency, stop, status), resolved against the schedule.
- `recorder`: every as-run row the daemon writes, behind one small interface.
- `control`: the local control socket; `reload`: the schedule file watcher.
- `daemon`: `Station` builds the parts, wires them and runs their life cycle; nothing else.

Why this shape: the old `Station` did all of the above on four locks with no written order. Each
part now owns its lock (or none), and planning, rendering and desk requests hand work to the
playout through the queue; only the playout touches the output (as in Liquidsoap and obplayer).

Lock order (a thread holding one may take only those after it; see each module):
1. `Planner.lock` - the schedule in force, the cued keys, the render/cue jobs.
2. `Prerenderer._cond` - render tasks (a cancelled render's done-callback takes 3).
3. `Playout._cond` - the queue, what is on air, entry flags, the stopping flag.
4. `output.switch.Switch._output_lock` - the opened output (taken with `_cond` released).
5. leaves, never held while taking another: the output's own lock, `Switch._tap_lock` (writes
   to the follower sinks), `AsRunLog._lock`, `Station._stop_lock` (makes `stop()` run once).
The sound card's callback takes only `_tap_lock`, and only when follower sinks exist.
"""

from broadcaster.onair.queue import Entry, Kind, PlayQueue
from broadcaster.onair.render import RenderJob, RenderResult

__all__ = ["Entry", "Kind", "PlayQueue", "RenderJob", "RenderResult"]
