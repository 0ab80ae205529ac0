"""Booking rush: how fast the portal takes bookings, against a floor measured in the same run.

    .venv/bin/python bench/booking_rush.py [--clients 32] [--duration 20] [--slots 20000]

Each run starts from scratch:

1. drops and re-creates a throwaway database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/epassport_bench``; its name must contain "bench")
   on the machine's PostgreSQL, runs ``migrate``, creates one office with ``--slots``
   future slots of ``--capacity`` seats, two "hot" slots, and the floor's two tables
   (bench/floor.py) with as many seats;
2. starts the portal under gunicorn with ``DEBUG`` off, persistent database connections
   (``CONN_MAX_AGE=60``), a dedicated Redis database (``--redis-url``, default db 9,
   flushed before and after: the notification tasks that bookings queue stay there, no
   worker runs), no booking challenge and no rate limit, on a free port of 127.0.0.1.
   ``collectstatic`` is not needed: neither the API nor the floor renders a template;
3. warms each phase up (``--warmup`` seconds), then measures, with ``--clients`` concurrent
   clients on keep-alive connections, each POSTing one booking after another with a unique
   JSON body (unique national id):

   - **floor**: ``POST /bench/floor/``, a view that runs only the two SQL statements of a
     booking (conditional ``UPDATE`` of the slot's counter, ``INSERT`` of the booking) in
     one transaction, behind the same middleware, in the same server;
   - **spread**: ``POST /api/v1/bookings/`` over ``--slots`` slots in round robin, so that
     concurrent bookings almost never meet on a slot;
   - **hot**: every client books the same slot for ``--hot-duration`` seconds: exactly
     ``--capacity`` bookings must succeed and every other answer be ``409 slot_full``.

   The floor and spread phases run in ``--rounds`` alternating rounds (floor, spread,
   spread, floor, ...) that add up to ``--duration`` seconds each, so that a change of the
   machine's load during the run weighs on both alike; percentiles of several rounds are
   merged from each round's percentiles in 0.5% steps;
4. prints, per phase, requests, 201s, 409s by code, other statuses, requests and bookings
   per second, p50/p95/p99 latency, the CPU time of gunicorn, of the PostgreSQL backends of
   the benchmark's database, of the load generator and of the rest of the machine (other
   people's work on a shared machine), and CPU per request; then the ratio of the spread
   phase's bookings per second to the floor's, whether the spread p95 is under 150 ms, and
   the number of overbooked slots, counted in SQL from the appointments in seat-holding
   statuses per slot against its capacity (not from ``Slot.booked`` and its trigger). The
   figures also go to ``bench/out/booking_rush.json``;
5. stops gunicorn, drops the database and flushes the Redis database, also on Ctrl-C and
   on errors (``--keep`` keeps the database for inspection).

Exit status 1 when an answer was neither a 201 nor a 409 (a 5xx for instance), a socket
failed, a slot is overbooked, the 201s do not match the rows in the database, or the hot
slot did not get exactly its capacity, or the floor or spread phase ran out of seats
(raise ``--slots``); 0 otherwise, or 2 with ``--strict`` when a goal is
missed. The goals (issue, on a 2-core machine): spread bookings per second at least 35% of
the floor's, spread p95 under 150 ms at 32 clients, no overbooked slot. The machine is
shared and noisy: read the ratio to the floor of the same run, never a bare figure.

Load generator: ``wrk`` with a Lua script built here, which writes a unique JSON body per
request, counts the answers by status and by ``code``, and reports how many requests were
still in flight at the deadline (wrk does not read those answers; they may have been
carried out, and the database check allows for them). wrk is C: 0.06 s of CPU per second
at 850 requests/s. The pure-Python fallback (``--loadgen python``: one process per core,
the clients as threads on http.client keep-alive connections) is used when wrk is missing
and cannot be installed with ``apt-get`` (as root or with password-less sudo). It is not
the default because it takes a quarter of a core from the server it measures: on the floor,
back to back, 720 requests/s and p95 97-117 ms against wrk's 850-860 and 80 ms.

gunicorn: ``sync`` workers, 2 per core + 1 (gunicorn's own advice), as the README tells
to run the portal behind its reverse proxy; options ``--worker-class``, ``--workers``,
``--threads``. Measured on 2 cores, 10 s runs, with the booking path as it is now: sync x 5
gave 41% of the floor and a spread p95 of 106 ms; gthread 3 x 8, 4 x 8, 2 x 16 and 6 x 2
gave 37-47% but p95 of 160-230 ms. The reason is the tail, not the throughput: a gthread
worker keeps the connections it accepted, so 32 keep-alive clients spread unevenly over the
workers and those of the busiest worker wait (p95 about 2.2 x p50, on the floor too), while
sync workers take each new request from one shared listen queue, first come first served
(p95 about 1.4 x p50). Closing the connection after each answer costs little on loopback
and nothing behind a proxy that pools them.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
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
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of floor and spread (3)"
    )
    parser.add_argument("--slots", type=int, default=20000, help="slots to spread over (20000)")
    parser.add_argument("--capacity", type=int, default=4, help="seats per slot (4)")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/epassport_bench",
        help="throwaway database, dropped and re-created (its name must contain 'bench')",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--worker-class", default="sync", choices=["gthread", "sync"])
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (2 per core + 1)"
    )
    parser.add_argument("--threads", type=int, default=None, help="threads per gthread worker (2)")
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
        args.threads = 2 if args.worker_class == "gthread" else 1
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
    """One office with two hot slots then many other future slots, and the floor's tables,
    through the ORM (in this process, on the benchmark database)."""
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
        # The two hot slots come first (warm-up's, then the measured one): a slot_full
        # answer then offers the next free slots, as in a real rush.
        ids = list(Slot.objects.filter(office=office).order_by("pk").values_list("pk", flat=True))
        spread = ids[2:]
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
        hot_slot=ids[1],
        warm_hot_slot=ids[0],
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


def _machine_busy() -> int:
    """Ticks the whole machine spent busy (every core), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


