"""Backlog: how fast the dispatcher takes queued files into production, against a floor
measured in the same run on an identical copy.

    .venv/bin/python bench/backlog.py [--files 100000] [--centres 4] [--workers 1,2]

1. set-up: drops and re-creates a throwaway database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/epassport_bench_backlog``; its name must contain
   "bench") on the machine's PostgreSQL and migrates it, with the portal's production
   settings (``DEBUG`` off: bench/prepare.py); creates ``--centres`` production centres
   through the services, each with a daily capacity of its share of the files (capacity for
   all), and ``--files`` queued passport files spread over them in one statement, each with
   its event (bench/backlog_files.sql); then ``VACUUM ANALYZE``;
2. for each phase, clones that database (``CREATE DATABASE ... TEMPLATE``), so that every
   phase starts from an identical copy, writes a checkpoint, then times:

   - **floor**: one set-based statement doing the dispatcher's status updates (``queued``
     to ``in_production`` in the centre's batch of the day) and event inserts, without
     chunks, locks, priority order or Python (bench/backlog_floor.sql);
   - **dispatcher xN** for each N of ``--workers``: N processes running
     production.backlog.backlog_run at once on the copy (bench/backlog_worker.py), timed
     from the first start to the last end, once each has set Django up and connected;

   ``--chunk`` gives the dispatcher another chunk size than its own (core.chunks.CHUNK);
   ``--rounds`` runs every phase that many times, in alternating order, on fresh copies;
   a phase's figure is its best round;
3. after each phase, checks exactly-once in SQL on the result (bench/backlog_verify.sql):
   every file ``in_production`` once, with one event to ``in_production``, in a batch of
   its centre whose size is the number of its files and within capacity, none left queued;
4. prints each phase's seconds, files per second, CPU time (PostgreSQL backends of the
   copy, the Python processes, the rest of the machine) and its time as a multiple of the
   floor's, and writes the figures to ``bench/out/backlog.json``; drops the databases
   (``--keep`` keeps them).

Exit status 1 when a check fails, 0 otherwise, or 2 with ``--strict`` when a goal is missed.
The goals (issue): the dispatcher within 2x the floor's time at 100,000 files, and within
2.5x at 1,000,000 (``--goal`` sets another). The machine is shared and noisy: read the ratio
to the floor of the same run, never a bare figure.

Measured on 2 cores (PostgreSQL 15, shared_buffers 128 MB), machine quiet: 100,000 files,
floor 22,500 files/s, dispatcher x1 1.15x its time, x2 0.70x; 1,000,000 files, floor 23,500
files/s, x1 1.30x, x2 0.71x. Two findings are behind production/sql/dispatch.sql and the
chunk size (core.chunks.CHUNK): the picked files, updated through a join with the CTE, were
found by a hash join over a sequential scan of every file, once per chunk (the planner's choice
for a table of 100,000 files: x1 1.60x, 1.31x once updated by primary key); and while an
older transaction is open anywhere on the server, the queue's index keeps the entries of
the files already taken, over which each chunk walks from the head of the queue (1,000,000
files: x1 2.23x in chunks of 1,000, 1.31x in chunks of 5,000).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import time
import urllib.parse
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path, where its modules (settings,
    # urls...) would shadow others: the repository goes there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import backlog_phases, backlog_sql, prepare
from bench.backlog_phases import Phase
from bench.report import conclude

BIG = 1_000_000  # from this many files the goal is 2.5x, below it 2x


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000, help="queued files (100000)")
    parser.add_argument("--centres", type=int, default=4, help="production centres (4)")
    parser.add_argument(
        "--workers", default="1,2", help="dispatcher processes per phase, comma-separated (1,2)"
    )
    parser.add_argument(
        "--chunk", type=int, default=None, help="core.chunks.CHUNK to try (its own)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of every phase (1)")
    parser.add_argument(
        "--goal", type=float, default=None, help="dispatcher/floor time ratio (2, 2.5 from 1M)"
    )
    prepare.add_arguments(
        parser,
        database="epassport_bench_backlog",
        redis_db=9,
        out="backlog.json",
        database_url="throwaway database, dropped and re-created with its copies (name_floor, "
        "name_x1...); its name must contain 'bench'",
        redis_url="the portal's (unused here)",
    )
    args = parser.parse_args(argv)
    try:
        args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    except ValueError:
        parser.error("--workers: comma-separated numbers, e.g. 1,2")
    numbers = [args.files, args.centres, args.rounds, args.chunk or 1, *args.workers]
    if min(numbers) < 1 or not args.workers:
        parser.error("--files, --centres, --rounds, --chunk and --workers must be at least 1")
    if args.goal is None:
        args.goal = 2.5 if args.files >= BIG else 2.0
    prepare.check_arguments(parser, args)
    return args


def copy_url(database_url: str, suffix: str) -> str:
    parts = urllib.parse.urlsplit(database_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"{parts.path}_{suffix}"))


def set_up(args: argparse.Namespace, env: dict[str, str]) -> int:
    """The database every phase copies; returns the centres' daily capacity."""
    import django
    import psycopg2

    prepare.recreate_database(args.database_url)
    prepare.migrate(env)
    capacity = math.ceil(args.files / args.centres)
    django.setup()
    from django.db import connection

    centres = backlog_sql.create_centres(count=args.centres, capacity=capacity)
    connection.close()  # nobody may be connected to a template
    database = psycopg2.connect(args.database_url)
    try:
        with database.cursor() as cursor:
            backlog_sql.fill(cursor, files=args.files, centres=centres, now=datetime.now(UTC))
        database.commit()
        database.autocommit = True
        with database.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        database.close()
    return capacity


