"""Relays on air: a relay bulletin becomes a live `RelaySource` on the queue instead of a render.

Where it sits: beside the planner and the desk, which call it when what they queue is a relay
(a relay slot plays its relay alone; `validate` sees to it). In: the schedule and the relay
bulletin. Out: the opened `RelaySource` and a future the playout waits on like a render's, done
once the relay has its cushion buffered (or at its second, or after `READY_WAIT` for the desk, so a
dead source still airs its room tone on time and is logged failed rather than never). The station's gap notice is spoken by the
offline voice in the same background thread, so nothing on the planner's or desk's path waits
for eSpeak NG or the network.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future

from broadcaster.errors import SpeechError
from broadcaster.output.relay import OPEN_LEAD, RelaySource, spoken_notice
from broadcaster.schedule.model import Bulletin, Schedule

log = logging.getLogger(__name__)

READY_WAIT = 15.0       # seconds a relay may take to buffer before it airs what it has (room tone)

__all__ = ["OPEN_LEAD", "READY_WAIT", "open_relay", "relay_of"]


def relay_of(bulletins: tuple[Bulletin, ...]) -> Bulletin | None:
    """The relay bulletin among `bulletins` (a relay slot plays it alone), or None."""
    return next((b for b in bulletins if b.relay is not None), None)


def open_relay(schedule: Schedule, bulletin: Bulletin, *, ready_wait: float = READY_WAIT) -> tuple[RelaySource, Future]:
    """Start pulling `bulletin`'s stream now; returns the source and a future done when it can air.

    The future is done once the cushion is buffered or after `ready_wait` seconds, whichever comes
    first: a scheduled relay passes the time to its second, so it is never held past it.
    """
    station = schedule.station
    source = RelaySource(bulletin.relay, bulletin.duration.total_seconds(), loudness=station.loudness,
                         voicing=station.voicing, relay_gap=station.relay_gap).open()
    ready: Future = Future()

    def prepare() -> None:
        try:
            source.notice = spoken_notice(station.relay_notice, station.speech, station.loudness)
        except SpeechError as exc:      # the relay still airs; only its gap notice is lost
            log.error("relay %s: the gap notice could not be spoken: %s", bulletin.id, exc)
        deadline = time.monotonic() + ready_wait
        while not source.ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        ready.set_result(None)

    threading.Thread(target=prepare, name=f"relay-open {bulletin.id}", daemon=True).start()
    return source, ready