def cpu_snapshot(gunicorn_pid: int, database: str) -> dict[str, dict[int, int]]:
    """CPU ticks per process of the gunicorn tree and of the PostgreSQL backends serving the
    benchmark's database, and of the whole machine."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat:
                stats[int(entry)] = stat
    server = {pid: s[2] for pid, s in stats.items() if pid == gunicorn_pid or s[1] == gunicorn_pid}
    postgres = {}
    for pid, stat in stats.items():
        if stat[0] == "postgres":
            with contextlib.suppress(OSError):
                # "postgres: [cluster:] user database host(port) state"
                words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
                if database.encode() in words[1:5]:
                    postgres[pid] = stat[2]
    return {"gunicorn": server, "postgres": postgres, "machine": {0: _machine_busy()}}


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds used between two snapshots (processes that ended in between are lost)."""
    return {
        group: sum(ticks - before[group].get(pid, 0) for pid, ticks in after[group].items())
        / CLK_TCK
        for group in after
    }


# Load generators -------------------------------------------------------------------------

# Each run reports its latency distribution as these percentiles (plus min and max); the
# runs of a phase are merged through them (exact for one run, within 0.5% for several).
GRID = [i / 2 for i in range(1, 200)]


@dataclass
class Load:
    """What the clients of one run send: POST `path` with a unique JSON booking body per
    request, on slots `first` .. `first + count - 1` in round robin over all clients
    starting at position `start` (count 1: the hot slot); national ids start with
    `prefix` (unique per run)."""

    path: str
    first: int
    count: int
    prefix: str
    start: int = 0


@dataclass
class Run:
    """What one run of the load generator saw."""

    requests: int
    in_flight: int  # sent but left unanswered at the deadline (wrk), carried out or not
    seconds: float
    statuses: dict[int, int]
    codes: dict[str, int]  # 409s by code
    socket_errors: int
    quantiles: list[tuple[float, float]]  # (percent, ms), from (0, min) to (100, max)
    cpu: dict[str, float] = field(default_factory=dict)


