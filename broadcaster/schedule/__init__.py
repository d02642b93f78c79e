"""schedule.yaml -> a validated, frozen `Schedule`; every problem reported with file:line:col."""

from broadcaster.problems import Location, Problem
from broadcaster.schedule.loader import check_schedule, load_schedule, load_station
from broadcaster.schedule.model import (
    DEFAULT_DESK_LISTEN, NO_JINGLE, Bulletin, DateRange, Priority, ProgrammeSettings, Schedule, Slot,
    SpeechSettings, Station,
)

__all__ = [
    "DEFAULT_DESK_LISTEN", "NO_JINGLE", "Bulletin", "DateRange", "Location", "Priority", "Problem",
    "ProgrammeSettings", "Schedule", "Slot", "SpeechSettings", "Station", "check_schedule", "load_schedule",
    "load_station",
]
