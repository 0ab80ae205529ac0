"""The reopening benchmark (bench/reopening.py) end to end, small: 60 applicants for 40 seats
and an attacker with 16 addresses, through gunicorn, a Celery worker and beat, with the
production defaults (proof of work, contact verification, rate limits, waiting room). It must
run through, with no 5xx and no overbooked seat; its times and shares are not checked here
(they are the benchmark's figures, not a property of the code). Its own Kendall's tau and
percentiles are checked against small cases worked by hand."""

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings

from bench.reopening_figures import kendall_tau, percentile
from bench.reopening_http import solve
from bench.reopening_people import Applicant
from bench.reopening_summary import in_turn, line_order

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    """A throwaway database of the benchmark on the tests' PostgreSQL server."""
    database = settings.DATABASES["default"]
    user = urllib.parse.quote(database.get("USER") or "postgres")
    password = database.get("PASSWORD")
    auth = f"{user}:{urllib.parse.quote(password)}" if password else user
    host, port = database.get("HOST") or "", database.get("PORT") or ""
    # Of this process: two runs at once (two people's test runs) must not drop each other's.
    name = f"epassport_bench_reopening_smoke_{os.getpid()}"
    if host.startswith("/"):  # a unix socket (the embedded server)
        return f"postgresql://{auth}@/{name}?host={urllib.parse.quote(host)}"
    return f"postgresql://{auth}@{host or '127.0.0.1'}:{port or 5432}/{name}"


def _redis_url() -> str:
    """A database of its own on the tests' Redis server (flushed by the benchmark, and the
    Celery broker of its worker), one of 11-15 by process: two runs at once rarely share."""
    db = 11 + os.getpid() % 5
    parts = urllib.parse.urlsplit(settings.REDIS_URL)
    if parts.scheme == "unix":
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["db"] = str(db)
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


@pytest.mark.timeout(240)
def test_a_small_reopening_runs_without_5xx_or_overbooking(tmp_path):
    out = tmp_path / "reopening.json"
    command = [
        sys.executable,
        "bench/reopening.py",
        "--quick",
        *("--applicants", "60", "--seats", "40", "--attacker-addresses", "16"),
        *("--attacker-connections", "8", "--attacker-early", "10", "--window", "20"),
        *("--marks", "0,0.5", "--workers", "3"),
        *("--database-url", _database_url(), "--redis-url", _redis_url()),
        *("--out", str(out)),
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    figures = json.loads(out.read_text())
    assert figures["problems"] == []
    assert figures["server_errors"] == 0
    assert figures["database"]["overbooked_seats"] == 0
    assert figures["goals"]["no_5xx"]
    assert figures["goals"]["no_overbooking"]
    # It ran: people booked, the attacker held seats, every mark was sampled.
    assert figures["applicants"] == 60
    assert figures["seats"] == 40
    assert figures["booked"] + figures["attacker"]["holds"] > 0
    assert all(mark is not None for mark in figures["marks"].values())
    assert "== goals" in run.stdout


def test_kendall_tau_of_small_rankings():
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    # One swapped pair of six: (5 - 1) / 6.
    assert kendall_tau([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(4 / 6)
    # Ties (tau-b): x = [1, 1, 2], y = [1, 2, 3]: 2 concordant, 1 tied in x.
    assert kendall_tau([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / (3 * 2) ** 0.5)
    assert kendall_tau([1], [1]) is None


def test_percentiles():
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2
    assert percentile(list(range(101)), 95) == 95
    assert percentile([0, 10], 95) == pytest.approx(9.5)


def test_the_proof_of_work_is_solved_as_the_server_checks_it():
    from altcha import v1 as altcha

    from appointments import protection

    challenge = protection.challenge_create()
    payload = solve(challenge)
    assert payload is not None
    assert protection._decode(payload) is not None
    ok, error = altcha.verify_solution(payload, protection._hmac_key(), check_expires=True)
    assert ok, error


def test_whose_turn_came_while_seats_remained():
    """The early ones as one group (the draw orders them), then the later ones by arrival,
    then those whose place went to the back of the line (past their address's bound)."""

    def person(number: int, arrival: float, *, seat: bool) -> Applicant:
        someone = Applicant(number, f"41.64.{number}.17", arrival, behind_nat=False)
        someone.confirmed = 60.0 if seat else None
        return someone

    early = [person(0, -30, seat=True), person(1, -20, seat=False), person(2, -10, seat=True)]
    later = [person(3, 5, seat=True), person(4, 2, seat=True), person(5, 9, seat=False)]
    back = [person(6, -50, seat=False)]  # arrived first, but past its address's bound
    groups = line_order(early + later + back, behind={6})
    assert groups[0] == early
    assert [g[0].number for g in groups[1:]] == [4, 3, 5, 6]
    # 4 seats: the three early ones and the first later one; one early one has none.
    entitled, missed = in_turn(groups, 4)
    assert (entitled, [p.number for p in missed]) == (4, [1])
    # 2 seats: two of the early ones, whichever: two of them have one, nobody is missing.
    assert in_turn(groups, 2) == (2, [])
    # 7 seats: everyone, the one at the back included.
    entitled, missed = in_turn(groups, 7)
    assert (entitled, sorted(p.number for p in missed)) == (7, [1, 5, 6])
