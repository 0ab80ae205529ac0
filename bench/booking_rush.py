"""Booking rush: how fast the portal takes bookings, compared with a floor, in one run.

    .venv/bin/python bench/booking_rush.py [--clients 32] [--duration 20] [--slots 20000]

What it does, each run from scratch:

1. drops and re-creates a throwaway database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/epassport_bench``) on the machine's PostgreSQL,
   runs ``migrate``, creates one office with ``--slots`` slots of ``--capacity`` seats,
   two "hot" slots, and the floor's two tables (bench/floor.py) with as many seats;
2. starts the portal under gunicorn with ``DEBUG`` off, persistent database connections
   (``CONN_MAX_AGE=60``), a dedicated Redis database (``--redis-url``, flushed before and
   after), no booking challenge and no rate limit, on a free port of 127.0.0.1;
3. runs three phases, each after a warm-up of ``--warmup`` seconds, with ``--clients``
   concurrent clients on keep-alive connections, each POSTing one booking after the other
   with a unique JSON body (unique national id):

   - **floor**: ``POST /bench/floor/``, a view that runs only the two SQL statements of a
     booking (conditional ``UPDATE`` of the slot's counter, ``INSERT`` of the booking) in
     one transaction, behind the same middleware, on the same server;
   - **spread**: ``POST /api/v1/bookings/`` over many slots (round robin: concurrent
     bookings almost never meet on one slot);
   - **hot**: every client books the same slot: exactly ``--capacity`` bookings must
     succeed, every other answer must be ``409 slot_full``; its latency is measured too;

4. prints, per phase, requests, 201s, 409s by code, other statuses, requests and bookings
   per second, p50/p95/p99 latency, and the CPU time used by gunicorn, PostgreSQL and the
   load generator; then the ratio of the spread phase's bookings per second to the floor's,
   whether p95 < 150 ms, and the number of overbooked slots, counted independently of the
   ``booked`` column and its trigger (appointments in seat-holding statuses per slot against
   the capacity, in SQL). The figures also go to ``bench/out/booking_rush.json``.
5. stops gunicorn, drops the database and flushes the Redis database (also on Ctrl-C and
   on errors; ``--keep`` keeps the database for inspection).

Exit status: 0 when every answer was a 201 or a 409, nothing was overbooked and the
bookings the server confirmed are exactly those in the database; 1 otherwise (any 5xx,
unexpected status, socket error, overbooking or mismatch). ``--strict`` also exits 2 when a
goal is missed. Goals (issue, on a 2-core machine): spread bookings per second at least 35%
of the floor's, p95 under 150 ms at 32 clients, no overbooked slot. The machine is shared
and noisy: only the ratio to the floor measured in the same run means something, never a
bare time.

Load generator: ``wrk`` with a Lua script (built by this file) that makes a unique JSON body
per request and counts the answers by status and by ``code``. wrk is written in C and uses
a few percent of a core at these rates, whereas a Python generator of the same rate (one
process per core with threads on http.client keep-alive connections, ``--loadgen python``)
uses about half a core of the two, taken from the server it measures, and lowers every
figure. When ``wrk`` is missing the script installs it with ``apt-get`` (root or
password-less sudo) and otherwise falls back to the Python generator, saying so.

gunicorn: ``gthread`` workers by default (``--worker-class``, ``--workers``,
``--threads``). Sync workers cannot keep a connection alive, so each request of a sync
worker pays a new TCP connection, and 32 clients queue behind 5 processes; the measured
choice and its figures are in the README's benchmark section and the module's defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
BIN = Path(sys.executable).parent
SEAT_HOLDING = ("booked", "checked_in", "enrolled", "no_show")
BOOKING_PATH = "/api/v1/bookings/"
FLOOR_PATH = "/bench/floor/"
GOAL_RATIO = 0.35
GOAL_P95_MS = 150.0
GOAL_CLIENTS = 32
CLK_TCK = os.sysconf("SC_CLK_TCK")


# Set-up ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--duration", type=float, default=20, help="seconds per phase (20)")
    parser.add_argument(
        "--hot-duration", type=float, default=None, help="seconds of the hot phase (duration/2)"
    )
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds (3)")
    parser.add_argument("--slots", type=int, default=20000, help="slots to spread over (20000)")
    parser.add_argument("--capacity", type=int, default=4, help="seats per slot (4)")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/epassport_bench",
        help="throwaway database, dropped and re-created (its name must contain 'bench')",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (2*cores)")
    parser.add_argument("--threads", type=int, default=None, help="threads per gthread worker")
    parser.add_argument("--loadgen", default="auto", choices=["auto", "wrk", "python"])
    parser.add_argument(
        "--phases", default="floor,spread,hot", help="comma-separated subset, in this order"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR / "booking_rush.json")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a goal is missed")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    if args.workers is None:
        args.workers = 2 * cores if args.worker_class == "gthread" else 2 * cores + 1
    if args.threads is None:
        args.threads = 4 if args.worker_class == "gthread" else 1
    if args.hot_duration is None:
        args.hot_duration = max(args.duration / 2, 1)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - {"floor", "spread", "hot"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if "bench" not in urllib.parse.urlsplit(args.database_url).path:
        parser.error("--database-url: the database is dropped, its name must contain 'bench'")
    return args


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="epassport.settings",
        DEBUG="false",
        SECRET_KEY="booking-rush-benchmark-key-not-a-secret-0123456789abcdef",  # noqa: S106
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CACHE_KEY_PREFIX="bench",
        BOOKING_CHALLENGE="false",
        RATE_LIMITS="false",
        BENCH_FLOOR="true",
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        SECURE_COOKIES="false",
        STATIC_ROOT=str(OUT_DIR / "static"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def recreate_database(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urllib.parse.urlsplit(database_url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def drop_database(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urllib.parse.urlsplit(database_url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        connection.close()


def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, timeout=600
    )


@dataclass
class Fixture:
    office_code: str
    spread_first: int  # slot ids spread_first .. spread_first + slots - 1
    hot_slot: int
    warm_hot_slot: int
    floor_first: int


def create_fixture(args: argparse.Namespace) -> Fixture:
    """One office with many future slots, two hot slots, and the floor's tables, through the
    ORM (in this process, on the benchmark database)."""
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.db import connection, transaction

    from appointments.models import Office, Slot
    from bench.floor import FLOOR_TABLES_SQL

    step = timedelta(minutes=3)
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    with transaction.atomic():
        office = Office.objects.create(
            code="bench-centre",
            name="Centre du banc d’essai",
            name_en="Benchmark centre",
            kind=Office.Kind.CENTRE,
            city="Bamako",
            country="ML",
            timezone="Africa/Bamako",
        )
        Slot.objects.bulk_create(
            [
                Slot(
                    office=office,
                    starts_at=first + i * step,
                    ends_at=first + (i + 1) * step,
                    capacity=args.capacity,
                )
                for i in range(args.slots + 2)
            ],
            batch_size=5000,
        )
        ids = list(Slot.objects.filter(office=office).order_by("pk").values_list("pk", flat=True))
        spread = ids[: args.slots]
        if spread[-1] - spread[0] + 1 != args.slots:
            raise RuntimeError("slot ids are not contiguous; re-run on a fresh database")
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_TABLES_SQL)
            cursor.execute(
                "INSERT INTO bench_floor_slot (id, capacity) "
                "SELECT g, %s FROM generate_series(1, %s) AS g",
                [args.capacity, args.slots],
            )
            cursor.execute("ANALYZE")
    connection.close()
    return Fixture(
        office_code=office.code,
        spread_first=spread[0],
        hot_slot=ids[-2],
        warm_hot_slot=ids[-1],
        floor_first=1,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], port: int, log: Path):
    command = [
        str(BIN / "gunicorn"),
        "epassport.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        args.worker_class,
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--keep-alive",
        "75",
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    handle = log.open("w")
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return process, command


def wait_ready(process: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    """Until every worker has loaded Django: one answer from /healthz (any status) per
    worker would not prove it, so wait for several answers in a row."""
    deadline = time.monotonic() + timeout
    answers = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            answers += 1
            if answers >= 10:
                return
        except OSError:
            answers = 0
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn not ready after {timeout}s:\n{log.read_text()}")


def stop_gunicorn(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# CPU accounting --------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, ppid, utime + stime in ticks) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), int(fields[11]) + int(fields[12])


def cpu_snapshot(gunicorn_pid: int) -> dict[str, dict[int, int]]:
    """CPU ticks per process of the gunicorn tree and of every postgres process."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat:
                stats[int(entry)] = stat
    server = {pid: s[2] for pid, s in stats.items() if pid == gunicorn_pid or s[1] == gunicorn_pid}
    postgres = {pid: s[2] for pid, s in stats.items() if s[0] == "postgres"}
    return {"gunicorn": server, "postgres": postgres}


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds used between two snapshots (processes that ended in between are lost)."""
    return {
        group: sum(ticks - before[group].get(pid, 0) for pid, ticks in after[group].items())
        / CLK_TCK
        for group in after
    }


# Load generators -------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    path: str
    clients: int
    seconds: float
    requests: int
    created: int
    conflicts: dict[str, int]  # 409s by code
    other_statuses: dict[str, int]  # anything but 201 and 409, by status
    socket_errors: int
    requests_per_second: float
    bookings_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return sum(self.other_statuses.values()) + self.socket_errors


@dataclass
class Load:
    """What the clients send: bodies for `path`, slots `first` .. `first + count - 1` in
    round robin over all clients (count 1: the hot slot), national ids `prefix` + n."""

    name: str
    path: str
    first: int
    count: int
    prefix: str


WRK_LUA = r"""
-- Built by bench/booking_rush.py: unique booking bodies, answers counted by status/code.
local path, first, count, prefix = "%(path)s", %(first)d, %(count)d, "%(prefix)s"
local nthreads = %(threads)d
local threads = {}
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  n = 0
  statuses = {}
  codes = {}
