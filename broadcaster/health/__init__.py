"""Station health: checks that tell, before air time, whether the next broadcast will air.

`checks` (what is checked, the `Monitor`), `base` (states, one log line per change), `clock`
(NTP synchronisation), `metrics` (Prometheus text). Used by the daemon, `broadcaster status`
and the desk.
"""

from broadcaster.health.base import CheckStatus, Result, State, StateTracker, overall
from broadcaster.health.checks import (
    CHEAP, Monitor, RenderState, ScheduleSource, load_for_status, register_output_probe,
)

__all__ = [
    "CHEAP", "CheckStatus", "Monitor", "RenderState", "Result", "ScheduleSource", "State", "StateTracker",
    "load_for_status", "overall", "register_output_probe",
]
