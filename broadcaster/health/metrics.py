"""Prometheus text exposition of the station's health: how a district watching many stations collects it.

In: a status report (the `{"state", "checks", ...}` dict the daemon answers on the control
socket, with its "counters"), and the as-run log. Out: the Prometheus text format 0.0.4, served
at `/metrics` by `MetricsServer` on `station.metrics.listen`, or by the desk on its own listener:
the desk has only the control socket and the state folder, and that is all `exposition()` needs.

    broadcaster_state / broadcaster_check_state{check}      0 ok, 1 warning, 2 failing
    broadcaster_check_since_timestamp_seconds{check}        when the state last changed
    broadcaster_broadcasts{status}                          as-run rows by status
    broadcaster_recent_start_error_seconds{stat}            last, median, max of the last 20 airings
    broadcaster_render_seconds (histogram)                  programme render times
    broadcaster_voice_fallbacks_total                       programmes spoken by the fallback voice
    broadcaster_output_reconnects_total{output}             outputs reopened after a failure
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from broadcaster.health.base import State

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RENDER_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
RECENT = 20                     # airings the start-error figures are taken over
STATUSES = ("playing", "played", "late", "missed", "failed", "interrupted")


class Counters:
    """What only the running daemon sees (renders, fallbacks, reconnects); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets = [0] * len(RENDER_BUCKETS)
        self._render_sum = 0.0
        self._render_count = 0
        self._fallbacks = 0
        self._reconnects: dict[str, int] = {}

    def rendered(self, seconds: float, *, fallback: bool) -> None:
        with self._lock:
            for index, bound in enumerate(RENDER_BUCKETS):
                if seconds <= bound:
                    self._buckets[index] += 1
            self._render_sum += seconds
            self._render_count += 1
            if fallback:
                self._fallbacks += 1

    def reconnected(self, output: str) -> None:
        with self._lock:
            self._reconnects[output] = self._reconnects.get(output, 0) + 1

    def to_json(self) -> dict:
        with self._lock:
            return {"render_seconds": {"buckets": [[bound, count] for bound, count in zip(RENDER_BUCKETS, self._buckets)],
                                       "sum": self._render_sum, "count": self._render_count},
                    "voice_fallbacks": self._fallbacks, "output_reconnects": dict(self._reconnects)}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, **labels: str) -> None:
        shown = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
        self.lines.append(f"{name}{{{shown}}} {_number(value)}" if shown else f"{name} {_number(value)}")


def asrun_figures(path: Path, recent: int = RECENT) -> tuple[dict[str, int], list[float]]:
    """(rows by status, start errors in seconds of the last `recent` airings, newest first).

    Read through a read-only connection of its own: a scrape never waits on, or locks, the log.
    """
    counts = {status: 0 for status in STATUSES}
    errors: list[float] = []
    if not Path(path).exists():
        return counts, errors
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error as exc:
        log.warning("metrics: cannot read the as-run log %s: %s", path, exc)
        return counts, errors
    try:
        for status, count in db.execute("SELECT status, COUNT(*) FROM asrun GROUP BY status"):
            counts[status] = count
        rows = db.execute("SELECT scheduled, started FROM asrun WHERE kind = 'scheduled' AND status IN "
                          "('played', 'late') AND started IS NOT NULL ORDER BY scheduled_utc DESC, id DESC "
                          "LIMIT ?", (recent,))
        for scheduled, started in rows:
            errors.append((datetime.fromisoformat(started) - datetime.fromisoformat(scheduled)).total_seconds())
    except sqlite3.Error as exc:
        log.warning("metrics: cannot read the as-run log %s: %s", path, exc)
    finally:
        db.close()
    return counts, errors


def exposition(report: dict, asrun_path: Path | None) -> str:
    """The Prometheus text for a status report (daemon or direct) and the as-run log at `asrun_path`."""
    out = _Writer()
    out.family("broadcaster_state", "gauge", "Station health: 0 ok, 1 warning, 2 failing.")
    out.sample("broadcaster_state", int(State.parse(report.get("state", "ok"))))
    checks = report.get("checks", [])
    out.family("broadcaster_check_state", "gauge", "Each health check: 0 ok, 1 warning, 2 failing.")
    for check in checks:
        out.sample("broadcaster_check_state", int(State.parse(check["state"])), check=check["name"])
    out.family("broadcaster_check_since_timestamp_seconds", "gauge", "When each check's state last changed.")
    for check in checks:
        out.sample("broadcaster_check_since_timestamp_seconds",
                   datetime.fromisoformat(check["since"]).timestamp(), check=check["name"])
    out.family("broadcaster_on_air", "gauge", "1 while a programme is on air.")
    out.sample("broadcaster_on_air", 1 if report.get("on_air") else 0)

    counts, errors = asrun_figures(asrun_path) if asrun_path is not None else ({s: 0 for s in STATUSES}, [])
    out.family("broadcaster_broadcasts", "gauge", "Rows of the as-run log by status.")
    for status, count in sorted(counts.items()):
        out.sample("broadcaster_broadcasts", count, status=status)
    out.family("broadcaster_recent_start_error_seconds", "gauge",
               f"Start error (measured start - scheduled second) of the last {RECENT} scheduled airings.")
    if errors:
        out.sample("broadcaster_recent_start_error_seconds", errors[0], stat="last")
        out.sample("broadcaster_recent_start_error_seconds", statistics.median(errors), stat="median")
        out.sample("broadcaster_recent_start_error_seconds", max(errors, key=abs), stat="max_abs")
    out.family("broadcaster_recent_airings", "gauge", "Airings the start-error figures are taken over.")
    out.sample("broadcaster_recent_airings", len(errors))

    counters = report.get("counters")
    if counters:
        render = counters["render_seconds"]
        out.family("broadcaster_render_seconds", "histogram", "Programme render times since the daemon started.")
        for bound, count in render["buckets"]:
            out.sample("broadcaster_render_seconds_bucket", count, le=repr(float(bound)))
        out.sample("broadcaster_render_seconds_bucket", render["count"], le="+Inf")
        out.sample("broadcaster_render_seconds_sum", render["sum"])
        out.sample("broadcaster_render_seconds_count", render["count"])
        out.family("broadcaster_voice_fallbacks_total", "counter",
                   "Programmes spoken by the fallback (offline) voice since the daemon started.")
        out.sample("broadcaster_voice_fallbacks_total", counters["voice_fallbacks"])
        out.family("broadcaster_output_reconnects_total", "counter",
                   "Outputs reopened after a failure since the daemon started.")
        for output, count in sorted(counters["output_reconnects"].items()):
            out.sample("broadcaster_output_reconnects_total", count, output=output)
    return "\n".join(out.lines) + "\n"


class MetricsServer:
    """A tiny HTTP server answering `GET /metrics` with `render()`, on its own threads.

    `port` 0 picks a free port (tests); `address` tells which was bound.
    """

    def __init__(self, host: str, port: int, render: Callable[[], str]) -> None:
        self.render = render
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                try:
                    body = server.render().encode("utf-8")
                except Exception:  # a scrape that breaks is a 500, never a dead server
                    log.exception("metrics: rendering failed")
                    self.send_error(500)
                    return
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
                log.debug("metrics: " + format, *args)

        self._http = ThreadingHTTPServer((host, port), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="metrics", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self._http.server_address[:2]

    def start(self) -> None:
        self._thread.start()
        log.info("metrics at http://%s:%s/metrics", *self.address)

    def close(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join(timeout=2)
        self._http.server_close()

