"""Prometheus text: checked by prometheus_client's own parser, served over real HTTP, configured in schedule.yaml."""

from __future__ import annotations

import http.client
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from broadcaster.asrun.log import AsRunLog, Status
from broadcaster.health.metrics import Counters, MetricsServer, exposition
from broadcaster.schedule import check_schedule, load_schedule
from broadcaster.schedule.snapshot import load_snapshot, save_snapshot
from tests.health.conftest import at, metric

REPORT = {"state": "warning", "on_air": None, "next": None,
          "checks": [{"name": "output:file:/srv/aired \"x\"", "state": "ok", "message": "m", "since": "2026-11-30T05:00:00+07:00"},
                     {"name": "clock", "state": "warning", "message": "m", "since": "2026-11-30T06:00:00+07:00"}]}


def asrun_with_rows(path):
    scheduled = at("2026-11-30T06:00:00")
    with AsRunLog(path) as asrun:
        for minute, (status, late_ms) in enumerate([(Status.PLAYED, 3.0), (Status.PLAYED, -1.0),
                                                     (Status.LATE, 1500.0), (Status.MISSED, None),
                                                     (Status.FAILED, None)]):
            when = scheduled + timedelta(minutes=minute)
            started = when + timedelta(milliseconds=late_ms) if late_ms is not None else None
            asrun.record(key=f"s@{when.isoformat()}", kind="scheduled", slot="s", bulletins=["b"], priority="normal",
                         scheduled=when, status=status, started=started, ended=started)
    return path


def test_exposition_parses_and_says_it_all(tmp_path):
    counters = Counters()
    counters.rendered(0.8, fallback=False)
    counters.rendered(12.0, fallback=True)
    counters.reconnected("default")
    report = {**REPORT, "counters": counters.to_json()}
    log = asrun_with_rows(tmp_path / "asrun.sqlite3")
    families = {f.name: f for f in text_string_to_metric_families(exposition(report, log))}
    assert families["broadcaster_render_seconds"].type == "histogram"
    assert metric(report, "broadcaster_state") == 1
    assert metric(report, "broadcaster_check_state", check="clock") == 1
    assert metric(report, "broadcaster_check_state", check='output:file:/srv/aired "x"') == 0
    assert metric(report, "broadcaster_check_since_timestamp_seconds", check="clock") == \
        at("2026-11-30T06:00:00").timestamp()
    assert [metric(report, "broadcaster_broadcasts", log, status=s) for s in ("played", "late", "missed", "failed")] \
        == [2, 1, 1, 1]
    assert metric(report, "broadcaster_recent_start_error_seconds", log, stat="last") == 1.5
    assert metric(report, "broadcaster_recent_start_error_seconds", log, stat="median") == pytest.approx(0.003)
    assert metric(report, "broadcaster_recent_start_error_seconds", log, stat="max_abs") == 1.5
    assert metric(report, "broadcaster_recent_airings", log) == 3
    assert metric(report, "broadcaster_render_seconds_bucket", le="1.0") == 1
    assert metric(report, "broadcaster_render_seconds_bucket", le="30.0") == 2
    assert metric(report, "broadcaster_render_seconds_count") == 2
    assert metric(report, "broadcaster_render_seconds_sum") == 12.8
    assert metric(report, "broadcaster_voice_fallbacks_total") == 1
    assert metric(report, "broadcaster_output_reconnects_total", output="default") == 1


def test_served_over_http(tmp_path):
    log = asrun_with_rows(tmp_path / "asrun.sqlite3")
    server = MetricsServer("127.0.0.1", 0, lambda: exposition(REPORT, log))
    server.start()
    try:
        host, port = server.address
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as reply:
            assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            text = reply.read().decode()
        assert 'broadcaster_check_state{check="clock"} 1' in text.splitlines()
        connection = http.client.HTTPConnection(host, port, timeout=5)
        try:
            connection.request("GET", "/")
            assert connection.getresponse().status == 404
        finally:
            connection.close()
    finally:
        server.close()


def write(tmp_path, metrics: str):
    path = tmp_path / "schedule.yaml"
    path.write_text("station:\n  name: Đài thử\n  metrics:\n" + metrics
                    + "bulletins:\n  a:\n    text: Chào.\nslots:\n  - name: S\n    at: '06:00'\n    play: [a]\n",
                    encoding="utf-8")
    return path


def test_listen_address_in_the_schedule(tmp_path, english):
    path = write(tmp_path, "    listen: 127.0.0.1:9108\n")
    schedule = load_schedule(path)
    assert schedule.station.metrics_listen == ("127.0.0.1", 9108)
    save_snapshot(schedule)
    assert load_snapshot(path).station.metrics_listen == ("127.0.0.1", 9108)
    path = write(tmp_path, "    listen: localhost:http\n    port: 3\n")
    _, problems = check_schedule(path)
    assert [p.format() for p in problems] == [
        f"{path}:4:13: error: 'localhost:http' is not a listen address HOST:PORT (for example 127.0.0.1:9108)",
        f"{path}:5:5: error: unknown key 'port' in station.metrics",
    ]
