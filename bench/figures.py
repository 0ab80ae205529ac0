"""The figures of one phase of a benchmark served over HTTP, from its wrk runs: requests per
second, answers by status and code, latency percentiles and CPU time (`timing`,
`print_timing`); for the booking rush also bookings per second (`PhaseResult`), for tracking
the answers by status (`LookupResult`); printed per phase.

Each run reports its latency distribution as percentiles in 0.5% steps plus min and max
(bench/booking_rush.lua); the runs of a phase are merged through them (exact for one run,
within 0.5% for several).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

from bench.load import Run


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


def add_counts(total: dict, more: dict) -> None:
    for key, number in more.items():
        total[key] = total.get(key, 0) + number


def timing(runs: list[Run]) -> dict:
    """The figures every phase has: seconds, requests, socket errors, requests per second,
    p50/p95/p99 and max latency, CPU seconds by side."""
    seconds = sum(run.seconds for run in runs)
    requests = sum(run.requests for run in runs)
    cpu: dict[str, float] = {}
    for run in runs:
        add_counts(cpu, run.cpu)
    return {
        "seconds": round(seconds, 2),
        "requests": requests,
        "socket_errors": sum(run.socket_errors for run in runs),
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(merged_percentile(runs, 50), 1),
        "p95_ms": round(merged_percentile(runs, 95), 1),
        "p99_ms": round(merged_percentile(runs, 99), 1),
        "max_ms": round(
            max((run.quantiles[-1][1] for run in runs if run.quantiles), default=0), 1
        ),
        "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
    }


def answers(runs: list[Run]) -> tuple[dict[int, int], dict[str, int]]:
    """Answers by status, and by code."""
    statuses: dict[int, int] = {}
    codes: dict[str, int] = {}
    for run in runs:
        add_counts(statuses, run.statuses)
        add_counts(codes, run.codes)
    return statuses, codes


@dataclass
class Phase:
    """The figures every phase has (see `timing`)."""

    name: str
    path: str
    clients: int
    runs: int
    seconds: float
    requests: int
    socket_errors: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu_seconds: dict[str, float]


@dataclass
class PhaseResult(Phase):
    """A phase of the booking rush."""

    created: int
    conflicts: dict[str, int]  # 409s by code
    other_statuses: dict[str, int]  # anything but 201 and 409, by status
    bookings_per_second: float

    @classmethod
    def of(cls, name: str, path: str, clients: int, runs: list[Run]) -> PhaseResult:
        figures = timing(runs)
        statuses, codes = answers(runs)
        created = statuses.get(201, 0)
        seconds = figures["seconds"]
        return cls(
            name=name,
            path=path,
            clients=clients,
            runs=len(runs),
            created=created,
            conflicts=dict(sorted(codes.items())),
            other_statuses={str(k): v for k, v in sorted(statuses.items()) if k not in (201, 409)},
            bookings_per_second=round(created / seconds, 1) if seconds else 0.0,
            **figures,
        )


@dataclass
class LookupResult(Phase):
    """A phase of GET requests (tracking), each expected to answer 200."""

    statuses: dict[str, int]
    codes: dict[str, int]  # of 400, 404 and 429 answers

    @classmethod
    def of(cls, name: str, path: str, clients: int, runs: list[Run]) -> LookupResult:
        statuses, codes = answers(runs)
        return cls(
            name=name,
            path=path,
            clients=clients,
            runs=len(runs),
            statuses={str(k): v for k, v in sorted(statuses.items())},
            codes=dict(sorted(codes.items())),
            **timing(runs),
        )


def print_timing(result: Phase) -> None:
    """The latency and CPU lines of a phase."""
    cpu = ", ".join(f"{k} {v:.1f}s" for k, v in result.cpu_seconds.items())
    cpu = cpu.replace("others", "rest of the machine")
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


def _heading(result: Phase, method: str) -> None:
    runs = f" in {result.runs} runs" if result.runs > 1 else ""
    print(
        f"\n== {result.name}: {method} {result.path}, {result.clients} clients, "
        f"{result.seconds}s{runs}"
    )
    print(f"  requests          {result.requests}")


def print_phase(result: PhaseResult) -> None:
    conflicts = ", ".join(f"{k} {v}" for k, v in result.conflicts.items()) or "none"
    other = ", ".join(f"{k}: {v}" for k, v in result.other_statuses.items()) or "none"
    _heading(result, "POST")
    print(f"  201 created       {result.created}")
    print(f"  409 by code       {conflicts}")
    print(f"  other statuses    {other}; socket errors: {result.socket_errors}")
    print(f"  requests/s        {result.requests_per_second}")
    print(f"  bookings/s        {result.bookings_per_second}")
    print_timing(result)


def print_lookups(result: LookupResult) -> None:
    statuses = ", ".join(f"{k}: {v}" for k, v in result.statuses.items()) or "none"
    codes = ", ".join(f"{k} {v}" for k, v in result.codes.items())
    _heading(result, "GET")
    print(f"  statuses          {statuses}" + (f" ({codes})" if codes else ""))
    print(f"  socket errors     {result.socket_errors}")
    print(f"  requests/s        {result.requests_per_second}")
    print_timing(result)
