"""Tracking: how fast the portal answers GET /api/v1/track/, against a floor measured in the
same run.

    .venv/bin/python bench/track.py [--files 200000] [--clients 32] [--duration 20]

1. set-up: drops and re-creates a throwaway database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/epassport_bench_track``; its name must contain
   "bench") and migrates it with the portal's production settings (bench/prepare.py);
   creates through the services 3 centres and 3 missions with opening hours, pouch days,
   closures, the suspension that ended yesterday everywhere and one still in force at two
   missions (bench/track_data.py); then in set-based SQL ``--files`` passport files some
   days after a reopening, mostly waiting (queued, on hold, enrolled) or in production,
   the others ready, delivered, in transit or rejected, each with a date of birth and one
   event per step of its way (bench/track_files.sql), and ``--appointments`` appointments
   not yet enrolled (bench/track_appointments.sql); ``VACUUM ANALYZE``; writes every file's
   reference and date of birth to ``bench/out/track.lookups``;
2. starts the portal under gunicorn (bench/server.py: sync workers, 2 per core + 1) with
   ``DEBUG`` off, persistent database connections (``CONN_MAX_AGE=60``), the estimate's
   schedule kept ``TRACKING_SCHEDULE_TTL=60`` seconds per process (the default), and the
   rate limits ON, counted in Redis (``--redis-url``, default db 10, flushed before and
   after) as in production, with ``TRACK_RATE`` and ``TRACK_REFERENCE_RATE`` so high that
   they never trigger: their Redis round trips are in the figures, a 429 is not;
3. checks on a few files of each status and a few appointments (bench/track_checks.py):
   the API and the floor give the same status and steps, another date of birth answers
   404 from both, the appointments are found; counts the SQL statements of one lookup of
   each (in this process, the schedule read beforehand) and times a read of the schedule;
4. warms each phase up (``--warmup`` seconds), then measures with wrk, ``--clients``
   keep-alive connections, each GETting one lookup after another for a file drawn at
   random among all (bench/track.lua):

   - **floor**: ``GET /bench/track-floor/``, a view that reads the file row by reference
     and its events, two SQL statements, and answers JSON (bench/track_floor.py), behind
     the same middleware, in the same server;
   - **track**: ``GET /api/v1/track/`` itself;

   in ``--rounds`` alternating rounds (floor, track, track, floor...) that add up to
   ``--duration`` seconds each (bench/load.py);
5. prints, per phase, requests, answers by status, requests per second, p50/p95/p99
   latency and CPU time and per request; then the ratio of the track phase's requests per
   second to the floor's, its p95 and the queries per lookup, against the goals; writes the
   figures to ``bench/out/track.json``; stops gunicorn, drops the database and flushes
   Redis (``--keep`` keeps the database).

Exit status 1 when wrk is missing and cannot be installed, an answer was not a 200 (warm-ups
included), a socket failed, a check of step 3 failed or gunicorn logged an error; 0
otherwise, or 2 with ``--strict`` when a goal is missed. The goals: the track phase at least
50% of the floor's requests per second, its p95 under
50 ms at 32 clients, the same number of queries for a lookup whatever the file's status and
the size of the queue (the last is asserted by tests/test_bench_track.py on small data). The
machine is shared and noisy: read the ratio to the floor of the same run, never a bare
figure.

Measured on 2 cores, machine busy with other work: the track phase at 18.5% and 16.6% of
the floor (125 and 91 against 676 and 548 requests/s), p95 411 and 554 ms; 4.7 to 5.0 ms of
gunicorn's CPU per lookup against the floor's 0.8 to 0.9 ms; 2 queries per file lookup.
The README's "Tracking benchmark" says where the time goes and what was tried.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path, where its modules (settings,
    # urls...) would shadow others: the repository goes there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import prepare, server, track_checks, track_data
from bench.figures import LookupResult, print_lookups
from bench.load import Driver, Run, alternate, wrk_available
from bench.report import conclude, log_problems

PATHS = {"floor": track_checks.FLOOR_PATH, "track": track_checks.API_PATH}
GOAL_RATIO = 0.5
GOAL_P95_MS = 50.0
# Lookups per minute no client of the benchmark reaches: the limits are counted, never hit.
UNREACHED_RATE = "1000000000/m"


@dataclass
class Lookups:
    """What the clients of one run send: GET `path` for files drawn from `file`."""

    path: str
    file: Path
    script: ClassVar[Path] = Path(__file__).resolve().with_name("track.lua")

    def environment(self, threads: int) -> dict[str, str]:
        return {"TRACK_LOOKUPS": str(self.file)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server.add_arguments(parser)
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating rounds of floor and track (4)"
    )
    parser.add_argument("--files", type=int, default=200_000, help="passport files (200000)")
    parser.add_argument(
        "--appointments", type=int, default=2000, help="appointments not yet enrolled (2000)"
    )
    prepare.add_arguments(parser, database="epassport_bench_track", redis_db=10, out="track.json")
    args = parser.parse_args(argv)
    server.settle_arguments(args)
    if min(args.files, args.clients, args.rounds) < 1 or args.appointments < 0:
        parser.error("--files, --clients and --rounds must be at least 1")
    prepare.check_arguments(parser, args)
    return args


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """The portal's production settings as the other benchmarks run them, with the rate
    limits on but never reached, and the estimate's schedule kept as in production."""
    env = prepare.server_env(args)
    env.update(
        RATE_LIMITS="true",
        TRACK_RATE=UNREACHED_RATE,
        TRACK_REFERENCE_RATE=UNREACHED_RATE,
        TRACKING_SCHEDULE_TTL="60",
    )
    return env


