"""Booking rush: how fast the portal takes bookings, against a floor measured in the same run.

    .venv/bin/python bench/booking_rush.py [--clients 32] [--duration 20] [--slots 20000]

Each run starts from scratch:

1. set-up (bench/prepare.py): drops and re-creates a throwaway database
   (``--database-url``, default ``postgres://postgres@127.0.0.1:5432/epassport_bench``; its
   name must contain "bench") on the machine's PostgreSQL, runs ``migrate``, creates one
   office with ``--slots`` future slots of ``--capacity`` seats, two "hot" slots, a past
   (``--history`` full past slots with their appointments and sent messages: a served
   office's tables are never empty, bench/prepare.py says why it matters), and the floor's
   two tables (bench/floor.py) with as many seats;
2. starts the portal under gunicorn (bench/server.py) with the benchmark's settings
   (bench/settings.py, and bench/wsgi.py, which puts the bare floor at ``/bench/floor/``
   in front of the portal), ``DEBUG``
   off, persistent database connections (``CONN_MAX_AGE=60``), a dedicated Redis database
   (``--redis-url``, default db 9, flushed before and after: the notification tasks that
   bookings queue stay there, no worker runs), no booking challenge and no rate limit, on a
   free port of 127.0.0.1;
3. warms each phase up (``--warmup`` seconds), then measures (bench/load.py), with
   ``--clients`` concurrent wrk clients on keep-alive connections, each POSTing one booking
   after another with a unique JSON body (bench/booking_rush.lua):

   - **floor**: ``POST /bench/floor/``, a bare WSGI function (no Django, no middleware)
     that runs with psycopg2 only the two SQL statements of a booking (conditional
     ``UPDATE`` of the slot's counter, ``INSERT`` of the booking) in one transaction, in the
     same server, with the same workers;
   - **spread**: ``POST /api/v1/bookings/`` over ``--slots`` slots in round robin, so that
     concurrent bookings almost never meet on a slot;
   - **hot**: every client books the same slot for ``--hot-duration`` seconds: exactly
     ``--capacity`` bookings must succeed and every other answer be ``409 slot_full``.

   The floor and spread phases run in ``--rounds`` alternating rounds (floor, spread,
   spread, floor, ...) that add up to ``--duration`` seconds each, so that a change of the
   machine's load during the run weighs on both alike (bench/figures.py merges them);
4. prints, per phase, requests, 201s, 409s by code, other statuses, requests and bookings
   per second, p50/p95/p99 latency, the CPU time of gunicorn, of the PostgreSQL backends of
   the benchmark's database, of wrk and of the rest of the machine (other people's work on
   a shared machine), and CPU per request; then (bench/report.py) the ratio of the spread
   phase's bookings per second to the floor's, whether the spread p95 is under 100 ms, a
   refusal's gunicorn CPU against a booking's (hot against spread), and
   the number of overbooked slots, counted in SQL from the appointments in seat-holding
   statuses per slot against its capacity (not from ``Slot.booked`` and its trigger). The
   figures also go to ``bench/out/booking_rush.json``;
5. stops gunicorn, drops the database and flushes the Redis database, also on Ctrl-C and
   on errors (``--keep`` keeps the database for inspection).

Exit status 1 when wrk is missing and cannot be installed with apt-get, an answer was
neither a 201 nor a 409 (a 5xx for instance), a socket failed, a slot is overbooked, the
201s do not match the rows in the database, or the hot slot did not get exactly its
capacity, or the floor or spread phase ran out of seats (raise ``--slots``); 0 otherwise,
or 2 with ``--strict`` when a goal is missed. The goals, on a 2-core machine: spread
bookings per second at least 25% of the bare floor's, spread p95 under 100 ms at 32
clients, a refusal at most half a booking's CPU, no overbooked slot. The machine is shared
and noisy: read the ratio to the floor of the same run, never a bare figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path, where its modules (settings,
    # urls...) would shadow others: the repository goes there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import prepare, server
from bench.figures import PhaseResult, print_phase
from bench.load import BOOKING_PATH, PATHS, Driver, measure, wrk_available
from bench.report import database_counts, report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server.add_arguments(parser)
    parser.add_argument(
        "--hot-duration", type=float, default=None, help="seconds of the hot phase (duration/2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of floor and spread (3)"
    )
    parser.add_argument("--slots", type=int, default=20000, help="slots to spread over (20000)")
    parser.add_argument("--capacity", type=int, default=4, help="seats per slot (4)")
    parser.add_argument(
        "--history",
        type=int,
        default=20000,
        help="past slots, full, with their appointments and sent messages (20000)",
    )
    parser.add_argument(
        "--loadgen",
        default="auto",
        choices=["auto", "wrk"],
        help="load generator: wrk, the only one (auto: the same)",
    )
    parser.add_argument(
        "--phases", default="floor,spread,hot", help="comma-separated subset, in this order"
    )
    prepare.add_arguments(parser, database="epassport_bench", redis_db=9, out="booking_rush.json")
    args = parser.parse_args(argv)
    server.settle_arguments(args)
    if args.hot_duration is None:
        args.hot_duration = max(args.duration / 2, 1)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - {"floor", "spread", "hot"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    prepare.check_arguments(parser, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    (prepare.OUT_DIR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT, left empty
    env = prepare.server_env(args)
    os.environ.update(env)  # this process uses Django too (fixture and final counts)
    wrk = wrk_available()
    if wrk is None:
        print("wrk is missing and could not be installed", file=sys.stderr)
        return 1
    log = prepare.OUT_DIR / "booking_rush.gunicorn.log"
    try:
        started = time.monotonic()
        print(f"database {args.database_url}: re-creating and migrating…", flush=True)
        with prepare.throwaway(args):
            prepare.migrate(env)
            fixture = prepare.create_fixture(
                slots=args.slots, capacity=args.capacity, history=args.history
            )
            with server.serving(args, env, log) as (gunicorn, command, port):
                print(
                    f"set-up in {time.monotonic() - started:.0f}s; {' '.join(command[1:])}\n"
                    f"load generator: wrk; {args.slots} slots x {args.capacity} seats (and as "
                    f"many on the floor); {args.rounds} alternating rounds of floor and spread",
                    flush=True,
                )
                phases = list(args.phases)
                if {"spread", "hot"} & set(phases) and not server.answers_on(port, BOOKING_PATH):
                    print(f"\n!! {BOOKING_PATH} answers 404: only the floor is measured.")
                    phases = [p for p in phases if p == "floor"]
                driver = Driver(wrk, port, gunicorn.pid, prepare.database_name(args.database_url))
                measured, runs = measure(args, driver, fixture, phases)
                results = {
                    name: PhaseResult.of(name, PATHS[name], args.clients, measured[name])
                    for name in phases
                }
                for result in results.values():
                    print_phase(result)
                counts = database_counts(fixture)
                return report(args, command, results, runs, counts, log.read_text())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
