#!/usr/bin/env python3
"""Operator desk benchmark: server time of every page and API call at a big station's size.

Builds a station with 500 bulletins (half inline, half in text files), 200 slots and 100,000
as-run rows, then runs the real processes: `broadcaster desk` (uvicorn) and `broadcaster run`
(file output, offline voice, its own desk off). Measured, in one run on one machine:

  requests      median and p95 wall time of each page and API call from a loopback client,
                sequential, N repeats; `GET /healthz` (a route that does nothing) is the
                baseline: what HTTP and the framework cost by themselves
  save->plan    PUT of a slot moved to 3 minutes from now, until the daemon's log names it as
                the next broadcast (its hot reload has re-planned), target <= 2 s
  Nghe thử      POST /api/preview of a one-minute bulletin with the offline voice: cold (empty
                speech cache), then cached; target <= 3 s cold, <= 100 ms cached
  RSS           the desk's resident memory (VmRSS, peak VmHWM) after the page and API calls and
                after everything, target <= 120 MB

Usage: .venv/bin/python scripts/bench_desk.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from broadcaster.asrun import AsRunLog, log_path  # noqa: E402
from broadcaster.desk.accounts import Accounts  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WORDS = ("Thực hiện Kế hoạch số 06/KH-UBND ngày 17/01/2023 của UBND xã về tuyên truyền cải cách hành chính, "
         "đề nghị bà con nhân dân các thôn chú ý theo dõi và thực hiện đúng quy định. ")
ONE_MINUTE = WORDS * 4          # about 130 words: a minute at the offline voice's 125 words per minute


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build(folder: Path) -> Path:
    state = folder / "var"
    (folder / "bulletins").mkdir(parents=True)
    bulletins = {}
    for n in range(500):
        text = f"Bản tin số {n}. " + WORDS
        if n % 2:
            (folder / "bulletins" / f"b{n:03d}.txt").write_text(text, encoding="utf-8")
            bulletins[f"b{n:03d}"] = {"title": f"Bản tin {n}", "text_file": f"bulletins/b{n:03d}.txt"}
        else:
            bulletins[f"b{n:03d}"] = {"title": f"Bản tin {n}", "text": text}
    bulletins["mot-phut"] = {"title": "Một phút", "text": ONE_MINUTE}
    # Slots on one future date: the daemon plans them but renders nothing during the benchmark.
    slots = [{"name": f"Khung {n}", "at": f"{5 + n // 20:02d}:{(n % 20) * 3:02d}", "dates": ["2030-01-01"],
              "play": [f"b{(n * 7 + k) % 500:03d}" for k in range(3)]} for n in range(200)]
    document = {"station": {"name": "Đài đo", "state_dir": str(state), "output": f"file:{folder / 'aired'}",
                            "speech": {"engines": ["espeak-ng"]}, "desk": False},
                "bulletins": bulletins, "slots": slots}
    path = folder / "schedule.yaml"
    path.write_text("# Lịch phát đo hiệu năng bàn điều khiển\n"
                    + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=4096), encoding="utf-8")
    state.mkdir()
    AsRunLog(log_path(state)).close()              # the real schema
    # The log holds the past: 100,000 rows a quarter hour apart end now (about 2.9 years). Rows
    # dated in the future would be read by the daemon's planner on every plan (what already aired).
    start = datetime.now(TZ).replace(second=0, microsecond=0) - timedelta(minutes=15 * 100_000)
    rows = []
    for n in range(100_000):
        when = start + timedelta(minutes=15 * n)
        rows.append((f"Khung {n % 200}@{when.isoformat()}", "scheduled", f"Khung {n % 200}", "b001 b002",
                     "normal", when.isoformat(timespec="milliseconds"), when.timestamp(),
                     when.isoformat(timespec="milliseconds"), (when + timedelta(minutes=3)).isoformat(timespec="milliseconds"),
                     random.choice(("played", "played", "played", "late", "missed")), "espeak-ng", None))
    with sqlite3.connect(log_path(state)) as db:
        db.executemany("INSERT INTO asrun (key, kind, slot, bulletins, priority, scheduled, scheduled_utc, started, "
                       "ended, status, engine, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    accounts = Accounts(state)
    accounts.add("bench", "quan-tri", "bench-password")
    token = accounts.new_token("bench")
    accounts.close()
    return path, token


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[float, int, bytes, dict]:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {**self.headers, **({"Content-Type": "application/json"} if data else {}), **(headers or {})}
        self._reconnect_if_dropped()
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=all_headers)
        response = self.connection.getresponse()
        payload = response.read()
        took = time.perf_counter() - started
        return took, response.status, payload, dict(response.getheaders())

    def first_byte(self, method: str, path: str) -> tuple[float, float]:
        """(seconds to the whole body, seconds to its first byte) of one call."""
        self._reconnect_if_dropped()
        started = time.perf_counter()
        self.connection.request(method, path, headers=self.headers)
        response = self.connection.getresponse()
        response.read(1)
        first = time.perf_counter() - started
        response.read()
        return time.perf_counter() - started, first

    def _reconnect_if_dropped(self) -> None:
        if self.connection.sock is not None and _closed_by_server(self.connection.sock):
            self.connection.close()         # uvicorn drops a connection idle for 5 s: open a new one


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed this idle keep-alive connection (it reads as end of file)."""
    import select

    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def rss(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bd-", dir="/tmp"))
    made = time.perf_counter()
    schedule, token = build(folder)
    print(f"station: 500 bulletins, 200 slots, 100,000 as-run rows, built in {time.perf_counter() - made:.1f} s "
          f"({folder}); load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    port = free_port()
    desk = subprocess.Popen([sys.executable, "-m", "broadcaster", "desk", "--schedule", str(schedule),
                             "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon_log = folder / "daemon.log"
    daemon = subprocess.Popen([sys.executable, "-m", "broadcaster", "--lang", "en", "run", "--schedule", str(schedule)],
                              stdout=open(daemon_log, "wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = Client(port, token)
                if client.call("GET", "/healthz")[1] == 200:
                    break
            except OSError:
                time.sleep(0.2)
            if time.monotonic() > deadline:
                raise SystemExit("the desk did not start")
        while "next broadcast" not in daemon_log.read_text(errors="replace") \
                and "nothing is scheduled" not in daemon_log.read_text(errors="replace"):
            time.sleep(0.2)
        first = (datetime.now(TZ).date().replace(day=1) - timedelta(days=45)).replace(day=1)   # a whole past month
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        month = f"from={first.isoformat()}&to={last.isoformat()}"
        calls = [
            ("baseline GET /healthz", "GET", "/healthz", None),
            ("page /", "GET", "/", None), ("page /live", "GET", "/live", None),
            ("page /bulletins", "GET", "/bulletins", None), ("page /bulletins?q=", "GET", "/bulletins?q=" + quote("số 42"), None),
            ("page /bulletins/{id}", "GET", "/bulletins/b042", None), ("page /slots", "GET", "/slots", None),
            ("page /slots/edit", "GET", "/slots/edit?name=" + quote("Khung 42"), None),
            ("page /onair", "GET", "/onair", None), ("page /history (today)", "GET", "/history", None),
            ("page /history (a month)", "GET", "/history?" + month, None), ("page /admin", "GET", "/admin", None),
            ("GET /api/status", "GET", "/api/status", None), ("GET /api/bulletins", "GET", "/api/bulletins", None),
            ("GET /api/bulletins/{id}", "GET", "/api/bulletins/b041", None), ("GET /api/slots", "GET", "/api/slots", None),
            ("GET /api/slots/{name}", "GET", "/api/slots/" + quote("Khung 42"), None),
            ("GET /api/history (a month)", "GET", "/api/history?" + month, None),
            ("GET /api/history csv (a month)", "GET", "/api/history?format=csv&" + month, None),
            ("GET /api/versions", "GET", "/api/versions", None), ("GET /api/audit", "GET", "/api/audit", None),
            ("POST /api/spoken (one minute)", "POST", "/api/spoken", {"text": ONE_MINUTE}),
        ]
        client = Client(port, token)
        print(f"\n{'call':34} {'median ms':>10} {'p95 ms':>8}  (n={args.repeats}, sequential, loopback)")
        for label, method, path, body in calls:
            client.call(method, path, body)                          # warm caches once
            times = []
            for _ in range(args.repeats):
                took, status, _, _ = client.call(method, path, body)
                assert status == 200, (label, status)
                times.append(took * 1000)
            print(f"{label:34} {statistics.median(times):10.1f} {p95(times):8.1f}")
        before = rss(desk.pid)
        for label, path, repeats in (("GET /api/history csv (100,000 rows)", "/api/history?format=csv", 3),
                                     ("GET /api/history xlsx (100,000 rows)", "/api/history?format=xlsx", 3)):
            times, firsts = [], []
            for _ in range(repeats):
                took, first = client.first_byte("GET", path)
                times.append(took * 1000)
                firsts.append(first * 1000)
            print(f"{label:34} {statistics.median(times):10.1f} {max(times):8.1f}  (n={repeats}, max; "
                  f"first byte median {statistics.median(firsts):.1f} ms)")

        saves = []
        for n in range(max(5, args.repeats // 3)):
            name = f"Khung {100 + n}"
            took, status, body, headers = client.call("GET", "/api/slots/" + quote(name))
            slot = json.loads(body)
            slot.update(at=f"{20 + n % 4}:{n % 60:02d}")          # still on its 2030 date: nothing renders
            took, status, _, _ = client.call("PUT", "/api/slots/" + quote(name), slot, {"If-Match": headers["etag"]})
            assert status == 200, status
            saves.append(took * 1000)
        print(f"{'PUT /api/slots/{name} (save)':34} {statistics.median(saves):10.1f} {p95(saves):8.1f}  (n={len(saves)})")
        from broadcaster.schedule import check_schedule
        checks = []
        for _ in range(3):
            started = time.perf_counter()
            check_schedule(schedule)
            checks.append((time.perf_counter() - started) * 1000)
        print(f"{'baseline: the loader validating it':34} {statistics.median(checks):10.1f} {max(checks):8.1f}  "
              f"(n=3, max; in this process, what every save and every daemon reload pays)")

        reloads = []
        name = "Khung 150"               # the only slot today, so the daemon names it as the next broadcast
        for n in range(3):
            _, _, body, headers = client.call("GET", "/api/slots/" + quote(name))
            slot = json.loads(body)
            when = (datetime.now(TZ) + timedelta(minutes=20 + n)).replace(microsecond=0)
            slot.update(at=when.strftime("%H:%M:%S"), dates=[when.date().isoformat()])
            seen = len(daemon_log.read_text(errors="replace"))
            started = time.perf_counter()
            client.call("PUT", "/api/slots/" + quote(name), slot, {"If-Match": headers["etag"]})
            while f"next broadcast: {name} at {when.isoformat()}" not in daemon_log.read_text(errors="replace")[seen:]:
                if time.perf_counter() - started > 30:
                    raise SystemExit("the daemon did not take the change within 30 s")
                time.sleep(0.02)
            reloads.append(time.perf_counter() - started)
        print(f"\nsave -> daemon plan has it: {', '.join(f'{r:.2f}' for r in reloads)} s "
              f"(median {statistics.median(reloads):.2f} s, from the PUT's start; includes the save itself, "
              f"the desk's reload command to the daemon and the daemon's own validation)")

        fields = {"id": "mot-phut", "title": "Một phút", "text": ONE_MINUTE}
        cold, status, body, _ = client.call("POST", "/api/preview", fields)
        assert status == 200, body
        cached = [client.call("POST", "/api/preview", fields)[0] * 1000 for _ in range(args.repeats)]
        wav = client.call("GET", json.loads(body)["url"])[2]
        seconds = (len(wav) - 44) / (48_000 * 2)
        print(f"Nghe thử, one-minute bulletin ({seconds:.0f} s of programme, offline voice): cold {cold:.2f} s, "
              f"cached median {statistics.median(cached):.1f} ms, p95 {p95(cached):.1f} ms")
        now, peak = rss(desk.pid)
        print(f"desk RSS {before[0]} MB after the page/API calls (peak {before[1]} MB); {now} MB, peak {peak} MB "
              f"after everything above (exports run in a child process)")
        daemon_now, daemon_peak = rss(daemon.pid)
        print(f"(for comparison, the daemon process: RSS {daemon_now} MB, peak {daemon_peak} MB)")
    finally:
        for process in (desk, daemon):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
