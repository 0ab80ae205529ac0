"""The report of the booking-rush benchmark: what the database holds after the run, the
checks (no answer but 201 and 409, no overbooking, the 201s match the rows, the hot slot got
exactly its seats), the goals (spread/floor ratio, spread p95), the summary printed and the
figures written as JSON to bench/out/."""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict

from bench.figures import PhaseResult, add_counts
from bench.load import Run
from bench.prepare import REPO, Fixture

SEAT_HOLDING = ("booked", "checked_in", "enrolled", "no_show")
HISTORY_NATIONAL_IDS = "HIST%"  # the office's past (bench/prepare.py, HISTORY_SQL)
# Against the bare floor (bench/floor.py: a WSGI function and the two SQL statements, without
# Django): the booking API's bookings per second, its p95, and a slot_full refusal's CPU in
# gunicorn as a share of a booking's (in a rush most answers are refusals).
GOAL_RATIO = 0.25
GOAL_P95_MS = 100.0
GOAL_REFUSAL_CPU = 0.5
GOAL_CLIENTS = 32
GUNICORN_ERRORS = ("Traceback", "[ERROR]", "[CRITICAL]")


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
            "SELECT count(*) FROM appointments_appointment WHERE status = ANY(%s)"
            " AND national_id NOT LIKE %s",
            [seat_holding, HISTORY_NATIONAL_IDS],
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


def answered(runs: dict[str, list[Run]]) -> tuple[dict[str, int], dict[str, int]]:
    """The 201s of each phase (warm-ups included) and its requests left in flight: wrk stops
    at its deadline without reading those answers; they may have been carried out."""
    created = {name: sum(run.statuses.get(201, 0) for run in rs) for name, rs in runs.items()}
    in_flight = {name: sum(run.in_flight for run in rs) for name, rs in runs.items()}
    return created, in_flight


def api_total(by_phase: dict[str, int]) -> int:
    """The part of the booking API's phases."""
    return by_phase.get("spread", 0) + by_phase.get("hot", 0)


def find_problems(
    capacity: int,
    results: dict[str, PhaseResult],
    runs: dict[str, list[Run]],
    counts: dict[str, int],
    gunicorn_log: str,
) -> list[str]:
    """What makes the run fail (exit status 1), whatever the figures."""
    problems = []
    for name, phase_runs in runs.items():
        statuses: dict[int, int] = {}
        for run in phase_runs:
            add_counts(statuses, run.statuses)
        unexpected = {k: v for k, v in statuses.items() if k not in (201, 409)}
        if unexpected:
            problems.append(f"{name} (warm-up included): unexpected statuses {unexpected}")
        if errors := sum(run.socket_errors for run in phase_runs):
            problems.append(f"{name} (warm-up included): {errors} socket errors or timeouts")
    created, in_flight = answered(runs)
    api_created, api_in_flight = api_total(created), api_total(in_flight)
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
        if counts["hot_slot_appointments"] != capacity:
            problems.append(
                f"the hot slot holds {counts['hot_slot_appointments']} appointments, "
                f"not its {capacity} seats"
            )
        if results["hot"].created != capacity:
            problems.append(f"hot slot: {results['hot'].created} 201s, not {capacity}")
        unexpected = {k: v for k, v in results["hot"].conflicts.items() if k != "slot_full"}
        if unexpected:
            problems.append(f"hot slot: 409s other than slot_full: {unexpected}")
    for name in ("floor", "spread"):
        full = results[name].conflicts.get("slot_full", 0) if name in results else 0
        if full:  # the ratio would compare refusals with bookings
            problems.append(f"the {name} phase ran out of seats ({full} slot_full): raise --slots")
    return problems + log_problems(gunicorn_log, "booking_rush.gunicorn.log")


def log_problems(gunicorn_log: str, name: str) -> list[str]:
    """An error in the server's log (written to bench/out/`name`), if any."""
    if any(marker in gunicorn_log for marker in GUNICORN_ERRORS):
        return [f"gunicorn logged errors (bench/out/{name})"]
    return []


def refusal_cost(results: dict[str, PhaseResult]) -> float | None:
    """gunicorn's CPU per request of the hot phase (nearly all slot_full refusals) over that
    of the spread phase (all bookings); None without both."""
    hot, spread = results.get("hot"), results.get("spread")
    if not hot or not spread or not hot.requests or not spread.requests:
        return None
    per_booking = spread.cpu_seconds.get("gunicorn", 0) / spread.requests
    per_refusal = hot.cpu_seconds.get("gunicorn", 0) / hot.requests
    return per_refusal / per_booking if per_booking else None


def report(
    args: argparse.Namespace,
    command: list[str],
    results: dict[str, PhaseResult],
    runs: dict[str, list[Run]],
    counts: dict[str, int],
    gunicorn_log: str,
) -> int:
    """Prints the summary, writes the JSON and returns the exit status."""
    problems = find_problems(args.capacity, results, runs, counts, gunicorn_log)
    created, in_flight = answered(runs)

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
    refusal = refusal_cost(results)
    if refusal is not None:
        goals["refusal_cpu"] = refusal <= GOAL_REFUSAL_CPU
        print(
            f"  refusal/booking   {refusal:.2f} of a booking's gunicorn CPU per request (goal "
            f"<= {GOAL_REFUSAL_CPU}): {'OK' if goals['refusal_cpu'] else 'MISSED'}"
        )
    goals["overbooked"] = counts["overbooked_slots"] == 0
    print(
        f"  overbooked slots  {counts['overbooked_slots']} (seat-holding appointments per "
        f"slot vs capacity; floor: {counts['overbooked_floor_slots']})"
    )
    api_created, floor_created = api_total(created), created.get("floor", 0)
    print(
        f"  database          {counts['appointments']} appointments for {api_created} 201s, "
        f"{counts['floor_bookings']} floor rows for {floor_created} 201s (and "
        f"{api_total(in_flight)} + {in_flight.get('floor', 0)} requests left in flight by wrk)"
    )
    data = {
        "clients": args.clients,
        "duration": args.duration,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "slots": args.slots,
        "capacity": args.capacity,
        "load_generator": "wrk",
        "gunicorn": " ".join(command[1:]),
        "phases": {name: asdict(result) for name, result in results.items()},
        "ratio_spread_to_floor": round(ratio, 4) if ratio is not None else None,
        "refusal_cpu_to_booking": round(refusal, 4) if refusal is not None else None,
        "goals": goals,
        "database": counts,
    }
    return conclude(args, problems, goals, data, width=18)


def conclude(
    args: argparse.Namespace, problems: list[str], goals: dict[str, bool], data: dict, width: int
) -> int:
    """The end of a benchmark's summary (bench/booking_rush.py, bench/backlog.py): its
    problems, its verdict and where its figures went (`data`, with the time, the cores and
    the problems, written as JSON to --out); returns the exit status: 1 when something is
    wrong, 2 with --strict when a goal is missed, 0 otherwise."""
    for problem in problems:
        print(f"  FAILED: {problem}")
    missed = [name for name, ok in goals.items() if not ok]
    verdict = "FAILED" if problems else f"goals missed: {', '.join(missed)}" if missed else "OK"
    print(f"  {'result':<{width}}{verdict}")
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": os.cpu_count(),
        **data,
        "problems": problems,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    shown = args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out
    print(f"  {'figures':<{width}}{shown}")
    if problems:
        return 1
    return 2 if missed and args.strict else 0