def chunk_size() -> int:
    from core.chunks import CHUNK

    return CHUNK


def plan(args: argparse.Namespace) -> list[tuple[int, str, int]]:
    """(round, phase, workers) in running order: every other round backwards, so that a
    change of the machine's load weighs on every phase alike."""
    phases = [("floor", 0)] + [(f"dispatcher x{n}", n) for n in args.workers]
    order = []
    for number in range(args.rounds):
        for name, workers in phases if number % 2 == 0 else phases[::-1]:
            order.append((number + 1, name, workers))
    return order


def run_phase(
    args: argparse.Namespace, env: dict[str, str], number: int, name: str, workers: int
) -> Phase:
    url = copy_url(args.database_url, "floor" if workers == 0 else f"x{workers}")
    prepare.clone_database(url, template_url=args.database_url)
    try:
        prepare.checkpoint(url)
        dispatched = []
        if workers == 0:
            seconds, cpu = backlog_phases.run_floor(url)
        else:
            seconds, cpu, dispatched = backlog_phases.run_dispatcher(
                url, env, workers, prepare.OUT_DIR
            )
        found, problems = backlog_phases.verify(url, files=args.files)
    finally:
        if not args.keep:
            prepare.drop_database(url)
    taken = sum(sum(report["dispatched"].values()) for report in dispatched)
    if workers and taken != args.files:
        problems.append(f"the processes reported {taken} files dispatched, not {args.files}")
    return Phase(
        name=name,
        workers=workers,
        round=number,
        seconds=round(seconds, 3),
        files=args.files,
        files_per_second=round(args.files / seconds, 1),
        cpu_seconds=cpu,
        database=found,
        problems=problems,
        dispatched=dispatched,
    )


def print_phase(phase: Phase, floor: Phase | None) -> None:
    ratio = f"{phase.seconds / floor.seconds:.2f}x the floor" if floor else ""
    cpu = ", ".join(f"{k} {v:.1f}s" for k, v in phase.cpu_seconds.items())
    checked = "exactly-once OK" if not phase.problems else "; ".join(phase.problems)
    print(
        f"  {phase.name:<15} round {phase.round}: {phase.seconds:8.2f} s "
        f"{phase.files_per_second:>10,.0f} files/s  {ratio:<16} CPU {cpu}; {checked}",
        flush=True,
    )


def report(args: argparse.Namespace, capacity: int, setup_seconds: float, phases: list) -> int:
    """Prints the summary, writes the JSON and returns the exit status."""
    best: dict[str, Phase] = {}
    for phase in phases:
        if phase.name not in best or phase.seconds < best[phase.name].seconds:
            best[phase.name] = phase
    floor = best["floor"]
    problems = [f"{p.name} round {p.round}: {problem}" for p in phases for problem in p.problems]
    rounds = f", best of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"\n== summary: {args.files:,} files over {args.centres} centres{rounds}")
    ratios, goals = {}, {}
    for name, phase in best.items():
        ratios[name] = round(phase.seconds / floor.seconds, 3)
        line = f"  {name:<15} {phase.files_per_second:>10,.0f} files/s  {ratios[name]:.2f}x"
        if phase.workers:
            goals[name] = ratios[name] <= args.goal
            line += f" the floor's time (goal <= {args.goal}x): "
            line += "OK" if goals[name] else "MISSED"
        print(line)
    print(f"  exactly-once    {'FAILED' if problems else 'OK'} after every phase")
    data = {
        "files": args.files,
        "centres": args.centres,
        "daily_capacity": capacity,
        "rounds": args.rounds,
        "chunk": args.chunk or chunk_size(),
        "setup_seconds": round(setup_seconds, 1),
        "goal_ratio": args.goal,
        "best": {name: asdict(phase) for name, phase in best.items()},
        "ratio_to_floor": ratios,
        "goals": goals,
        "runs": [asdict(phase) for phase in phases],
    }
    return conclude(args, problems, goals, data, width=16)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prepare.OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = prepare.server_env(args)
    if args.chunk:
        env["BENCH_BACKLOG_CHUNK"] = str(args.chunk)
    os.environ.update(env)  # this process sets up the centres through Django

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        started = time.monotonic()
        print(f"database {args.database_url}: re-creating and migrating…", flush=True)
        capacity = set_up(args, env)
        setup_seconds = time.monotonic() - started
        print(
            f"set-up in {setup_seconds:.0f}s: {args.files:,} queued files over {args.centres} "
            f"centres with a daily capacity of {capacity:,} each; dispatcher chunks of "
            f"{args.chunk or chunk_size():,} files; every phase on a fresh copy",
            flush=True,
        )
        phases, floor = [], None
        for number, name, workers in plan(args):
            phase = run_phase(args, env, number, name, workers)
            floor = phase if workers == 0 else floor
            print_phase(phase, floor)
            phases.append(phase)
        return report(args, capacity, setup_seconds, phases)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        if not args.keep:
            with contextlib.suppress(Exception):
                prepare.drop_database(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
