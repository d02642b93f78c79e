"""One base error for the product and one subclass per stage.

Stages raise these with a message an operator can act on, chaining the library error
(`raise SpeechError(...) from exc`). Only the CLI's `main()` turns them into printed lines.
"""


class BroadcasterError(Exception):
    """Base of every error the product reports to a person."""


class ScheduleError(BroadcasterError):
    """The schedule could not be loaded; `problems` lists every error found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class TextError(BroadcasterError):
    """A text could not be normalized, or a pronunciation dictionary is invalid."""


class SpeechError(BroadcasterError):
    """No speech engine could speak a text."""


class ProgrammeError(BroadcasterError):
    """A programme could not be assembled (missing audio, ffmpeg failure)."""


class OutputError(BroadcasterError):
    """The sound device or output folder failed."""


class AsRunError(BroadcasterError):
    """The as-run log could not be read or written."""


class OnAirError(BroadcasterError):
    """The station daemon or its control channel failed."""


class ReportError(BroadcasterError):
    """A report could not be made (a bad period, an unknown campaign, a file that cannot be written)."""
