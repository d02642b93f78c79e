"""The clock check: captured `timedatectl show` output through the station's own parser."""

from __future__ import annotations

import pytest

from broadcaster.health import State
from broadcaster.health.clock import clock_result, parse_timedatectl
from tests.health.conftest import DATA, check, metric


def fixture(name: str) -> str:
    return (DATA / f"timedatectl-{name}.txt").read_text()


def test_parser_reads_key_value_lines():
    values = parse_timedatectl(fixture("unsynced") + "garbage line\n=no key\n")
    assert values["NTP"] == "yes" and values["NTPSynchronized"] == "no"
    assert values["TimeUSec"] == "Mon 2026-11-30 11:21:04 +07"
    assert "" not in values and "garbage line" not in values


@pytest.mark.parametrize("name, synced_since_boot, offset, state, words", [
    ("synced", False, 0.0004, State.OK, "offset 0.4 ms"),
    ("synced", False, None, State.OK, "synchronised over the network"),
    ("unsynced", False, None, State.FAILING, "never been synchronised since boot"),
    ("unsynced", True, None, State.WARNING, "lost NTP synchronisation"),
    ("ntp-off", False, None, State.FAILING, "timedatectl set-ntp true"),
], ids=["synced-offset", "synced", "never-since-boot", "lost-after-boot", "ntp-off"])
def test_clock_states(english, name, synced_since_boot, offset, state, words):
    result = clock_result(fixture(name), synced_since_boot=synced_since_boot, offset=offset)
    assert (result.name, result.state) == ("clock", state)
    assert words in result.message


def test_no_timedatectl_is_an_honest_unknown(english):
    result = clock_result(None, synced_since_boot=False, unknown_detail="Failed to connect to bus: Host is down")
    assert result.state is State.WARNING
    assert result.message.startswith("Cannot tell whether the clock is synchronised (Failed to connect to bus")


def test_unsynchronised_clock_in_status(station, timedatectl, capsys):
    station.write()
    timedatectl("unsynced")
    code, report = station.status(capsys)
    assert code == 2 and report["state"] == "failing"
    assert check(report, "clock")["state"] == "failing"
    assert "never been synchronised since boot" in check(report, "clock")["message"]
    assert metric(report, "broadcaster_check_state", check="clock") == 2
    timedatectl("synced")
    code, report = station.status(capsys)
    assert check(report, "clock")["state"] == "ok"
    assert code == 0, report