WRK_LUA = r"""
-- Built by bench/booking_rush.py: a unique booking body per request, answers counted by
-- status and by "code", latency percentiles on a grid for merging runs.
local path, first, count, start = "%(path)s", %(first)d, %(count)d, %(start)d
local prefix, nthreads = "%(prefix)s", %(threads)d
local grid = {%(grid)s}
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
  local k = start + n * nthreads + tid - 1
  n = n + 1
  local nid = prefix .. "T" .. tid .. "N" .. n
  local body = string.format(
    '{"slot":%%d,"surname":"BENCH","given_names":"Charge Test","birth_date":"1990-01-01",' ..
    '"national_id":"%%s","email":"%%s@bench.example.com","phone":"+22376123456",' ..
    '"language":"fr"}', first + (k %% count), nid, string.lower(nid))
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
  local st, cd, sent = {}, {}, 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("n")
    for k, v in pairs(thread:get("statuses")) do st[k] = (st[k] or 0) + v end
    for k, v in pairs(thread:get("codes")) do cd[k] = (cd[k] or 0) + v end
  end
  local sp, cp, qp = {}, {}, {}
  for k, v in pairs(st) do table.insert(sp, string.format('"%%d":%%d', k, v)) end
  for k, v in pairs(cd) do table.insert(cp, string.format('"%%s":%%d', k, v)) end
  table.insert(qp, string.format("[0,%%d]", latency.min))
  for _, p in ipairs(grid) do
    table.insert(qp, string.format("[%%s,%%d]", p, latency:percentile(p)))
  end
  table.insert(qp, string.format("[100,%%d]", latency.max))
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"sent":%%d,"duration_us":%%d,"statuses":{%%s},"codes":{%%s},' ..
    '"errors":%%d,"quantiles_us":[%%s]}\n',
    summary.requests, sent, summary.duration, table.concat(sp, ","), table.concat(cp, ","),
    e.connect + e.read + e.write + e.timeout, table.concat(qp, ",")))
end
"""


