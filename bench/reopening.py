"""Reopening: who gets the seats when booking reopens after a suspension, with the
production defaults, applicants and a tout at once.

    .venv/bin/python bench/reopening.py            # about 20 minutes; --help for the options
    .venv/bin/python bench/reopening.py --quick    # about 5 minutes, fewer people and seats

Each run starts from scratch:

1. set-up (bench/prepare.py): drops and re-creates a throwaway database (``--database-url``,
   default ``postgres://postgres@127.0.0.1:5432/epassport_bench_reopening``; its name must
   contain "bench") on the machine's PostgreSQL, migrates it, and creates one Bamako centre
   with ``--seats`` seats (1,800) in 15-minute slots of ``--capacity`` (4), suspended since a
   week (bench/reopening_figures.py); Redis db 10 (``--redis-url``) is flushed;
2. starts the portal under gunicorn (bench/server.py: sync workers, 2 per core + 1) with the
   production defaults as the README gives them: ``DEBUG`` off, contact verification on
   (``BOOKING_VERIFY_CONTACT``: a booking holds its seat 15 minutes until the code sent by
   SMS is entered), the proof of work on at its real difficulty (``BOOKING_CHALLENGE``),
   rate limits on, the waiting room on (its defaults), behind one trusted proxy
   (``TRUSTED_PROXY_COUNT=1``: each simulated client's address travels in
   X-Forwarded-For); and the outbox's sender as in production: a Celery worker (``-Q
   celery,notifications,backlog``) and beat, whose *outbox sweep* sends the SMS to a file
   (``SMS_BACKEND=core.sms.FileBackend``, bench/out/reopening.sms.log beside
   ``--out``, like the servers' logs) and renders and drops the emails
   (``EMAIL_URL=dummymail://``);
3. sets the suspension's ``reopens_at`` a little over a minute ahead, then plays the
   reopening (bench/reopening_people.py and reopening_scene.py, asyncio, bench/reopening_http.py):

   - ``--applicants`` applicants (2,000) arrive uniformly over ``--window`` seconds (120)
     centred on ``reopens_at``, each from an address of its own /24, except ``--nat-share``
     of them (10%) behind ``--nat-addresses`` (5) addresses of one carrier's /24; each with
     its own NINA, +223 phone and email: waiting-room ticket polled as the server's
     Retry-After says, admission, free slots (one of the first ten), a challenge solved in
     a process pool (``--solvers``), booking (on ``slot_full`` one of ``next_free``, and
     after two refusals the list again), the code read from the SMS file once sent,
     confirmation;
   - one attacker from ``--attacker-addresses`` (512: half in one IPv4 /24, half in one
     IPv6 /48, each in its own /64), ``--attacker-connections`` (64) at once, starting
     ``--attacker-early`` seconds (60) before ``reopens_at``, a fresh fake identity for
     every hold, solving challenges in a pool of its own (``--attacker-solvers``): tickets
     from every address, solved challenges stockpiled before the reopening, every free
     seat held at ``reopens_at``, each of its holds booked again the moment it lapses;
     never confirming (the codes go to phones it does not own).

   Until the waiting room and the hold bounds exist on the server, a 404 on the waiting
   room's endpoint means "no waiting room": everyone books without admission;
4. samples every second, in SQL, the seats taken (pending holds and bookings) by the
   attacker (its NINAs start with 9) and by applicants, and prints: the attacker's seats at
   ``reopens_at`` (10 s after it: once its first burst has landed), +5 and +15 minutes
   (``--marks``) as a share of the seats; applicants who got a seat and their p50/p95
   time from arrival to confirmed booking; Kendall's tau between admission order (the
   position the line gives when admitting) and arrival order for those who arrived after
   ``reopens_at`` (the order of their first hold when there is no waiting room); the code
   SMS sent more than 60 s after they were queued (the outbox's ``created_at`` to
   ``sent_at``); 5xx; overbooked seats (appointments taking a seat per slot against its
   capacity, in SQL).
   Goals, each PASS or FAIL: the attacker under 2% of the seats at every mark, every
   applicant whose turn in the line came while seats remained got one, p95
   arrival-to-confirmed under 5 minutes, no 5xx, 0 overbooked. Whose turn came while seats
   remained: the seats less the most the attacker held at once (no line can give those to
   an applicant; its own goal judges them), given in the line's order: those who arrived
   before ``reopens_at`` (drawn among themselves, all before anyone later), then the later
   ones in their order of arrival, then those whose place went to the back of the line
   (past their address's or network's bound, read from the line). The first ``--seats`` to
   arrive is printed too, for comparison. The figures also go to
   ``bench/out/reopening.json``;
5. stops beat, the worker and gunicorn, drops the database and flushes Redis, also on
   Ctrl-C and on errors (``--keep`` keeps the database).

The hold lasts 15 minutes (not a setting), so the +15 minutes mark needs a run of about
16 minutes after the reopening; ``--quick`` plays 400 applicants, 300 seats and a 64-address
attacker, measured at ``reopens_at`` and +3 minutes. On a 2-core machine the clients, the
solvers, the worker and PostgreSQL share the cores with gunicorn: the attacker's compute is
whatever ``--attacker-solvers`` processes get (a real one has more).

Exit status 1 when something is broken (a 5xx, an overbooked seat, an unanswered request,
an error in gunicorn's log), 2 with ``--strict`` when a goal is missed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path, where its modules (settings,
    # urls...) would shadow others: the repository goes there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import prepare, server
from bench.reopening_figures import Sampler, create_office, final_counts, set_reopening
from bench.reopening_http import Client, Tally, solve
from bench.reopening_people import applicants
from bench.reopening_scene import Attacker, attacker_addresses, play
from bench.reopening_stage import Clock, Inbox, Stage
from bench.reopening_summary import summarise
from bench.report import log_problems

QUICK = {"applicants": 400, "seats": 300, "attacker_addresses": 64, "marks": "0,3"}
FULL = {"applicants": 2000, "seats": 1800, "attacker_addresses": 512, "marks": "0,5,15"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer people, marks 0 and +3 min")
    parser.add_argument("--applicants", type=int, help="applicants (2000; quick 400)")
    parser.add_argument("--seats", type=int, help="seats of the office (1800; quick 300)")
    parser.add_argument("--capacity", type=int, default=4, help="seats per slot (4)")
    parser.add_argument(
        "--window", type=float, default=120, help="seconds of arrivals around reopens_at (120)"
    )
    parser.add_argument("--nat-share", type=float, default=0.1, help="behind NAT (0.1)")
    parser.add_argument("--nat-addresses", type=int, default=5, help="NAT addresses (5)")
    parser.add_argument(
        "--attacker-addresses", type=int, help="attacker addresses (512; quick 64; 0: none)"
    )
    parser.add_argument("--attacker-connections", type=int, default=64)
    parser.add_argument(
        "--attacker-early", type=float, default=60, help="attacker's start before (60 s)"
    )
    parser.add_argument("--solvers", type=int, default=2, help="applicants' solver processes")
    parser.add_argument("--attacker-solvers", type=int, default=1, help="attacker's (1)")
    parser.add_argument("--marks", help="minutes after reopens_at to report (0,5,15; quick 0,3)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--worker-class", default="sync", choices=["gthread", "sync"])
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=None)
    prepare.add_arguments(
        parser, database="epassport_bench_reopening", redis_db=10, out="reopening.json"
    )
    args = parser.parse_args(argv)
    server.settle_arguments(args)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.marks = sorted(float(m) for m in str(args.marks).split(",") if m.strip())
    if not args.marks or args.marks[0] < 0:
        parser.error("--marks: minutes after reopens_at, e.g. 0,5,15")
    prepare.check_arguments(parser, args)
    return args


def _beside(out: Path, suffix: str) -> Path:
    """A file of this run next to its figures (bench/out/reopening.sms.log for
    bench/out/reopening.json): two runs with different --out never share one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.with_name(f"{out.stem}.{suffix}")


