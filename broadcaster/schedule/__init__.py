"""schedule.yaml -> a validated, frozen `Schedule`; every problem reported with file:line:col."""

from broadcaster.schedule.loader import load_schedule, check_schedule
from broadcaster.schedule.model import (
    NO_JINGLE, Bulletin, DateRange, Location, Priority, ProgrammeSettings, Schedule, Slot,
    SpeechSettings, Station,
)
from broadcaster.schedule.problems import Problem

__all__ = [
    "NO_JINGLE", "Bulletin", "DateRange", "Location", "Priority", "Problem", "ProgrammeSettings",
    "Schedule", "Slot", "SpeechSettings", "Station", "check_schedule", "load_schedule",
]
