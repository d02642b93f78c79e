"""The desk's as-run reader keeps station-time values as written and converts the others, also
across a change of time (a station in a zone with summer time)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from broadcaster.desk.history import Query

BERLIN = ZoneInfo("Europe/Berlin")      # +01:00, +02:00 from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC


@pytest.mark.parametrize("utc", ["2026-03-29T00:45:00", "2026-03-29T01:00:00", "2026-03-29T01:15:00",
                                 "2026-07-01T12:00:00", "2026-10-25T00:45:00", "2026-10-25T01:00:00",
                                 "2026-10-25T23:45:00"])
def test_times_are_shown_in_station_time_across_a_change_of_time(utc):
    query = Query(BERLIN)
    moment = datetime.fromisoformat(utc).replace(tzinfo=timezone.utc)
    expected = moment.astimezone(BERLIN).isoformat(timespec="milliseconds")
    written_utc = moment.isoformat(timespec="milliseconds")
    offset = query._offset(moment.timestamp())
    assert query.local(written_utc, offset) == expected            # converted
    assert query.local(expected, offset) == expected               # already station time: kept
    later = moment + timedelta(minutes=3)                          # a start a little after its time
    assert query.local(later.isoformat(timespec="milliseconds"), offset) == \
        later.astimezone(BERLIN).isoformat(timespec="milliseconds")