def set_up(args: argparse.Namespace, env: dict[str, str], lookups: Path) -> dict:
    """Migrate and fill the database (in this process, through Django); returns what it
    holds."""
    import django

    prepare.migrate(env)
    django.setup()
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    offices = track_data.create_offices(files=args.files, now=now)
    with connection.cursor() as cursor:
        track_data.fill(cursor, files=args.files, offices=offices, now=now)
        booked = track_data.add_appointments(cursor, count=args.appointments, now=now)
        cursor.execute("VACUUM ANALYZE")
        written = track_data.write_lookups(cursor, lookups)
        statuses = track_data.statuses(cursor)
        samples = track_data.samples(cursor)
    return {
        "statuses": statuses,
        "appointments": booked,
        "daily_capacities": offices.capacities,
        "lookups": written,
        "samples": samples,
    }


def measure(
    args: argparse.Namespace, driver: Driver, lookups: Path
) -> tuple[dict[str, list[Run]], dict[str, list[Run]]]:
    """Warm-ups, then the floor and track phases in alternating rounds. Returns the measured
    runs and all runs (warm-ups included), by phase."""
    runs: dict[str, list[Run]] = {name: [] for name in PATHS}
    measured: dict[str, list[Run]] = {name: [] for name in PATHS}

    def one(name: str, seconds: int) -> Run:
        run = driver.run(Lookups(PATHS[name], lookups), args.clients, seconds)
        runs[name].append(run)
        return run

    if args.warmup > 0:
        for name in PATHS:
            one(name, max(1, round(args.warmup)))
    each = max(1, round(args.duration / args.rounds))
    for name in alternate(list(PATHS), args.rounds):
        measured[name].append(one(name, each))
    return measured, runs


def find_problems(runs: dict[str, list[Run]], checked: list[str], gunicorn_log: str) -> list[str]:
    """What makes the run fail (exit status 1), whatever the figures."""
    problems = [f"check: {problem}" for problem in checked]
    for name, phase_runs in runs.items():
        result = LookupResult.of(name, PATHS[name], 0, phase_runs)
        if unexpected := {k: v for k, v in result.statuses.items() if k != "200"}:
            problems.append(f"{name} (warm-up included): statuses {unexpected} {result.codes}")
        if result.socket_errors:
            problems.append(f"{name} (warm-up included): {result.socket_errors} socket errors")
    return problems + log_problems(gunicorn_log, "track.gunicorn.log")