def wrk_available() -> str | None:
    """wrk, installed with apt-get when missing (as root or with password-less sudo)."""
    found = shutil.which("wrk")
    apt = shutil.which("apt-get")
    if found or apt is None:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        return None
    print("wrk is missing: installing it with apt-get…", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([*sudo, apt, "install", "-y", "wrk"], env=env, **quiet).returncode:
        subprocess.run([*sudo, apt, "update"], env=env, **quiet)
        subprocess.run([*sudo, apt, "install", "-y", "wrk"], env=env, **quiet)
    return shutil.which("wrk")


def run_wrk(wrk: str, port: int, load: Load, clients: int, seconds: int) -> Run:
    threads = max(1, min(2, clients))  # wrk needs little CPU: leave the cores to the server
    script = WRK_LUA % {
        "path": load.path,
        "first": load.first,
        "count": load.count,
        "start": load.start,
        "prefix": load.prefix,
        "threads": threads,
        "grid": ",".join(str(p) for p in GRID),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = [
            *(wrk, f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s"),
            *("-s", handle.name, f"http://127.0.0.1:{port}{load.path}"),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 120, check=False
        )
    finally:
        os.unlink(handle.name)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line.removeprefix("WRKJSON "))
            break
    else:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return Run(
        requests=raw["requests"],
        in_flight=max(0, raw["sent"] - raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        statuses={int(k): v for k, v in raw["statuses"].items()},
        codes=raw["codes"],
        socket_errors=raw["errors"],
        quantiles=[(p, us / 1000) for p, us in raw["quantiles_us"]],
    )


def _python_client(port, load, index, stride, deadline, out):
    """One client: bookings one after the other on one keep-alive connection."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while time.monotonic() < deadline:
        nid = f"{load.prefix}T{index}N{n}"
        slot = load.first + ((load.start + n * stride + index) % load.count)
        n += 1
        body = (
            f'{{"slot":{slot},"surname":"BENCH","given_names":"Charge Test",'
            f'"birth_date":"1990-01-01","national_id":"{nid}",'
            f'"email":"{nid.lower()}@bench.example.com","phone":"+22376123456",'
            '"language":"fr"}'
        )
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
            with contextlib.suppress(ValueError, AttributeError):
                code = json.loads(payload).get("code", "?")
        out.append((response.status, code, elapsed))
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def _python_process(port, load, indexes, stride, start_at, seconds, queue):
    time.sleep(max(0.0, start_at - time.time()))
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


def run_python(port: int, load: Load, clients: int, seconds: int) -> Run:
    """The fallback: one process per core, the clients spread over them as threads."""
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
    latencies = sorted(elapsed * 1000 for status, _, elapsed in results if status)
    for status, code, _ in results:
        if status:
            statuses[status] = statuses.get(status, 0) + 1
        if status == 409:
            codes[code] = codes.get(code, 0) + 1
    quantiles = []
    if latencies:
        last = len(latencies) - 1
        quantiles = [(0.0, latencies[0])]
        quantiles += [(p, latencies[min(last, int(len(latencies) * p / 100))]) for p in GRID]
        quantiles.append((100.0, latencies[-1]))
    return Run(
        requests=len(latencies),
        in_flight=0,
        seconds=float(seconds),
        statuses=statuses,
        codes=codes,
        socket_errors=len(results) - len(latencies),
        quantiles=quantiles,
    )


class Driver:
    """Runs the load generator (wrk or Python) and the CPU accounting around each run."""

    def __init__(self, kind: str, wrk: str | None, port: int, gunicorn_pid: int, database: str):
        self.kind, self.wrk, self.port = kind, wrk, port
        self.gunicorn_pid, self.database = gunicorn_pid, database

    def run(self, load: Load, clients: int, seconds: int) -> Run:
        before, children = cpu_snapshot(self.gunicorn_pid, self.database), os.times()
        if self.kind == "wrk":
            run = run_wrk(self.wrk, self.port, load, clients, seconds)
        else:
            run = run_python(self.port, load, clients, seconds)
        after = os.times()
        run.cpu = cpu_used(before, cpu_snapshot(self.gunicorn_pid, self.database))
        # wrk and the Python generator's processes are children, waited for: os.times()
        # counts their CPU time.
        run.cpu["load generator"] = (after.children_user + after.children_system) - (
            children.children_user + children.children_system
        )
        machine = run.cpu.pop("machine")
        run.cpu["others"] = max(0.0, machine - sum(run.cpu.values()))
        return run


# Phases ------------------------------------------------------------------------------------


def _cdf(quantiles: list[tuple[float, float]], x: float) -> float:
    """Fraction of one run's requests at or below x ms (linear between grid points)."""
    if not quantiles or x < quantiles[0][1]:
        return 0.0
    for (p0, v0), (p1, v1) in itertools.pairwise(quantiles):
        if v0 <= x < v1:
            return (p0 + (p1 - p0) * (x - v0) / (v1 - v0)) / 100
    return 1.0


def merged_percentile(runs: list[Run], percent: float) -> float:
    """The percentile of the requests of several runs together (bisection on the merged
    distribution); for one run, its own percentile."""
    runs = [run for run in runs if run.requests and run.quantiles]
    if not runs:
        return 0.0
    if len(runs) == 1:
        for p, value in runs[0].quantiles:
            if p >= percent:
                return value
    total = sum(run.requests for run in runs)
    low = min(run.quantiles[0][1] for run in runs)
    high = max(run.quantiles[-1][1] for run in runs)
    for _ in range(60):
        middle = (low + high) / 2
        share = sum(run.requests * _cdf(run.quantiles, middle) for run in runs) / total
        low, high = (middle, high) if share < percent / 100 else (low, middle)
    return high


@dataclass
class PhaseResult:
    name: str
    path: str
    clients: int
    runs: int
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
    cpu_seconds: dict[str, float]

    @classmethod
    def of(cls, name: str, path: str, clients: int, runs: list[Run]) -> PhaseResult:
        seconds = sum(run.seconds for run in runs)
        requests = sum(run.requests for run in runs)
        statuses: dict[int, int] = {}
        codes: dict[str, int] = {}
        cpu: dict[str, float] = {}
        for run in runs:
            for status, number in run.statuses.items():
                statuses[status] = statuses.get(status, 0) + number
            for code, number in run.codes.items():
                codes[code] = codes.get(code, 0) + number
            for group, used in run.cpu.items():
                cpu[group] = cpu.get(group, 0) + used
        created = statuses.get(201, 0)
        return cls(
            name=name,
            path=path,
            clients=clients,
            runs=len(runs),
            seconds=round(seconds, 2),
            requests=requests,
            created=created,
            conflicts=dict(sorted(codes.items())),
            other_statuses={str(k): v for k, v in sorted(statuses.items()) if k not in (201, 409)},
            socket_errors=sum(run.socket_errors for run in runs),
            requests_per_second=round(requests / seconds, 1) if seconds else 0.0,
            bookings_per_second=round(created / seconds, 1) if seconds else 0.0,
            p50_ms=round(merged_percentile(runs, 50), 1),
            p95_ms=round(merged_percentile(runs, 95), 1),
            p99_ms=round(merged_percentile(runs, 99), 1),
            max_ms=round(
                max((run.quantiles[-1][1] for run in runs if run.quantiles), default=0), 1
            ),
            cpu_seconds={k: round(v, 1) for k, v in cpu.items()},
        )


def print_phase(result: PhaseResult) -> None:
    conflicts = ", ".join(f"{k} {v}" for k, v in result.conflicts.items()) or "none"
    other = ", ".join(f"{k}: {v}" for k, v in result.other_statuses.items()) or "none"
    cpu = ", ".join(f"{k} {v:.1f}s" for k, v in result.cpu_seconds.items())
    cpu = cpu.replace("others", "rest of the machine")
    runs = f" in {result.runs} runs" if result.runs > 1 else ""
    print(
        f"\n== {result.name}: POST {result.path}, {result.clients} clients, "
        f"{result.seconds}s{runs}"
    )
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
    cores = os.cpu_count() or 1
    print(f"  CPU used          {cpu} (of {result.seconds * cores:.0f}s on {cores} cores)")
    if result.requests:
        per = {k: v / result.requests * 1000 for k, v in result.cpu_seconds.items()}
        print(
            f"  CPU per request   gunicorn {per.get('gunicorn', 0):.2f} ms, "
            f"postgres {per.get('postgres', 0):.2f} ms"
        )


# Checks ------------------------------------------------------------------------------------


def database_counts(fixture: Fixture) -> dict[str, int]:
    """Overbooked slots counted from the appointments themselves (not from Slot.booked and
    its trigger), overbooked floor slots, and the rows each side holds."""
    from django.db import connection

    seat_holding = list(SEAT_HOLDING)
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
            [seat_holding],
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
            [seat_holding],
        )
        appointments = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM appointments_appointment"
            " WHERE slot_id = %s AND status = ANY(%s)",
            [fixture.hot_slot, seat_holding],
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


def api_present(port: int) -> bool:
    """Whether the booking API answers (anything but 404 to an empty POST)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", BOOKING_PATH, body="{}", headers={"Content-Type": "application/json"}
        )
        return connection.getresponse().status != 404
    finally:
        connection.close()


# Main --------------------------------------------------------------------------------------


def measure(args, driver: Driver, fixture: Fixture, phases: list[str]) -> tuple[dict, dict]:
    """Warm-ups, then the floor and spread phases in alternating rounds (so that a change of
    the machine's load hits both alike), then the hot slot. Returns the phases' results
    and all runs (warm-ups included) by phase."""
    first = {"floor": fixture.floor_first, "spread": fixture.spread_first}
    path = {"floor": FLOOR_PATH, "spread": BOOKING_PATH, "hot": BOOKING_PATH}
    runs: dict[str, list[Run]] = {name: [] for name in phases}
    measured: dict[str, list[Run]] = {name: [] for name in phases}
    sent = {"floor": 0, "spread": 0}  # round robin over the slots goes on from run to run

    def one(name: str, seconds: int, tag: str) -> Run:
        if name == "hot":
            slot = fixture.warm_hot_slot if tag == "W" else fixture.hot_slot
            load = Load(BOOKING_PATH, slot, 1, f"H{tag}{len(runs[name])}")
        else:
            load = Load(
                path[name], first[name], args.slots, f"{name[0].upper()}{tag}{len(runs[name])}"
            )
            load.start = sent[name]
        run = driver.run(load, args.clients, seconds)
        if name in sent:
            sent[name] += run.requests + run.in_flight + args.clients  # threads differ a little
        runs[name].append(run)
        return run

    warmup = max(1, round(args.warmup)) if args.warmup > 0 else 0
    for name in phases:
        if warmup:
            one(name, warmup, "W")
    rounds = [name for name in ("floor", "spread") if name in phases]
    each = max(1, round(args.duration / args.rounds))
    for number in range(args.rounds):
        for name in rounds if number % 2 == 0 else reversed(rounds):
            measured[name].append(one(name, each, "M"))
    if "hot" in phases:
        measured["hot"].append(one("hot", max(1, round(args.hot_duration)), "M"))
    results = {
        name: PhaseResult.of(name, path[name], args.clients, measured[name]) for name in phases
    }
    return results, runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    (OUT_DIR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT, left empty
    env = server_env(args)
    os.environ.update(env)  # this process uses Django too (fixture and final counts)

    wrk = wrk_available() if args.loadgen in ("auto", "wrk") else None
    if wrk is None and args.loadgen == "wrk":
        print("wrk is missing and could not be installed", file=sys.stderr)
        return 1
    if wrk is None and args.loadgen == "auto":
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
            f"set-up in {time.monotonic() - started:.0f}s; {' '.join(command[1:])}\n"
            f"load generator: {loadgen}; {args.slots} slots x {args.capacity} seats (and as "
            f"many on the floor); {args.rounds} alternating rounds of floor and spread",
            flush=True,
        )
        phases = list(args.phases)
        if ("spread" in phases or "hot" in phases) and not api_present(port):
            print(f"\n!! {BOOKING_PATH} answers 404: only the floor is measured.", flush=True)
            phases = [p for p in phases if p == "floor"]
        database = urllib.parse.unquote(urllib.parse.urlsplit(args.database_url).path[1:])
        driver = Driver(loadgen, wrk, port, gunicorn.pid, database)
        results, runs = measure(args, driver, fixture, phases)
        for result in results.values():
            print_phase(result)
        counts = database_counts(fixture)
        return report(args, command, loadgen, results, runs, counts, log.read_text())
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


def report(args, command, loadgen, results, runs, counts, gunicorn_log) -> int:
    problems = []
    for name, phase_runs in runs.items():
        statuses: dict[int, int] = {}
        for run in phase_runs:
            for status, number in run.statuses.items():
                statuses[status] = statuses.get(status, 0) + number
        unexpected = {k: v for k, v in statuses.items() if k not in (201, 409)}
        if unexpected:
            problems.append(f"{name} (warm-up included): unexpected statuses {unexpected}")
        errors = sum(run.socket_errors for run in phase_runs)
        if errors:
            problems.append(f"{name} (warm-up included): {errors} socket errors or timeouts")
    created = {
        name: sum(run.statuses.get(201, 0) for run in phase_runs)
        for name, phase_runs in runs.items()
    }
    api_created = created.get("spread", 0) + created.get("hot", 0)
    # wrk stops at its deadline without reading the answers in flight: those requests may
    # have been carried out and not counted. The Python generator reads every answer.
    in_flight = {
        name: sum(run.in_flight for run in phase_runs) for name, phase_runs in runs.items()
    }
    api_in_flight = in_flight.get("spread", 0) + in_flight.get("hot", 0)
    if counts["overbooked_slots"]:
        problems.append(f"{counts['overbooked_slots']} overbooked slots")
    if counts["overbooked_floor_slots"]:
        problems.append(f"{counts['overbooked_floor_slots']} overbooked floor slots")
    if not 0 <= counts["appointments"] - api_created <= api_in_flight:
        problems.append(
            f"{api_created} bookings answered 201 but {counts['appointments']} in the database"
        )
    floor_created = created.get("floor", 0)
    if not 0 <= counts["floor_bookings"] - floor_created <= in_flight.get("floor", 0):
        problems.append(
            f"floor: {floor_created} answered 201 but {counts['floor_bookings']} in the database"
        )
    if "hot" in results:
        if counts["hot_slot_appointments"] != args.capacity:
            problems.append(
                f"the hot slot holds {counts['hot_slot_appointments']} appointments, "
                f"not its {args.capacity} seats"
            )
        if results["hot"].created != args.capacity:
            problems.append(f"hot slot: {results['hot'].created} 201s, not {args.capacity}")
        unexpected = {k: v for k, v in results["hot"].conflicts.items() if k != "slot_full"}
        if unexpected:
            problems.append(f"hot slot: 409s other than slot_full: {unexpected}")
    for name in ("floor", "spread"):
        full = results[name].conflicts.get("slot_full", 0) if name in results else 0
        if full:  # the ratio would compare refusals with bookings
            problems.append(f"the {name} phase ran out of seats ({full} slot_full): raise --slots")
    if any(marker in gunicorn_log for marker in ("Traceback", "[ERROR]", "[CRITICAL]")):
        problems.append("gunicorn logged errors (bench/out/booking_rush.gunicorn.log)")

    floor, spread = results.get("floor"), results.get("spread")
    ratio = None
    if floor and spread and floor.bookings_per_second:
        ratio = spread.bookings_per_second / floor.bookings_per_second
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
        note = "" if args.clients == GOAL_CLIENTS else f"; the goal is at {GOAL_CLIENTS} clients"
        print(
            f"  spread p95        {spread.p95_ms} ms at {args.clients} clients (goal < "
            f"{GOAL_P95_MS:.0f} ms{note}): {'OK' if goals['p95'] else 'MISSED'}"
        )
    if "hot" in results:
        hot = results["hot"]
        print(
            f"  hot slot          {hot.created} booked of {args.capacity} seats, "
            f"{hot.conflicts.get('slot_full', 0)} slot_full; p95 {hot.p95_ms} ms"
        )
    goals["overbooked"] = counts["overbooked_slots"] == 0
    print(
        f"  overbooked slots  {counts['overbooked_slots']} (seat-holding appointments per "
        f"slot vs capacity; floor: {counts['overbooked_floor_slots']})"
    )
    print(
        f"  database          {counts['appointments']} appointments for {api_created} 201s, "
        f"{counts['floor_bookings']} floor rows for {floor_created} 201s (and "
        f"{api_in_flight} + {in_flight.get('floor', 0)} requests left in flight by wrk)"
    )
    for problem in problems:
        print(f"  FAILED: {problem}")
    missed = [name for name, ok in goals.items() if not ok]
    verdict = "FAILED" if problems else f"goals missed: {', '.join(missed)}" if missed else "OK"
    print(f"  result            {verdict}")

    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": os.cpu_count(),
        "clients": args.clients,
        "duration": args.duration,
        "rounds": args.rounds,
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
    return 2 if missed and args.strict else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
