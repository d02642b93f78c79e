"""Nghe thử: render one bulletin exactly as it will air, in a child process of the desk.

In (stdin, JSON): the schedule path, the output WAV path, and the bulletin's fields as the
editor holds them (saved or not). Out: the programme WAV (station jingles, repeats, loudness,
voicing) written atomically by `ProgrammeBuilder`; on failure one line on stderr and exit 1.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from broadcaster.errors import BroadcasterError
from broadcaster.schedule import Bulletin, Priority, load_schedule


def bulletin_from(schedule, fields: dict) -> Bulletin:
    """The bulletin as edited: the saved one with the editor's fields over it, or a new one."""
    bulletin_id = str(fields.get("id") or "nghe-thu")
    base = schedule.bulletins.get(bulletin_id) or Bulletin(id=bulletin_id, title=bulletin_id, text="")
    changes: dict = {}
    if fields.get("title"):
        changes["title"] = str(fields["title"])
    if fields.get("text"):
        changes.update(text=str(fields["text"]), audio=None)
    elif fields.get("audio"):
        changes.update(text=None, audio=(schedule.folder / str(fields["audio"])).resolve())
    if fields.get("priority"):
        changes["priority"] = Priority.parse(str(fields["priority"]))
    if fields.get("repeat"):
        changes["repeat"] = int(fields["repeat"])
    for key in ("intro", "outro"):
        if key in fields:
            changes[key] = fields[key] or None
    return dataclasses.replace(base, **changes)


def main() -> int:
    from broadcaster.programme import ProgrammeBuilder
    from broadcaster.speech import speaker_for

    request = json.loads(sys.stdin.read())
    try:
        schedule = load_schedule(request["schedule"])
        bulletin = bulletin_from(schedule, request["fields"])
        ProgrammeBuilder(schedule, speaker_for(schedule)).render([bulletin], Path(request["out"]),
                                                                  title=bulletin.id)
    except (BroadcasterError, ValueError, KeyError) as exc:
        print(f"{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