def report(
    args: argparse.Namespace,
    data: dict,
    results: dict[str, LookupResult],
    queries: dict[str, list[int]],
    problems: list[str],
) -> int:
    """Prints the summary, writes the JSON and returns the exit status."""
    floor, track = results["floor"], results["track"]
    ratio = track.requests_per_second / floor.requests_per_second
    file_counts = {
        n for status, counts in queries.items() if status != "appointment" for n in counts
    }
    goals = {
        "ratio": ratio >= GOAL_RATIO,
        "p95": track.p95_ms < GOAL_P95_MS,
        "constant_queries": len(file_counts) == 1,
    }
    verdict = {True: "OK", False: "MISSED"}
    print("\n== summary")
    print(
        f"  track/floor       {ratio:.1%} ({track.requests_per_second} / "
        f"{floor.requests_per_second} requests/s; goal >= {GOAL_RATIO:.0%}): "
        f"{verdict[goals['ratio']]}"
    )
    print(
        f"  track p95         {track.p95_ms} ms at {args.clients} clients (goal < "
        f"{GOAL_P95_MS:.0f} ms): {verdict[goals['p95']]}"
    )
    shown = ", ".join(f"{status} {sorted(set(n))}" for status, n in sorted(queries.items()))
    print(f"  queries/lookup    {shown}: {verdict[goals['constant_queries']]}")
    print(
        f"  schedule read     {data['schedule_seconds'] * 1000:.0f} ms (per process, every 60 s)"
    )
    data = {
        **data,
        "clients": args.clients,
        "duration": args.duration,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "load_generator": "wrk",
        "phases": {name: asdict(result) for name, result in results.items()},
        "ratio_track_to_floor": round(ratio, 4),
        "queries_per_lookup": queries,
        "goals": goals,
    }
    return conclude(args, problems, goals, data, width=18)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    (prepare.OUT_DIR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT, left empty
    env = server_env(args)
    os.environ.update(env)  # this process uses Django too (set-up, checks)
    wrk = wrk_available()
    if wrk is None:
        print("wrk is missing and could not be installed", file=sys.stderr)
        return 1
    log = prepare.OUT_DIR / "track.gunicorn.log"
    lookups = prepare.OUT_DIR / "track.lookups"
    try:
        started = time.monotonic()
        print(f"database {args.database_url}: re-creating, migrating, filling…", flush=True)
        with prepare.throwaway(args):
            data = set_up(args, env, lookups)
            samples = data.pop("samples")
            data["setup_seconds"] = round(time.monotonic() - started, 1)
            data["files"] = args.files
            print(
                f"set-up in {data['setup_seconds']:.0f}s: {args.files:,} files "
                f"({', '.join(f'{k} {v:,}' for k, v in data['statuses'].items())}), "
                f"{data['appointments']:,} appointments; daily capacities "
                f"{data['daily_capacities']}",
                flush=True,
            )
            from django.test import Client

            client = Client(HTTP_HOST="127.0.0.1")  # one of ALLOWED_HOSTS
            queries = track_checks.queries_per_lookup(client, samples)
            data["schedule_seconds"] = round(track_checks.schedule_seconds(), 3)
            with server.serving(args, env, log) as (gunicorn, command, port):
                data["gunicorn"] = " ".join(command[1:])
                checked = track_checks.compare(track_checks.http_get(port), samples)
                print(
                    f"{data['gunicorn']}\nload generator: wrk, {args.clients} clients, "
                    f"a random file of {data['lookups']:,} each request; {args.rounds} "
                    f"alternating rounds of floor and track; checks on {len(samples)} "
                    f"lookups: {'OK' if not checked else 'FAILED'}",
                    flush=True,
                )
                driver = Driver(wrk, port, gunicorn.pid, prepare.database_name(args.database_url))
                measured, runs = measure(args, driver, lookups)
            results = {
                name: LookupResult.of(name, PATHS[name], args.clients, measured[name])
                for name in PATHS
            }
            for result in results.values():
                print_lookups(result)
            problems = find_problems(runs, checked, log.read_text())
            return report(args, data, results, queries, problems)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