end

function request()
  local k = n * nthreads + tid - 1
  n = n + 1
  local slot = first + (k %% count)
  local nid = prefix .. tid .. "N" .. n
  local body = string.format(
    '{"slot":%%d,"surname":"BENCH","given_names":"Charge Test","birth_date":"1990-01-01",' ..
    '"national_id":"%%s","email":"%%s@bench.example.com","phone":"+22376123456",' ..
    '"language":"fr"}', slot, nid, string.lower(nid))
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 409 then
    local code = body and body:match('"code"%%s*:%%s*"([%%w_]+)"') or "?"
    codes[code] = (codes[code] or 0) + 1
  end
end

function done(summary, latency, requests)
  local st, cd = {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("statuses")) do st[k] = (st[k] or 0) + v end
    for k, v in pairs(thread:get("codes")) do cd[k] = (cd[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(st) do table.insert(parts, string.format('"%%d":%%d', k, v)) end
  local cparts = {}
  for k, v in pairs(cd) do table.insert(cparts, string.format('"%%s":%%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"statuses":{%%s},"codes":{%%s},' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d},' ..
    '"p50":%%d,"p95":%%d,"p99":%%d,"max":%%d}\n',
    summary.requests, summary.duration, table.concat(parts, ","), table.concat(cparts, ","),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_available(install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not install:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        return None
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return None
    print("wrk is missing: installing it with apt-get…", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([*prefix, apt, "install", "-y", "wrk"], env=env, **quiet).returncode:
        subprocess.run([*prefix, apt, "update"], env=env, **quiet)
        subprocess.run([*prefix, apt, "install", "-y", "wrk"], env=env, **quiet)
    return shutil.which("wrk")


def run_wrk(wrk: str, port: int, load: Load, clients: int, seconds: float) -> dict:
    threads = max(1, min(2, clients))
    script = WRK_LUA % {
        "path": load.path,
        "first": load.first,
        "count": load.count,
        "prefix": load.prefix,
        "threads": threads,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = [
            wrk,
            f"-t{threads}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            handle.name,
            f"http://127.0.0.1:{port}{load.path}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    finally:
        os.unlink(handle.name)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line[len("WRKJSON ") :])
            break
    else:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    return {
        "requests": raw["requests"],
        "seconds": raw["duration_us"] / 1e6,
        "statuses": statuses,
        "codes": raw["codes"],
        "socket_errors": sum(raw["errors"].values()),
        "p50": raw["p50"] / 1000,
        "p95": raw["p95"] / 1000,
        "p99": raw["p99"] / 1000,
        "max": raw["max"] / 1000,
    }


def _python_client(port, load, index, stride, deadline, out):
    """One client: requests on one keep-alive connection until the deadline."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    n = 0
    while time.monotonic() < deadline:
        slot = load.first + ((n * stride + index) % load.count)
        nid = f"{load.prefix}{index}N{n}"
        body = (
            f'{{"slot":{slot},"surname":"BENCH","given_names":"Charge Test",'
            f'"birth_date":"1990-01-01","national_id":"{nid}",'
            f'"email":"{nid.lower()}@bench.example.com","phone":"+22376123456",'
            f'"language":"fr"}}'
        )
        n += 1
        started = time.perf_counter()
        try:
            connection.request("POST", load.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            out.append((0, "", 0.0))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        elapsed = time.perf_counter() - started
        code = ""
        if response.status == 409:
            with contextlib.suppress(ValueError):
                code = json.loads(payload).get("code", "?")
        out.append((response.status, code, elapsed))
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def _python_process(port, load, indexes, stride, start_at, seconds, queue):
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.monotonic() + seconds
    out: list = []
    threads = [
        threading.Thread(target=_python_client, args=(port, load, i, stride, deadline, out))
        for i in indexes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(out)


def run_python(port: int, load: Load, clients: int, seconds: float) -> dict:
    processes = max(1, min(os.cpu_count() or 1, clients))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 0.5
    workers = [
        context.Process(
            target=_python_process,
            args=(port, load, range(p, clients, processes), clients, start_at, seconds, queue),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [item for _ in workers for item in queue.get()]
    for worker in workers:
        worker.join()
    statuses: dict[int, int] = {}
    codes: dict[str, int] = {}
    latencies = []
    errors = 0
    for status, code, elapsed in results:
        if status == 0:
            errors += 1
            continue
        statuses[status] = statuses.get(status, 0) + 1
        if status == 409:
            codes[code] = codes.get(code, 0) + 1
        latencies.append(elapsed * 1000)
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else 0
        )

    return {
        "requests": len(results) - errors,
        "seconds": seconds,
        "statuses": statuses,
        "codes": codes,
        "socket_errors": errors,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": latencies[-1] if latencies else 0,
    }


class Driver:
    def __init__(self, kind: str, wrk: str | None, port: int, gunicorn_pid: int):
        self.kind, self.wrk, self.port, self.gunicorn_pid = kind, wrk, port, gunicorn_pid

    def run(self, load: Load, clients: int, seconds: float) -> dict:
        if self.kind == "wrk":
            return run_wrk(self.wrk, self.port, load, clients, seconds)
        return run_python(self.port, load, clients, seconds)

    def phase(self, load: Load, clients: int, seconds: float) -> PhaseResult:
        before = cpu_snapshot(self.gunicorn_pid)
        children = os.times()
        raw = self.run(load, clients, seconds)
        after_children = os.times()
        cpu = cpu_used(before, cpu_snapshot(self.gunicorn_pid))
        # wrk and the Python generator's processes are children, waited for: os.times()
        # has their CPU time.
        cpu["load generator"] = (after_children.children_user + after_children.children_system) - (
            children.children_user + children.children_system
        )
        statuses = raw["statuses"]
        created = statuses.get(201, 0)
        other = {str(k): v for k, v in sorted(statuses.items()) if k not in (201, 409)}
        return PhaseResult(
            name=load.name,
            path=load.path,
            clients=clients,
            seconds=round(raw["seconds"], 2),
            requests=raw["requests"],
            created=created,
            conflicts=dict(sorted(raw["codes"].items())),
            other_statuses=other,
            socket_errors=raw["socket_errors"],
            requests_per_second=round(raw["requests"] / raw["seconds"], 1),
            bookings_per_second=round(created / raw["seconds"], 1),
            p50_ms=round(raw["p50"], 1),
            p95_ms=round(raw["p95"], 1),
            p99_ms=round(raw["p99"], 1),
            max_ms=round(raw["max"], 1),
            cpu_seconds={k: round(v, 1) for k, v in cpu.items()},
        )


# Checks and report -----------------------------------------------------------------------


def database_counts(fixture: Fixture) -> dict[str, int]:
    """Overbooked slots counted from the appointments themselves (not from Slot.booked and
    its trigger), overbooked floor slots, and the rows each side holds."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM (
                SELECT s.id
                FROM appointments_slot s
                JOIN appointments_appointment a ON a.slot_id = s.id AND a.status = ANY(%s)
                GROUP BY s.id, s.capacity
                HAVING count(*) > s.capacity
            ) AS overbooked
            """,
            [list(SEAT_HOLDING)],
        )
        overbooked = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM (
                SELECT s.id FROM bench_floor_slot s JOIN bench_floor_booking b ON b.slot_id = s.id
                GROUP BY s.id, s.capacity HAVING count(*) > s.capacity
            ) AS overbooked
            """
        )
        floor_overbooked = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM appointments_appointment WHERE status = ANY(%s)",
            [list(SEAT_HOLDING)],
        )
        appointments = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM appointments_appointment"
            " WHERE slot_id = %s AND status = ANY(%s)",
            [fixture.hot_slot, list(SEAT_HOLDING)],
        )
        hot = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM bench_floor_booking")
        floor_rows = cursor.fetchone()[0]
    connection.close()
    return {
        "overbooked_slots": overbooked,
        "overbooked_floor_slots": floor_overbooked,
        "appointments": appointments,
        "hot_slot_appointments": hot,
        "floor_bookings": floor_rows,
    }


def print_phase(result: PhaseResult) -> None:
    conflicts = ", ".join(f"{k} {v}" for k, v in result.conflicts.items()) or "none"
    other = ", ".join(f"{k}: {v}" for k, v in result.other_statuses.items()) or "none"
    cpu = ", ".join(f"{k} {v:.1f}s" for k, v in result.cpu_seconds.items())
    print(f"\n== {result.name}: POST {result.path}, {result.clients} clients, {result.seconds}s")
    print(f"  requests          {result.requests}")
    print(f"  201 created       {result.created}")
    print(f"  409 by code       {conflicts}")
    print(f"  other statuses    {other}; socket errors: {result.socket_errors}")
    print(f"  requests/s        {result.requests_per_second}")
    print(f"  bookings/s        {result.bookings_per_second}")
    print(
        f"  latency ms        p50 {result.p50_ms}  p95 {result.p95_ms}  p99 {result.p99_ms}"
        f"  max {result.max_ms}"
    )
    print(f"  CPU used          {cpu} (of {result.seconds * (os.cpu_count() or 1):.0f}s)")


def api_present(port: int) -> bool:
    """Whether the booking API answers (anything but 404 on an empty POST)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", BOOKING_PATH, body="{}", headers={"Content-Type": "application/json"}
        )
        return connection.getresponse().status != 404
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = server_env(args)
    os.environ.update(env)  # this process uses Django too (fixture and final counts)

    wrk = None
    if args.loadgen in ("auto", "wrk"):
        wrk = wrk_available(install=True)
        if wrk is None and args.loadgen == "wrk":
            print("wrk is missing and could not be installed", file=sys.stderr)
            return 1
        if wrk is None:
            print("wrk unavailable: falling back to the Python load generator", flush=True)
    loadgen = "wrk" if wrk else "python"

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    gunicorn = None
    log = OUT_DIR / "booking_rush.gunicorn.log"
    database_created = False
    try:
        started = time.monotonic()
        print(f"database {args.database_url}: re-creating and migrating…", flush=True)
        recreate_database(args.database_url)
        database_created = True
        flush_redis(args.redis_url)
        manage(env, "migrate", "--no-input", "--verbosity", "0")
        fixture = create_fixture(args)
        port = free_port()
        gunicorn, command = start_gunicorn(args, env, port, log)
        wait_ready(gunicorn, port, log)
        print(
            f"set-up in {time.monotonic() - started:.1f}s; gunicorn {args.worker_class} "
            f"workers={args.workers} threads={args.threads} on 127.0.0.1:{port}; "
            f"load generator: {loadgen}; {args.slots} slots x {args.capacity} seats",
            flush=True,
        )
        driver = Driver(loadgen, wrk, port, gunicorn.pid)
        phases = list(args.phases)
        if ("spread" in phases or "hot" in phases) and not api_present(port):
            print(
                f"\n!! {BOOKING_PATH} answers 404: the booking API is not wired; "
                "only the floor is measured.",
                flush=True,
            )
            phases = [p for p in phases if p == "floor"]

        loads = {
            "floor": Load("floor", FLOOR_PATH, fixture.floor_first, args.slots, "FLOOR"),
            "spread": Load("spread", BOOKING_PATH, fixture.spread_first, args.slots, "SPREAD"),
            "hot": Load("hot", BOOKING_PATH, fixture.hot_slot, 1, "HOT"),
        }
        warmups = {
            "floor": Load("floor", FLOOR_PATH, fixture.floor_first, args.slots, "WFLOOR"),
            "spread": Load("spread", BOOKING_PATH, fixture.spread_first, args.slots, "WSPREAD"),
            "hot": Load("hot", BOOKING_PATH, fixture.warm_hot_slot, 1, "WHOT"),
        }
        results: dict[str, PhaseResult] = {}
        warm: dict[str, PhaseResult] = {}
        for name in phases:
            # Warm-up on the same kind of requests: the floor's on floor slots (seats it
            # then skips: round robin starts over on the same slots, so the warm-up of the
            # spread phase books the first seats and the measure the next ones).
            if args.warmup > 0:
                warm[name] = driver.phase(warmups[name], args.clients, args.warmup)
            seconds = args.hot_duration if name == "hot" else args.duration
            results[name] = driver.phase(loads[name], args.clients, seconds)
            print_phase(results[name])
        gunicorn_errors = log.read_text()
        counts = database_counts(fixture)
        return report(args, command, loadgen, results, warm, counts, gunicorn_errors)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        stop_gunicorn(gunicorn)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if database_created and not args.keep:
            with contextlib.suppress(Exception):
                drop_database(args.database_url)
        with contextlib.suppress(Exception):
            flush_redis(args.redis_url)


def report(args, command, loadgen, results, warm, counts, gunicorn_errors) -> int:
    problems = []
    for name, result in [*results.items(), *((f"{k} warm-up", v) for k, v in warm.items())]:
        if result.other_statuses:
            problems.append(f"{name}: unexpected statuses {result.other_statuses}")
        if result.socket_errors:
            problems.append(f"{name}: {result.socket_errors} socket errors/timeouts")
    api_created = sum(r.created for k, r in [*results.items(), *warm.items()] if k != "floor")
    floor_created = sum(r.created for k, r in [*results.items(), *warm.items()] if k == "floor")
    if counts["overbooked_slots"]:
        problems.append(f"{counts['overbooked_slots']} overbooked slots")
    if counts["overbooked_floor_slots"]:
        problems.append(f"{counts['overbooked_floor_slots']} overbooked floor slots")
    # wrk stops at the deadline without reading the answers in flight: up to one request
    # per client and per run may have been carried out and not counted. The Python
    # generator reads every answer.
    api_runs = sum(1 for k in [*results, *warm] if k != "floor")
    floor_runs = sum(1 for k in [*results, *warm] if k == "floor")
    slack = args.clients if loadgen == "wrk" else 0
    if not 0 <= counts["appointments"] - api_created <= slack * api_runs:
        problems.append(
            f"{api_created} bookings answered 201 but {counts['appointments']} in the database"
        )
    if not 0 <= counts["floor_bookings"] - floor_created <= slack * floor_runs:
        problems.append(
            f"floor: {floor_created} answered 201 but {counts['floor_bookings']} in the database"
        )
    if "hot" in results and counts["hot_slot_appointments"] != args.capacity:
        problems.append(
            f"hot slot holds {counts['hot_slot_appointments']} appointments, "
            f"not its {args.capacity} seats"
        )
    if "hot" in results and results["hot"].created != args.capacity:
        problems.append(f"hot slot: {results['hot'].created} answered 201, not {args.capacity}")

    floor, spread = results.get("floor"), results.get("spread")
    ratio = (
        spread.bookings_per_second / floor.bookings_per_second
        if floor and spread and floor.bookings_per_second
        else None
    )
    goals = {}
    print("\n== summary")
    if ratio is not None:
        goals["ratio"] = ratio >= GOAL_RATIO
        print(
            f"  spread/floor      {ratio:.1%} ({spread.bookings_per_second} / "
            f"{floor.bookings_per_second} bookings/s; goal >= {GOAL_RATIO:.0%}): "
            f"{'OK' if goals['ratio'] else 'MISSED'}"
        )
    if spread:
        goals["p95"] = spread.p95_ms < GOAL_P95_MS
        at = "" if args.clients == GOAL_CLIENTS else f" (goal is stated at {GOAL_CLIENTS} clients)"
        print(
            f"  spread p95        {spread.p95_ms} ms at {args.clients} clients "
            f"(goal < {GOAL_P95_MS:.0f} ms{at}): {'OK' if goals['p95'] else 'MISSED'}"
        )
    if "hot" in results:
        hot = results["hot"]
        print(
            f"  hot slot          {hot.created} booked of {args.capacity} seats, "
            f"{hot.conflicts.get('slot_full', 0)} slot_full; p95 {hot.p95_ms} ms"
        )
    goals["overbooked"] = counts["overbooked_slots"] == 0
    print(
        f"  overbooked slots  {counts['overbooked_slots']} (appointments per slot in "
        f"{'/'.join(SEAT_HOLDING)} vs capacity; floor: {counts['overbooked_floor_slots']})"
    )
    print(
        f"  database          {counts['appointments']} appointments for {api_created} 201s; "
        f"{counts['floor_bookings']} floor rows for {floor_created} 201s"
        + (" (wrk leaves the answers in flight at its deadline unread)" if slack else "")
    )
    errors = [line for line in gunicorn_errors.splitlines() if line.strip()]
    if any("Traceback" in line or "[ERROR]" in line for line in errors):
        problems.append("gunicorn logged errors (bench/out/booking_rush.gunicorn.log)")
    for problem in problems:
        print(f"  FAILED: {problem}")
    missed = [name for name, ok in goals.items() if not ok]
    print(
        "  result            "
        + ("FAILED" if problems else "goals met" if not missed else f"goals missed: {missed}")
    )

    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": os.cpu_count(),
        "clients": args.clients,
        "duration": args.duration,
        "warmup": args.warmup,
        "slots": args.slots,
        "capacity": args.capacity,
        "load_generator": loadgen,
        "gunicorn": " ".join(command[1:]),
        "phases": {name: asdict(result) for name, result in results.items()},
        "ratio_spread_to_floor": round(ratio, 4) if ratio is not None else None,
        "goals": goals,
        "database": counts,
        "problems": problems,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    shown = args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out
    print(f"  figures           {shown}")
    if problems:
        return 1
    if missed and args.strict:
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