def portal_env(args: argparse.Namespace) -> dict[str, str]:
    """The benchmark's environment (bench/prepare.py) with the production defaults of the
    booking path back on, behind one proxy, SMS to a file and emails rendered and dropped."""
    env = prepare.server_env(args)
    for name in ("BOOKING_CHALLENGE", "RATE_LIMITS", "BOOKING_VERIFY_CONTACT"):
        env[name] = "true"
    env.update(
        CACHE_KEY_PREFIX="bench-reopening",
        TRUSTED_PROXY_COUNT="1",
        SMS_BACKEND="core.sms.FileBackend",
        SMS_FILE_PATH=str(_beside(args.out, "sms.log")),
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
    )
    return env


@contextlib.contextmanager
def solvers(count: int):
    """A pool of `count` processes solving challenges, started before any request. Spawned,
    not forked: a child forked while requests are under way would inherit their sockets and
    keep them open after the client closed them, and gunicorn, which waits for the client's
    end of each connection (up to 2 s) before taking the next request, would stall."""
    with ProcessPoolExecutor(
        max(count, 1), mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        list(pool.map(solve, [None] * max(count, 1)))  # every process started now
        yield pool


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    (prepare.OUT_DIR / "static").mkdir(parents=True, exist_ok=True)
    env = portal_env(args)
    os.environ.update(env)  # this process uses Django too (the office, the reopening)
    log, celery_log = _beside(args.out, "gunicorn.log"), _beside(args.out, "celery.log")
    _beside(args.out, "sms.log").unlink(missing_ok=True)
    try:
        started = time.monotonic()
        print(f"database {args.database_url}: re-creating and migrating…", flush=True)
        with prepare.throwaway(args):
            prepare.migrate(env)
            office = create_office(seats=args.seats, capacity=args.capacity)
            with (
                server.serving(args, env, log) as (_gunicorn, command, port),
                server.outbox_sender(env, celery_log),
                solvers(args.solvers) as pool,
                solvers(args.attacker_solvers) as attacker_pool,
            ):
                return run(args, env, office, port, command, pool, attacker_pool, started, log)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def run(args, env, office, port, command, pool, attacker_pool, started, log) -> int:
    lead = max(args.attacker_early if args.attacker_addresses else 0, args.window / 2) + 3
    reopens_at = datetime.now(UTC) + timedelta(seconds=lead)
    set_reopening(office, reopens_at)
    clock = Clock(reopens_mono=time.monotonic() + lead, end=max(args.marks) * 60 + 2)
    print(
        f"set-up in {time.monotonic() - started:.0f}s; {' '.join(command[1:])}\n"
        f"office {office.code}: {office.seats} seats in {office.slots} slots of "
        f"{args.capacity}; reopens at {reopens_at:%H:%M:%S} UTC; {args.applicants} "
        f"applicants over {args.window:.0f} s; attacker {args.attacker_addresses} addresses "
        f"from {args.attacker_early:.0f} s before; marks {args.marks} min; run until "
        f"+{clock.end / 60:.1f} min",
        flush=True,
    )
    tallies = {"applicants": Tally(), "attacker": Tally()}
    stage = Stage(
        client=Client(port, tallies["applicants"], limit=2000),
        office=office.code,
        first_day=office.first_day,
        last_day=office.last_day,
        clock=clock,
        inbox=Inbox(_beside(args.out, "sms.log")),
        pool=pool,
    )
    people = applicants(
        args.applicants,
        window=args.window,
        nat_share=args.nat_share,
        nat_addresses=args.nat_addresses,
        seed=args.seed,
    )
    attacker = None
    if args.attacker_addresses:
        attacker = Attacker(
            addresses=attacker_addresses(args.attacker_addresses),
            connections=args.attacker_connections,
            # Enough for every connection's next few bookings: solving more would only take
            # this machine's cores from the server (a real attacker solves on its own).
            stock_target=4 * args.attacker_connections,
        )
    # The attacker's requests are counted apart, on connections of its own.
    attacker_client = Client(port, tallies["attacker"], limit=args.attacker_connections + 32)
    attacker_stage = dataclasses.replace(stage, client=attacker_client, pool=attacker_pool)
    with Sampler(args.database_url, office.id, clock) as sampler:
        progress = Progress(people, attacker, office.seats, sampler, tallies)
        asyncio.run(
            play(
                stage,
                people,
                attacker,
                attacker_stage=attacker_stage,
                attacker_start=-args.attacker_early,
                seed=args.seed,
                on_tick=progress.tick,
            )
        )
    counts = final_counts(args.database_url, office.id)
    problems = log_problems(log.read_text(), log.name)
    return summarise(
        args,
        office=office,
        people=people,
        attacker=attacker,
        sampler=sampler,
        counts=counts,
        tallies=tallies,
        room=stage.room if stage.room is not None else attacker_stage.room,
        log_problems=problems,
        command=command,
    )


class Progress:
    """A line every 15 seconds while it runs: seats taken by each side, applicants booked."""

    def __init__(self, people, attacker, seats: int, sampler: Sampler, tallies) -> None:
        self.people, self.attacker, self.seats, self.sampler = people, attacker, seats, sampler
        self.tallies = tallies
        self.next = -1e9
        self.last = (0, 0.0)
        self.answers: Counter = Counter()

    def tick(self, now: float) -> None:
        if now < self.next or not self.sampler.samples:
            return
        self.next = now + 15
        sample = self.sampler.samples[-1]
        arrived = sum(1 for p in self.people if p.arrival <= now)
        booked = sum(1 for p in self.people if p.confirmed is not None)
        holds = self.attacker.holds if self.attacker else 0
        tallies = self.tallies.values()
        requests = sum(t.requests for t in tallies)
        seconds = sum(t.seconds for t in tallies)
        done, spent = requests - self.last[0], seconds - self.last[1]
        self.last = (requests, seconds)
        answers = Counter()
        for tally in tallies:
            answers.update(tally.answers)
        busiest = (answers - self.answers).most_common(3)
        self.answers = answers
        print(
            f"  t={now:+5.0f}s  attacker {sample.attacker:>4} seats ({holds} holds)  "
            f"applicants {sample.applicants_booked:>4} booked + {sample.applicants_held:>3} "
            f"held; arrived {arrived}, confirmed {booked};  {done / 15:.0f} req/s, mean "
            f"{spent / max(done, 1):.2f} s, {sum(t.in_flight for t in tallies)} in flight, "
            f"{sum(t.no_answer for t in tallies)} unanswered\n"
            f"           most answered: {', '.join(f'{k} x{v}' for k, v in busiest)}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
